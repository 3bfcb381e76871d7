"""Periodic chores of the media-worker beside its queues: removing jobs whose upload never
arrived (jobs.remove_abandoned_uploads), and sending notifications a dying process lost
(outbox.sweep_notifications, every OUTBOX_INTERVAL_S). A daemon thread; it stops with the
worker."""

from __future__ import annotations

import logging
import threading
import time

from stereospot.domain.services import jobs, outbox
from stereospot.domain.services.roles import Expiring, HasPolicy, Housekeeping, Outbox
from stereospot.entrypoints.workers.heartbeat import StopSignal

logger = logging.getLogger(__name__)

FIRST_RUN_S = 5.0
MAX_INTERVAL_S = 600.0
OUTBOX_INTERVAL_S = 30.0


def interval_s(deps: HasPolicy) -> float:
    """Often enough that a job outlives its allowance by at most a quarter of it."""
    return max(1.0, min(MAX_INTERVAL_S, deps.policy.abandoned_upload_s / 4))


def run_once(deps: Expiring) -> int:
    try:
        return jobs.remove_abandoned_uploads(deps)
    except Exception:  # the store is unreachable now; the next round tries again
        logger.exception("removing abandoned uploads failed")
        return 0


def sweep_outbox(deps: Outbox) -> int:
    try:
        return outbox.sweep_notifications(deps)
    except Exception:
        logger.exception("sending lost notifications failed")
        return 0


def start(deps: Housekeeping, stop: StopSignal) -> threading.Thread:
    def loop() -> None:
        wait = FIRST_RUN_S
        next_uploads = time.monotonic() + FIRST_RUN_S
        while not stop.wait(wait):
            sweep_outbox(deps)
            if time.monotonic() >= next_uploads:
                run_once(deps)
                next_uploads = time.monotonic() + interval_s(deps)
            wait = min(OUTBOX_INTERVAL_S, interval_s(deps))

    thread = threading.Thread(target=loop, name="housekeeping", daemon=True)
    thread.start()
    return thread
