"""`stereospot demo`: a sample clip through the whole local pipeline, in this process.

The job goes the way every job goes: the source is written to storage, whose object event
queues the chunking; the segments, their conversions, the output events and the
reassembly all pass through the real queues and stores of the local platform. One
in-process worker serves every queue, so the demo needs no other process.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from stereospot.config import Platform, Settings
from stereospot.domain import keys
from stereospot.domain.formats import ConversionSettings, StereoFormat
from stereospot.domain.model import Job, JobStatus
from stereospot.domain.routing import QueueName
from stereospot.entrypoints.workers.loop import LoopOptions, Worker

logger = logging.getLogger(__name__)

ALL_QUEUES = (
    QueueName.CHUNKING,
    QueueName.VIDEO_WORKER,
    QueueName.OUTPUT_EVENTS,
    QueueName.REASSEMBLY,
)


class DemoFailed(Exception):
    """The demo job did not complete; the message says why."""


def run_demo(
    *,
    data_dir: Path | None,
    output_format: StereoFormat = StereoFormat.HALF_SBS,
    seconds: float = 6.0,
    segment_seconds: float = 2.0,
    output: Path | None = None,
    timeout_s: float = 600.0,
    report: Callable[[str], None] = lambda _line: None,
) -> Path:
    """Convert a generated clip end to end; return the absolute path of the 3D result.

    With a data directory the job stays there (the web page lists it) and the result is
    written into it; without one the demo works in a temporary directory, removed at the
    end, and the result is written to the current directory (or `output`)."""
    if data_dir is not None:
        return _run(data_dir, output_format, seconds, segment_seconds, output, timeout_s, report)
    scratch = Path(tempfile.mkdtemp(prefix="stereospot-demo-"))
    try:
        return _run(
            scratch, output_format, seconds, segment_seconds, output, timeout_s, report,
            result_dir=Path.cwd(),
        )  # fmt: skip
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _run(
    root: Path,
    output_format: StereoFormat,
    seconds: float,
    segment_seconds: float,
    output: Path | None,
    timeout_s: float,
    report: Callable[[str], None],
    result_dir: Path | None = None,
) -> Path:
    from stereospot.container import build_container
    from stereospot.domain.services import jobs
    from stereospot.entrypoints.workers.handlers import UseCaseHandler
    from stereospot.entrypoints.workers.sample_clip import write_sample_clip

    settings = Settings(platform=Platform.LOCAL, data_dir=root, segment_seconds=segment_seconds)
    container = build_container(settings)
    deps = container.deps()
    report(f"data directory: {settings.resolved_data_dir()}")

    job = jobs.create_job(
        deps, output_format=output_format, settings=ConversionSettings(), title="StereoSpot demo"
    )
    with deps.scratch.directory() as work:
        clip = write_sample_clip(work / "sample.mp4", seconds=seconds)
        report(f"sample clip: {seconds:g} s, 320x180; job {job.id}")
        deps.storage.put_file(keys.source_key(job.id), clip)  # queues the chunking

    worker = Worker(
        deps.queues,
        ALL_QUEUES,
        settings.queue_timeouts.by_queue(),
        container.platform.decoder(),
        UseCaseHandler(deps),
        LoopOptions(idle_wait_s=0.2),
    )

    def current() -> tuple[Job | None, int]:
        return deps.jobs.get(job.id), len(deps.completions.list(job.id))

    job = _drive(worker, current, timeout_s, report)
    folder = result_dir or settings.resolved_data_dir()
    dest = (output or folder / job.download_name()).resolve()
    dest.parent.mkdir(parents=True, exist_ok=True)
    deps.storage.get_file(keys.final_key(job.id), dest)
    return dest


def _drive(
    worker: Worker,
    current: Callable[[], tuple[Job | None, int]],
    timeout_s: float,
    report: Callable[[str], None],
) -> Job:
    deadline = time.monotonic() + timeout_s
    last_line = ""
    while True:
        job, converted = current()
        if job is None:
            raise DemoFailed("the demo job disappeared")
        line = _describe(job, converted)
        if line != last_line:
            report(line)
            last_line = line
        if job.status is JobStatus.COMPLETED:
            return job
        if job.status.is_terminal:
            raise DemoFailed(f"the demo job failed: {job.failure_reason or 'no reason given'}")
        if time.monotonic() > deadline:
            raise DemoFailed(f"the demo job did not finish within {timeout_s:.0f} s")
        worker.poll_once()


def _describe(job: Job, converted: int) -> str:
    if job.total_segments is None:
        return f"status: {job.status.value}"
    return f"status: {job.status.value}, {converted} of {job.total_segments} segments converted"
