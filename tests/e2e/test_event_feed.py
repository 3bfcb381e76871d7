"""Two web processes on one data directory: each runs its own event feed, and both stream
every event of a job to their pages (no store polling per stream)."""

from __future__ import annotations

import http.client
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stereospot.config import Settings
from stereospot.container import build_container
from stereospot.domain import keys
from stereospot.domain.formats import ConversionSettings, StereoFormat
from stereospot.domain.model import JobStatus, SegmentCompletion, SegmentPlanEntry
from stereospot.domain.services import jobs
from stereospot.domain.services.conversion import ProgressReporter
from stereospot.domain.services.support import publish, update_job
from tests.e2e.serve_process import CLI, fast_env, free_port, stop_gracefully

pytestmark = [pytest.mark.e2e]


def _wait_healthy(port: int, process: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, "the web process exited"
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("the web process did not start")


@pytest.fixture
def two_web_processes(tmp_path: Path) -> Iterator[tuple[Path, list[int]]]:
    data_dir = tmp_path / "data"
    ports = [free_port(), free_port()]
    processes = [
        subprocess.Popen(
            [*CLI, "web", "--data-dir", str(data_dir), "--host", "127.0.0.1", "--port", str(p)],
            env=fast_env(),
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / f"web-{p}.log").open("wb"),
        )
        for p in ports
    ]
    try:
        for port, process in zip(ports, processes, strict=True):
            _wait_healthy(port, process)
        yield data_dir, ports
    finally:
        stop_gracefully(processes)


class StreamReader(threading.Thread):
    """Reads one page's event stream over real HTTP until the job's final event."""

    def __init__(self, port: int, path: str) -> None:
        super().__init__(daemon=True)
        self.port, self.path = port, path
        self.events: list[dict[str, Any]] = []
        self.opened = threading.Event()

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request("GET", self.path, headers={"Accept": "text/event-stream"})
        response = connection.getresponse()
        assert response.status == 200
        name = ""
        for raw in response:
            line = raw.decode().rstrip("\n")
            if line.startswith("retry:"):
                self.opened.set()
            elif line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: ") and name == "progress":
                self.events.append(json.loads(line[6:]))
                if self.events[-1]["status"] in ("completed", "failed"):
                    return


def test_both_web_processes_stream_every_event_of_a_job(
    two_web_processes: tuple[Path, list[int]],
) -> None:
    data_dir, ports = two_web_processes
    deps = build_container(Settings(platform="local", data_dir=data_dir)).deps()
    job = jobs.create_job(deps, output_format=StereoFormat.HALF_SBS, settings=ConversionSettings())
    plan = (SegmentPlanEntry(index=0, start_s=0, duration_s=12, frame_count=100),)

    def chunked(current: Any) -> Any:
        return current.transition(JobStatus.CHUNKING_IN_PROGRESS).transition(
            JobStatus.CHUNKING_COMPLETE,
            total_segments=1,
            segment_plan=plan,
            uploaded_at=deps.clock.now(),
            source_size=1_000_000,
        )

    job = update_job(deps, job.id, chunked)
    assert job is not None
    publish(deps, job)
    readers = [StreamReader(port, f"/jobs/{job.id}/events") for port in ports]
    for reader in readers:
        reader.start()
        assert reader.opened.wait(15)
    time.sleep(0.5)  # both feeds are reading the change log

    # A video worker's reports, at most one write a second: 10 steps of 10 frames.
    reporter = ProgressReporter(deps, job, 0, None)
    reporter.start()
    for step in range(1, 11):
        time.sleep(1.05)
        reporter(step * 10, 100)
    # Events closer together than a stream's read coalesce into one state (by design);
    # the real steps below are seconds apart, here half a second.
    time.sleep(0.5)
    output = keys.output_segment_key(job.id, 0)
    deps.completions.put(SegmentCompletion(job_id=job.id, segment_index=0, output_key=output,
                                           completed_at=deps.clock.now()))  # fmt: skip
    job = update_job(deps, job.id, lambda j: j.transition(JobStatus.REASSEMBLING))
    assert job is not None
    publish(deps, job)
    time.sleep(0.5)
    done = update_job(
        deps, job.id, lambda j: j.transition(JobStatus.COMPLETED, completed_at=deps.clock.now())
    )
    assert done is not None
    publish(deps, done)

    for reader in readers:
        reader.join(20)
        assert not reader.is_alive(), "the stream did not end after the final state"
    seen = [[(e["status"], e["percent"]) for e in reader.events] for reader in readers]
    expected = (
        [("chunking_complete", 5.0)] * 2  # the plan, then the worker's first report (0 frames)
        + [("chunking_complete", 5.0 + 9.0 * step) for step in range(1, 11)]
        + [("reassembling", 95.0), ("completed", 100.0)]
    )
    assert seen[0] == expected, seen[0]
    assert seen[1] == expected, seen[1]
