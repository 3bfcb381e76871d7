"""HttpInferenceBackend against a real `stereospot inference serve`, directly and through a
small fault-injecting HTTP proxy (real sockets: 5xx, 503 busy, 4xx, dropped connections)."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from stereospot.adapters.inference.http import HttpInferenceBackend
from stereospot.adapters.inference.remote import RemoteOptions
from stereospot.config import Platform, Settings
from stereospot.container import build_container
from stereospot.domain import keys
from stereospot.domain.errors import BackendMisconfigured, InferenceError, MediaError
from stereospot.domain.formats import StereoFormat
from stereospot.domain.model import Job, JobStatus
from stereospot.domain.ports import ConversionRequest
from stereospot.domain.services.conversion import handle_segment_ready
from stereospot.domain.services.deps import Deps
from tests.e2e.inference_process import InferenceServer, running_inference_server
from tests.media_clips import decoded_frame_count, make_clip

pytestmark = pytest.mark.timeout(300)

Step = str | tuple[int, dict[str, Any], dict[str, str]]  # "forward", "drop" or an answer


class FaultProxy:
    """Answers the scripted steps in order (then forwards everything) and counts requests."""

    def __init__(self, upstream: str, steps: list[Step]) -> None:
        self.upstream = upstream
        self.steps = list(steps)
        self.requests: list[str] = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def _answer(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                proxy.requests.append(f"{method} {self.path}")
                step = (
                    proxy.steps.pop(0) if proxy.steps and self.path == "/invocations" else "forward"
                )
                if step == "drop":
                    self.connection.close()
                    return
                if step == "forward":
                    request = urllib.request.Request(
                        proxy.upstream + self.path, data=body, method=method,
                        headers={"Content-Type": "application/json"},
                    )  # fmt: skip
                    try:
                        with urllib.request.urlopen(request, timeout=120) as response:
                            status, payload = response.status, response.read()
                    except urllib.error.HTTPError as exc:
                        status, payload = exc.code, exc.read()
                    headers: dict[str, str] = {}
                else:
                    status, answer, headers = step  # type: ignore[misc]
                    payload = json.dumps(answer).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                self._answer("GET")

            def do_POST(self) -> None:
                self._answer("POST")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def invocations(self) -> int:
        return self.requests.count("POST /invocations")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("http-backend") / "data"


@pytest.fixture(scope="module")
def inference(data_dir: Path) -> Iterator[InferenceServer]:
    with running_inference_server(data_dir) as server:
        yield server


@pytest.fixture
def deps(data_dir: Path) -> Deps:
    return build_container(Settings(platform=Platform.LOCAL, data_dir=data_dir)).deps()


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clip") / "seg.mp4"
    return make_clip(path, seconds=1.0, fps=12, width=96, height=64, audio=False)


def new_job(deps: Deps, clip: Path) -> tuple[Job, str]:
    job = Job(
        id=uuid4(),
        status=JobStatus.CHUNKING_COMPLETE,
        created_at=deps.clock.now(),
        total_segments=1,
    )
    deps.jobs.create(job)
    key = keys.segment_key(job.id, 0, 1, StereoFormat.HALF_SBS)
    deps.storage.put_file(key, clip)
    return job, key


def backend(deps: Deps, url: str, **options: Any) -> HttpInferenceBackend:
    sleeps: list[float] = []
    made = HttpInferenceBackend(
        deps.storage, url, RemoteOptions(retry_base_s=0.01, **options), sleep=sleeps.append
    )
    made.sleeps = sleeps  # type: ignore[attr-defined]
    return made


def request_for(job: Job, key: str) -> ConversionRequest:
    return ConversionRequest(
        job_id=job.id,
        segment_index=0,
        input_key=key,
        output_key=keys.output_segment_key(job.id, 0),
        output_format=job.output_format,
        settings=job.settings,
    )


def test_converts_a_segment_from_local_storage(
    deps: Deps, inference: InferenceServer, clip: Path, tmp_path: Path
) -> None:
    job, key = new_job(deps, clip)
    result = backend(deps, inference.url).convert(request_for(job, key))
    assert (result.completed, result.output_event) == (True, False)
    out = tmp_path / "out.mp4"
    deps.storage.get_file(keys.output_segment_key(job.id, 0), out)
    assert decoded_frame_count(out) == 12


def test_the_use_case_records_the_completion_the_server_wrote(
    deps: Deps, inference: InferenceServer, clip: Path
) -> None:
    job, key = new_job(deps, clip)
    remote = backend(deps, inference.url)
    handle_segment_ready(replace(deps, inference=remote), job.id, 0, 1, key)
    assert [c.segment_index for c in deps.completions.list(job.id)] == [0]


def test_a_5xx_then_200_is_one_retry(deps: Deps, inference: InferenceServer, clip: Path) -> None:
    proxy = FaultProxy(inference.url, [(500, {"status": "error", "reason": "GPU fell over"}, {})])
    try:
        job, key = new_job(deps, clip)
        remote = backend(deps, proxy.url)
        assert remote.convert(request_for(job, key)).completed
        assert proxy.invocations() == 2
        assert len(remote.sleeps) == 1  # type: ignore[attr-defined]
    finally:
        proxy.close()


def test_a_dropped_connection_and_a_busy_server_are_retried(
    deps: Deps, inference: InferenceServer, clip: Path
) -> None:
    busy = (503, {"status": "error", "reason": "Busy"}, {"Retry-After": "2"})
    proxy = FaultProxy(inference.url, ["drop", busy, busy, busy, busy, busy])
    try:
        job, key = new_job(deps, clip)
        remote = backend(deps, proxy.url, retries=1)  # busy answers do not use retries up
        assert remote.convert(request_for(job, key)).completed
        assert proxy.invocations() == 7
        assert remote.sleeps[1:] == [2.0] * 5  # type: ignore[attr-defined]
    finally:
        proxy.close()


def test_retries_run_out_into_an_inference_error(deps: Deps, clip: Path) -> None:
    proxy = FaultProxy("http://127.0.0.1:9", [(502, {"reason": "bad gateway"}, {})] * 3)
    try:
        job, key = new_job(deps, clip)
        with pytest.raises(InferenceError, match="failed 3 times: HTTP 502: bad gateway"):
            backend(deps, proxy.url, retries=2).convert(request_for(job, key))
    finally:
        proxy.close()


def test_a_400_fails_the_job_with_the_servers_reason(
    deps: Deps, inference: InferenceServer, clip: Path
) -> None:
    reason = "input.mp4 is not a video file we can read."
    proxy = FaultProxy(inference.url, [(400, {"status": "error", "reason": reason}, {})])
    try:
        job, key = new_job(deps, clip)
        remote = backend(deps, proxy.url)
        with pytest.raises(MediaError, match="not a video file"):
            remote.convert(request_for(job, key))
        proxy.steps = [(400, {"status": "error", "reason": reason}, {})]
        handle_segment_ready(replace(deps, inference=remote), job.id, 0, 1, key)
        failed = deps.jobs.get(job.id)
        assert failed is not None and failed.status is JobStatus.FAILED
        assert failed.failure_reason == reason
        assert proxy.invocations() == 2  # never retried
    finally:
        proxy.close()


def test_wait_ready_polls_ping_and_gives_up_readably(
    deps: Deps, inference: InferenceServer
) -> None:
    backend(deps, inference.url).wait_ready()
    dead = backend(deps, "http://127.0.0.1:9", ready_timeout_s=0)
    with pytest.raises(BackendMisconfigured, match=r"127.0.0.1:9 was not ready within 0 s"):
        dead.wait_ready()
    with pytest.raises(BackendMisconfigured, match="must be an http"):
        HttpInferenceBackend(deps.storage, "localhost:8080")


def test_a_misconfigured_worker_exits_78_with_one_line(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(Path.cwd()),
        "STEREOSPOT_DATA_DIR": str(tmp_path),
        "STEREOSPOT_INFERENCE_BACKEND": "http",
        "STEREOSPOT_INFERENCE_URL": "http://127.0.0.1:9",
        "STEREOSPOT_INFERENCE_READY_TIMEOUT_S": "0",
    }
    done = subprocess.run(
        [sys.executable, "-m", "stereospot.entrypoints.workers.video_worker"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 78
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .startswith(
            "stereospot: the inference backend cannot work: the inference server at "
            "http://127.0.0.1:9 was not ready"
        )
    ), done.stderr


def test_the_supervisor_does_not_restart_a_misconfigured_worker(tmp_path: Path) -> None:
    import time

    from stereospot.entrypoints.workers.runner import Role
    from stereospot.entrypoints.workers.supervisor import Supervisor

    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(Path.cwd()),
        "STEREOSPOT_DATA_DIR": str(tmp_path),
        "STEREOSPOT_INFERENCE_BACKEND": "http",
        "STEREOSPOT_INFERENCE_URL": "not-a-url",
    }
    supervisor = Supervisor({Role.VIDEO: 1}, env=env)
    supervisor.start()
    try:
        (child,) = supervisor._children
        deadline = time.monotonic() + 60
        while not child.given_up:
            assert time.monotonic() < deadline, "the worker did not exit as misconfigured"
            time.sleep(0.2)
        time.sleep(3)  # longer than the first restart backoff
        assert child.restarts == 0
        assert child.process is not None and child.process.returncode == 78
    finally:
        supervisor.stop()
