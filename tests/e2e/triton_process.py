"""Real Triton servers as subprocesses, from .venv-triton (built by scripts/triton.sh:
nvidia-pytriton needs numpy<2, which the main venv does not have), with this checkout on
PYTHONPATH:

- `running_triton`: `stereospot inference triton` (PyTriton binds the engine);
- `running_stock_triton`: the `tritonserver` binary nvidia-pytriton ships, serving the stock
  model repository (inference_server/triton_repository, Python backend) as NVIDIA's
  container would, with the instance kind switched to CPU.
"""

from __future__ import annotations

import os
import shutil
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


def server_env(file_root: Path) -> dict[str, str]:
    env = {
        **fast_env(),
        "PYTHONPATH": str(REPO),
        "STEREOSPOT_DEPTH_MODEL": "builtin",
        "STEREOSPOT_INFERENCE_FILE_ROOT": str(file_root),
    }
    env.pop("VIRTUAL_ENV", None)
    return env


@contextmanager
def running_triton(file_root: Path, timeout_s: float = 180) -> Iterator[TritonServer]:
    python = triton_python()
    http_port, grpc_port, metrics_port = free_port(), free_port(), free_port()
    command = [
        str(python), "-m", "stereospot.entrypoints.cli.main", "inference", "triton",
        "--http-port", str(http_port), "--grpc-port", str(grpc_port),
        "--metrics-port", str(metrics_port),
    ]  # fmt: skip
    with _started(command, server_env(file_root), file_root, http_port, timeout_s) as s:
        yield s


@dataclass
class StockTriton:
    command: list[str]
    env: dict[str, str]
    http_port: int


def stock_triton(file_root: Path, work: Path, stub_python: Path | None = None) -> StockTriton:
    """How to start the tritonserver binary on a copy of the stock repository. The stub's
    embedded Python imports packages from the venv of the first `python3` on PATH: that of
    `stub_python` (by default .venv-triton's)."""
    python = triton_python()
    found = subprocess.run(
        [str(python), "-c", _LOCATE], check=True, capture_output=True, text=True
    ).stdout.split()
    server_dir, libpython_dir, version = Path(found[0]), found[1], found[2]
    repository = work / "triton_repository"
    shutil.copytree(REPO / "inference_server" / "triton_repository", repository)
    config = repository / "stereo" / "config.pbtxt"
    config.write_text(config.read_text().replace("KIND_GPU", "KIND_CPU"))  # no GPU here
    backends = work / "backends" / "python"  # the Python backend, the stub for this Python
    shutil.copytree(server_dir / "backends" / "python", backends)
    shutil.copy(
        server_dir / "python_backend_stubs" / version / "triton_python_backend_stub", backends
    )
    env = server_env(file_root)
    libs = server_dir.parent.parent / "nvidia_pytriton.libs"
    env["LD_LIBRARY_PATH"] = f"{libpython_dir}:{libs}"  # the stub loads this libpython
    env["PATH"] = f"{(stub_python or python).parent}:{env['PATH']}"
    http_port, grpc_port = free_port(), free_port()
    command = [
        str(server_dir / "bin" / "tritonserver"),
        f"--model-repository={repository}", f"--backend-directory={backends.parent}",
        "--http-address=127.0.0.1", f"--http-port={http_port}",
        "--grpc-address=127.0.0.1", f"--grpc-port={grpc_port}", "--allow-metrics=false",
    ]  # fmt: skip
    return StockTriton(command, env, http_port)


@contextmanager
def running_stock_triton(
    file_root: Path, work: Path, timeout_s: float = 180
) -> Iterator[TritonServer]:
    stock = stock_triton(file_root, work)
    with _started(stock.command, stock.env, file_root, stock.http_port, timeout_s) as server:
        yield server


_LOCATE = """
import pathlib, sys, sysconfig, pytriton
server = pathlib.Path(pytriton.__file__).parent / "tritonserver"
print(server, sysconfig.get_config_var("LIBDIR"), "%d.%d" % sys.version_info[:2])
"""


@contextmanager
def _started(
    command: list[str], env: dict[str, str], file_root: Path, http_port: int, timeout_s: float
) -> Iterator[TritonServer]:
    file_root.mkdir(parents=True, exist_ok=True)
    log_path = file_root.parent / f"triton-{http_port}.log"
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
