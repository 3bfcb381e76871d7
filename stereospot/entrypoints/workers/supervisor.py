"""Runs worker processes for `stereospot serve`, restarts any that die, stops them all.

Children run `python -m stereospot.entrypoints.workers.<role>_worker` in their own session
(Ctrl-C in a terminal reaches only the supervisor, which then stops them in order) with
STEREOSPOT_SUPERVISOR_PID set, so they also stop by themselves if the supervisor is killed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from stereospot.entrypoints.workers.runner import EXIT_MISCONFIGURED, SUPERVISOR_PID_ENV, Role

logger = logging.getLogger(__name__)

_MODULES = {
    Role.MEDIA: "stereospot.entrypoints.workers.media_worker",
    Role.VIDEO: "stereospot.entrypoints.workers.video_worker",
}
_MAX_BACKOFF_S = 30.0
_HEALTHY_AFTER_S = 60.0  # a child that ran this long resets its restart backoff


@dataclass
class _Child:
    role: Role
    number: int
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    backoff_s: float = 1.0
    restart_at: float | None = None
    restarts: int = field(default=0)
    given_up: bool = False  # exited as misconfigured: left stopped

    @property
    def name(self) -> str:
        return f"{self.role.value}-worker-{self.number}"


class Supervisor:
    def __init__(
        self,
        counts: Mapping[Role, int],
        env: Mapping[str, str] | None = None,
        stop_timeout_s: float = 30.0,
        on_death: Callable[[int], object] | None = None,
    ) -> None:
        self._children = [
            _Child(role, number) for role, count in counts.items() for number in range(1, count + 1)
        ]
        self._env = dict(os.environ if env is None else env)
        self._env[SUPERVISOR_PID_ENV] = str(os.getpid())
        self._stop_timeout_s = stop_timeout_s
        self._on_death = on_death  # e.g. release the message the dead child held
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._monitor = threading.Thread(target=self._watch, name="supervisor", daemon=True)

    def start(self) -> None:
        with self._lock:
            for child in self._children:
                self._spawn(child)
        self._monitor.start()

    def pids(self) -> dict[str, int]:
        with self._lock:
            return {c.name: c.process.pid for c in self._children if c.process is not None}

    def stop(self) -> None:
        """SIGTERM every child, wait for them, SIGKILL any still running after the timeout."""
        self._stopping.set()
        with self._lock:
            running = [c.process for c in self._children if c.process and c.process.poll() is None]
            for process in running:
                _signal(process, signal.SIGTERM)
        deadline = time.monotonic() + self._stop_timeout_s
        for process in running:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning("worker %d did not stop in time; killing it", process.pid)
                _signal(process, signal.SIGKILL)
                process.wait()
        if self._monitor.is_alive():
            self._monitor.join(timeout=2)

    def _spawn(self, child: _Child) -> None:
        command = [sys.executable, "-m", _MODULES[child.role]]
        child.process = subprocess.Popen(command, env=self._env, start_new_session=True)
        child.started_at = time.monotonic()
        child.restart_at = None
        logger.info("started %s (pid %d)", child.name, child.process.pid)

    def _watch(self) -> None:
        while not self._stopping.wait(0.5):
            with self._lock:
                if self._stopping.is_set():
                    return
                for child in self._children:
                    self._check(child)

    def _check(self, child: _Child) -> None:
        now = time.monotonic()
        if child.restart_at is not None:
            if now >= child.restart_at:
                child.restarts += 1
                self._spawn(child)
            return
        if child.process is None or child.process.poll() is None:
            return
        if child.process.returncode == EXIT_MISCONFIGURED:
            if child.restart_at is None and not child.given_up:
                child.given_up = True
                logger.error(
                    "%s cannot work as configured (see its message above); not restarting it",
                    child.name,
                )
            return
        if self._on_death is not None:
            try:
                self._on_death(child.process.pid)
            except Exception:
                logger.warning("could not clean up after %s", child.name, exc_info=True)
        if now - child.started_at >= _HEALTHY_AFTER_S:
            child.backoff_s = 1.0
        logger.warning(
            "%s exited with status %s; restarting it in %.0f s",
            child.name,
            child.process.returncode,
            child.backoff_s,
        )
        child.restart_at = now + child.backoff_s
        child.backoff_s = min(_MAX_BACKOFF_S, child.backoff_s * 2)


def _signal(process: subprocess.Popen[bytes], signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signum)
