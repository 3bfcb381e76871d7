"""`stereospot inference serve` as a subprocess on loopback, for the e2e tests and the
http-vs-local benchmark."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e.serve_process import CLI, fast_env, free_port, stop_gracefully


@dataclass
class InferenceServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    first_ping: int  # the status of the first /ping that got an answer

    def log(self) -> str:
        return self.log_path.read_text()

    def log_entries(self) -> list[dict[str, Any]]:
        entries = []
        for line in self.log().splitlines():
            if line.startswith("{"):
                entries.append(json.loads(line))
        return entries


def ping(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"{url}/ping", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def invoke(url: str, body: bytes | dict[str, Any], timeout_s: float = 120) -> tuple[int, Any]:
    """POST /invocations; (status, JSON body, headers)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{url}/invocations", data=data, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.status, (json.loads(response.read()), _lower(response.headers.items()))
    except urllib.error.HTTPError as exc:
        return exc.code, (json.loads(exc.read()), _lower(exc.headers.items()))


def start_inference_server(
    root: Path,
    *,
    port: int | None = None,
    extra_env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
) -> InferenceServer:
    """Start the server and wait until its port answers (not until it is ready)."""
    port = port or free_port()
    root.mkdir(parents=True, exist_ok=True)
    log_path = root / f"inference-{port}.log"
    env = {
        **fast_env(),
        "STEREOSPOT_DEPTH_MODEL": "builtin",
        "STEREOSPOT_INFERENCE_FILE_ROOT": str(root),
        **(extra_env or {}),
    }
    command = [*CLI, "inference", "serve", "--port", str(port), *args]
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise AssertionError(f"the inference server exited: {log_path.read_text()}")
        try:
            status, _ = ping(url)
            return InferenceServer(url, process, log_path, status)
        except OSError:
            if time.monotonic() > deadline:
                stop_gracefully([process])
                raise AssertionError(f"no answer from {url}: {log_path.read_text()}") from None
            time.sleep(0.05)


def wait_ready(server: InferenceServer, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while ping(server.url)[0] != 200:
        assert server.process.poll() is None, server.log()
        assert time.monotonic() < deadline, f"not ready in {timeout_s} s: {server.log()}"
        time.sleep(0.1)


@contextmanager
def running_inference_server(
    root: Path,
    *,
    ready: bool = True,
    extra_env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
) -> Iterator[InferenceServer]:
    server = start_inference_server(root, extra_env=extra_env, args=args)
    try:
        if ready:
            wait_ready(server)
        yield server
    finally:
        stop_gracefully([server.process])


def moto_env(endpoint: str) -> dict[str, str]:
    """A server's settings for s3:// URIs on moto's server (fake credentials)."""
    return {
        "STEREOSPOT_AWS__ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def _lower(items: Any) -> dict[str, str]:
    return {str(name).lower(): str(value) for name, value in items}
