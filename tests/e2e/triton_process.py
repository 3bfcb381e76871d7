"""`stereospot inference triton` (a real Triton server through PyTriton) as a subprocess,
started from .venv-triton (built by scripts/triton.sh: nvidia-pytriton needs numpy<2, which
the main venv does not have) with this checkout on PYTHONPATH."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.serve_process import fast_env, free_port, stop_gracefully

REPO = Path(__file__).resolve().parents[2]
# Set by scripts/test.sh: there the venv must exist (a missing one fails, not skips).
VENV_ENV = "STEREOSPOT_TEST_TRITON_VENV"
MODEL = "stereo"


@dataclass
class TritonServer:
    url: str  # Triton's HTTP endpoint, what STEREOSPOT_INFERENCE_URL names
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def triton_python() -> Path:
    """The venv's python, or skip (fail under scripts/test.sh) when it is not built."""
    venv = os.environ.get(VENV_ENV)
    python = Path(venv or REPO / ".venv-triton") / "bin" / "python"
    if not python.exists():
        if venv:
            pytest.fail(f"{VENV_ENV}={venv} but {python} does not exist (scripts/triton.sh)")
        pytest.skip("no .venv-triton (build it with scripts/triton.sh)")
    return python


def model_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/v2/models/{MODEL}/ready", timeout=5) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def running_triton(file_root: Path, timeout_s: float = 180) -> Iterator[TritonServer]:
    python = triton_python()
    file_root.mkdir(parents=True, exist_ok=True)
    http_port, grpc_port, metrics_port = free_port(), free_port(), free_port()
    log_path = file_root.parent / f"triton-{http_port}.log"
    env = {
        **fast_env(),
        "PYTHONPATH": str(REPO),
        "STEREOSPOT_DEPTH_MODEL": "builtin",
        "STEREOSPOT_INFERENCE_FILE_ROOT": str(file_root),
    }
    env.pop("VIRTUAL_ENV", None)
    command = [
        str(python), "-m", "stereospot.entrypoints.cli.main", "inference", "triton",
        "--http-port", str(http_port), "--grpc-port", str(grpc_port),
        "--metrics-port", str(metrics_port),
    ]  # fmt: skip
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = TritonServer(f"http://127.0.0.1:{http_port}", process, log_path)
    try:
        deadline = time.monotonic() + timeout_s
        while not model_ready(server.url):
            assert process.poll() is None, f"Triton exited: {server.log()}"
            assert time.monotonic() < deadline, f"not ready in {timeout_s} s: {server.log()}"
            time.sleep(0.2)
        yield server
    finally:
        stop_gracefully([process])
