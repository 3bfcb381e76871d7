"""Real worker processes on one local data directory, for the pipeline's end-to-end tests.

Settings travel through the environment (monkeypatched, so the test process and every
child agree): 1-second segments, 3 receives before the DLQ, and short visibility timeouts
unless a test asks for the product's defaults (`Pipeline(..., short_visibility=False)`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TypeVar
from uuid import UUID

import av
import pytest

from stereospot.config import Settings
from stereospot.container import build_container
from stereospot.domain import keys
from stereospot.domain.formats import ConversionSettings, StereoFormat
from stereospot.domain.model import Job, JobStatus
from stereospot.domain.services import jobs
from stereospot.domain.services.deps import Deps
from tests.e2e.serve_process import stop_gracefully
from tests.fault_plugin import STALL_ENV, fault_env

T = TypeVar("T")

SHORT_VISIBILITY_S = 3
MAX_RECEIVES = 3


def pipeline_env(data_dir: Path, short_visibility: bool = True) -> dict[str, str]:
    env = {
        "STEREOSPOT_PLATFORM": "local",
        "STEREOSPOT_DATA_DIR": str(data_dir),
        "STEREOSPOT_SEGMENT_SECONDS": "1",
        "STEREOSPOT_MAX_RECEIVES": str(MAX_RECEIVES),
        "STEREOSPOT_DEVICE": "cpu",
        "STEREOSPOT_LOG_LEVEL": "INFO",
        "HF_HUB_OFFLINE": "1",  # no model hub here: fall back to the builtin depth at once
    }
    for queue in ("chunking", "video_worker", "output_events", "reassembly", "deletion"):
        if short_visibility:
            env[f"STEREOSPOT_QUEUE_TIMEOUTS__{queue.upper()}"] = str(SHORT_VISIBILITY_S)
    return env


@dataclass
class WorkerProcess:
    kind: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes] = field(repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        self.log_file.flush()
        return self.log_path.read_text(errors="replace")


class Pipeline:
    """Starts workers, submits jobs, waits for outcomes, and cleans up after itself."""

    def __init__(
        self, root: Path, monkeypatch: pytest.MonkeyPatch, *, short_visibility: bool = True
    ) -> None:
        self.root = root
        self.data_dir = root / "data"
        self.marker_dir = root / "markers"
        self.logs = root / "logs"
        self.logs.mkdir(parents=True)
        for name in list(os.environ):
            if name.startswith("STEREOSPOT_QUEUE_TIMEOUTS"):
                monkeypatch.delenv(name)
        for name, value in pipeline_env(self.data_dir, short_visibility).items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv(STALL_ENV, raising=False)
        self.settings = Settings()
        self.deps: Deps = build_container(self.settings).deps()
        self.workers: list[WorkerProcess] = []

    # ------------------------------------------------------------------ processes

    def start_worker(
        self, kind: str, *, stall: str | None = None, grace_s: float | None = None
    ) -> WorkerProcess:
        # Every worker loads the fault plugin; only those given a stall ever stall.
        env = {**os.environ, **fault_env(stall, self.marker_dir)}
        command = [sys.executable, "-m", "stereospot.entrypoints.cli.main", "worker", kind]
        if grace_s is not None:
            command += ["--grace-seconds", str(grace_s)]
        log_path = self.logs / f"{kind}-{len(self.workers)}.log"
        log_file = log_path.open("wb")
        process = subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT)
        worker = WorkerProcess(kind, process, log_path, log_file)
        self.workers.append(worker)
        return worker

    def kill(self, worker: WorkerProcess) -> None:
        worker.process.send_signal(signal.SIGKILL)
        worker.process.wait(10)

    def stop_all(self) -> None:
        stop_gracefully(worker.process for worker in self.workers)
        for worker in self.workers:
            worker.log_file.close()

    def logs_text(self) -> str:
        return "\n".join(f"--- {w.log_path.name}\n{w.log()[-4000:]}" for w in self.workers)

    def wait_until_handling(self, worker: WorkerProcess, queue: str, timeout_s: float = 60) -> None:
        """Wait until `worker` is in the middle of a message of `queue`: it holds the
        message (its claim names the queue) and has a scratch folder open. No test hook:
        this is what the product itself writes, polled often enough to catch it."""
        tmp = self.data_dir / "tmp"
        claim = tmp / "claims" / f"{worker.pid}.json"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                held = json.loads(claim.read_text())["queue"] == queue
            except (FileNotFoundError, ValueError, KeyError):
                held = False
            if held and any(tmp.glob(f"stereospot-{worker.pid}-*")):
                return
            assert worker.process.poll() is None, self.logs_text()
            time.sleep(0.002)
        raise AssertionError(f"{worker.kind} never handled a {queue} message\n{self.logs_text()}")

    def wait_for_marker(self, step: str, timeout_s: float = 60) -> int:
        """Wait until a worker stalls at `step`; return its pid."""

        def marker() -> int | None:
            found = sorted(self.marker_dir.glob(f"{step}-*")) if self.marker_dir.exists() else []
            return int(found[0].name.rsplit("-", 1)[1]) if found else None

        return self.wait(marker, timeout_s, f"a worker stalling at {step}")

    # ------------------------------------------------------------------ jobs

    def submit(self, clip: Path, output_format: StereoFormat = StereoFormat.HALF_SBS) -> UUID:
        """Create a job and upload its source: the storage write queues the chunking."""
        job = jobs.create_job(
            self.deps, output_format=output_format, settings=ConversionSettings(), title="e2e"
        )
        self.deps.storage.put_file(keys.source_key(job.id), clip)
        return job.id

    def job(self, job_id: UUID) -> Job:
        job = self.deps.jobs.get(job_id)
        assert job is not None
        return job

    def wait_for_status(self, job_id: UUID, statuses: set[JobStatus], timeout_s: float = 90) -> Job:
        def reached() -> Job | None:
            job = self.job(job_id)
            return job if job.status in statuses else None

        return self.wait(reached, timeout_s, f"job {job_id} to reach {statuses}")

    def wait(self, probe: Callable[[], T | None], timeout_s: float, what: str) -> T:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = probe()
            if value is not None:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}\n{self.logs_text()}")

    def final_video(self, job_id: UUID) -> Path:
        dest = self.root / f"{job_id}.mp4"
        self.deps.storage.get_file(keys.final_key(job_id), dest)
        return dest


@dataclass(frozen=True)
class VideoFacts:
    frames: int
    duration_s: float
    width: int
    height: int
    audio_codec: str | None


def video_facts(path: Path) -> VideoFacts:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        width, height = stream.width, stream.height
        audio = container.streams.audio[0].codec_context.name if container.streams.audio else None
        duration = (container.duration or 0) / av.time_base
    with av.open(str(path)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    return VideoFacts(frames, duration, width, height, audio)
