"""Periodic chores of the media-worker beside its queues: removing jobs whose upload never
arrived (jobs.remove_abandoned_uploads). A daemon thread; it stops with the worker."""

from __future__ import annotations

import logging
import threading

from stereospot.domain.services import jobs
from stereospot.domain.services.deps import Deps
from stereospot.entrypoints.workers.heartbeat import StopSignal

logger = logging.getLogger(__name__)

FIRST_RUN_S = 5.0
MAX_INTERVAL_S = 600.0


def interval_s(deps: Deps) -> float:
    """Often enough that a job outlives its allowance by at most a quarter of it."""
    return max(1.0, min(MAX_INTERVAL_S, deps.policy.abandoned_upload_s / 4))


def run_once(deps: Deps) -> int:
    try:
        return jobs.remove_abandoned_uploads(deps)
    except Exception:  # the store is unreachable now; the next round tries again
        logger.exception("removing abandoned uploads failed")
        return 0


def start(deps: Deps, stop: StopSignal) -> threading.Thread:
    def loop() -> None:
        wait = FIRST_RUN_S
        while not stop.wait(wait):
            run_once(deps)
            wait = interval_s(deps)

    thread = threading.Thread(target=loop, name="housekeeping", daemon=True)
    thread.start()
    return thread
