"""Builds and runs a worker process of one role against the configured platform."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from enum import StrEnum
from types import FrameType

from stereospot.config import Settings
from stereospot.domain.errors import BackendMisconfigured
from stereospot.domain.routing import QueueName
from stereospot.entrypoints.workers.claims import Claims, release_dead
from stereospot.entrypoints.workers.log_context import configure_logging
from stereospot.entrypoints.workers.loop import LoopOptions, Worker

logger = logging.getLogger(__name__)

# A worker that cannot work as configured exits with this status (EX_CONFIG); the
# supervisor does not restart it, since it would fail the same way again.
EXIT_MISCONFIGURED = 78

# Set by `stereospot serve` for its children: they stop when the supervisor is gone.
SUPERVISOR_PID_ENV = "STEREOSPOT_SUPERVISOR_PID"


class Role(StrEnum):
    MEDIA = "media"
    VIDEO = "video"


QUEUES: dict[Role, tuple[QueueName, ...]] = {
    # Ingest is the media-worker's too: downloading a source is I/O, like splitting it.
    Role.MEDIA: (QueueName.CHUNKING, QueueName.REASSEMBLY, QueueName.DELETION, QueueName.INGEST),
    Role.VIDEO: (QueueName.VIDEO_WORKER, QueueName.OUTPUT_EVENTS),
}


def build_worker(
    settings: Settings, queue_names: Sequence[QueueName], options: LoopOptions
) -> Worker:
    """A worker on the platform the settings select, handling through the use cases."""
    from stereospot.container import build_container
    from stereospot.entrypoints.workers.handlers import UseCaseHandler

    container = build_container(settings)
    deps = container.deps()
    claims = None
    directory = container.platform.claims_dir()
    if directory is not None:
        claims = Claims(directory)
        # What workers killed earlier still held.
        release_dead(directory, deps.queues, container.process_alive())
    if QueueName.VIDEO_WORKER in queue_names:
        _wait_for_inference(deps.inference)
        _preload_inference(deps.inference)
    worker = Worker(
        deps.queues,
        queue_names,
        settings.queue_timeouts.by_queue(),
        container.platform.decoder(),
        UseCaseHandler(deps),
        options,
        claims=claims,
    )
    if QueueName.DELETION in queue_names:  # the media-worker, which removes jobs
        from stereospot.entrypoints.workers import housekeeping

        housekeeping.start(deps, worker.stop)
    return worker


def _wait_for_inference(backend: object) -> None:
    """A remote backend checks its server (or endpoint, or model) before the worker takes
    a message: BackendMisconfigured stops the worker if it cannot work at all."""
    wait_ready = getattr(backend, "wait_ready", None)
    if callable(wait_ready):
        wait_ready()


def _preload_inference(backend: object) -> None:
    """Let a backend that runs in-process load its engine in the background while the
    worker already serves its queues (the first conversion then starts at once)."""
    preload = getattr(backend, "preload", None)
    if callable(preload):

        def run() -> None:
            try:
                preload()
            except Exception:  # the first conversion will report it properly
                logger.warning("could not preload the inference engine", exc_info=True)

        threading.Thread(target=run, name="preload-engine", daemon=True).start()


def loop_options(grace_s: float = 25.0, idle_wait_s: float = 1.0) -> LoopOptions:
    parent = os.environ.get(SUPERVISOR_PID_ENV)
    return LoopOptions(
        idle_wait_s=idle_wait_s,
        grace_s=grace_s,
        parent_pid=int(parent) if parent and parent.isdigit() else None,
    )


def run_worker(role: Role, settings: Settings | None = None, grace_s: float = 25.0) -> int:
    """Run until SIGTERM/SIGINT (a second one stops at once, releasing the message)."""
    settings = settings or Settings()
    configure_logging(settings.log_level, role=f"{role.value}-worker")
    from stereospot.container import MissingComponent

    try:
        worker = build_worker(settings, QUEUES[role], loop_options(grace_s))
    except (BackendMisconfigured, MissingComponent) as exc:
        print(f"stereospot: the inference backend cannot work: {exc}", file=sys.stderr, flush=True)
        return EXIT_MISCONFIGURED

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        logger.info("received %s; finishing the current message", signal.Signals(signum).name)
        worker.stop.request()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    worker.run()
    return 0
