"""`stereospot serve` as a subprocess for the browser and CLI end-to-end tests."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CLI = [sys.executable, "-m", "stereospot.entrypoints.cli.main"]


@dataclass
class Server:
    url: str
    log_path: Path
    data_dir: Path | None = None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fast_env() -> dict[str, str]:
    """Settings for a quick conversion of a tiny clip on CPU, offline."""
    env = {
        **os.environ,
        "STEREOSPOT_PLATFORM": "local",
        "STEREOSPOT_SEGMENT_SECONDS": "1",
        "STEREOSPOT_DEVICE": "cpu",
        "STEREOSPOT_LOG_LEVEL": "INFO",
        "HF_HUB_OFFLINE": "1",  # no model hub: the builtin depth at once
    }
    env.pop("STEREOSPOT_PUBLIC_URL", None)
    return env


@contextmanager
def running_serve(
    root: Path,
    start_timeout_s: float = 60,
    extra_env: dict[str, str] | None = None,
    workers: int = 1,
) -> Iterator[Server]:
    port = free_port()
    log_path = root / "serve.log"
    command = [
        *CLI, "serve", "--data-dir", str(root / "data"), "--host", "127.0.0.1",
        "--port", str(port), "--media-workers", str(workers), "--video-workers", str(workers),
    ]  # fmt: skip
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command,
            env={**fast_env(), **(extra_env or {})},
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            bufsize=1,
        )
    lines: list[str] = []
    ready = threading.Event()

    def read_stdout() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "running at" in line:
                ready.set()

    threading.Thread(target=read_stdout, daemon=True).start()
    try:
        started = ready.wait(start_timeout_s)
        assert started, f"serve did not start: {lines}\n{log_path.read_text()}"
        url = re.search(r"running at (\S+)", "".join(lines))
        assert url is not None
        yield Server(url.group(1).rstrip("/"), log_path, root / "data")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def stop_gracefully(processes: Iterable[subprocess.Popen[Any]], timeout_s: float = 30) -> None:
    """SIGTERM every process still running, then wait; kill what does not stop in time."""
    processes = list(processes)
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
