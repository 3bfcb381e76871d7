"""moto's server for the AWS tests: one subprocess per test session, over real HTTP.

`moto_endpoint()` starts it on the first call (a free loopback port; it waits until the
server answers) and stops it when the session's process exits. The `moto_server` fixture
and the contract suite's aws platform share that one server; every test names its own
resources from `fresh_prefix()`, so tests never see each other's data.

boto3 finds credentials through its default chain, as in production: here, fake ones in
the environment, so no real credentials can ever sign a test request.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator

import pytest

# moto[server] = moto plus flask; the adapters need boto3.
MOTO_AVAILABLE = all(importlib.util.find_spec(m) is not None for m in ("moto", "flask", "boto3"))
REGION = "us-east-1"
# S3's smallest part size: a test file of a few MB goes up in several parts.
TEST_MULTIPART_THRESHOLD = 5 * 1024 * 1024
_START_TIMEOUT_S = 60
_lock = threading.Lock()
_server: tuple[subprocess.Popen[bytes], str] | None = None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _use_fake_credentials() -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(name, None)
    os.environ["AWS_ACCESS_KEY_ID"] = "testing"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
    os.environ["AWS_DEFAULT_REGION"] = REGION


def _wait_until_up(process: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/moto-api/", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"moto_server did not answer at {url} within {_START_TIMEOUT_S} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def moto_endpoint() -> str:
    """The endpoint URL of this session's moto server, started on first use."""
    global _server
    with _lock:
        if _server is None:
            _use_fake_credentials()
            port = _free_port()
            process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            url = f"http://127.0.0.1:{port}"
            _wait_until_up(process, url)
            atexit.register(_stop, process)
            _server = (process, url)
        return _server[1]


def fresh_prefix() -> str:
    """A resource-name prefix no other test uses."""
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    if not MOTO_AVAILABLE:
        pytest.skip("moto[server] is not installed")
    yield moto_endpoint()
