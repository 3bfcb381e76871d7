"""Recovering what a process that died at the wrong moment left half done.

- Push: a job saved completed or failed whose notification was never recorded
  (notified_at unset: the process died between the save and the push) is notified here,
  once it has been finished for policy.notify_grace_s and not longer than
  policy.notify_horizon_s (older outcomes are not news any more).
- Soft delete: request_deletion sends a delayed cleanup request before its save, so a
  web process dying between the save and the immediate request still gets its cleanup
  (see jobs.request_deletion); nothing to sweep.

Run now and then by the media worker's housekeeping; idempotent, and cheap: one page of
the newest completed and of the newest failed jobs.
"""

from __future__ import annotations

import logging
from datetime import datetime

from stereospot.domain.model import Job
from stereospot.domain.services.roles import Outbox
from stereospot.domain.services.support import context, notify_outcome

log = logging.getLogger(__name__)

SWEEP_PAGE = 50


def _finished_at(job: Job) -> datetime | None:
    return job.completed_at or job.failed_at


def pending_notifications(deps: Outbox) -> list[Job]:
    now = deps.clock.now()
    grace, horizon = deps.policy.notify_grace_s, deps.policy.notify_horizon_s
    pending = []
    recent = deps.jobs.list_completed(SWEEP_PAGE).jobs + deps.jobs.list_failed(SWEEP_PAGE).jobs
    for job in recent:
        finished = _finished_at(job)
        if job.notified_at is not None or finished is None:
            continue
        age = (now - finished).total_seconds()
        if grace <= age <= horizon:
            pending.append(job)
    return pending


def sweep_notifications(deps: Outbox) -> int:
    """Notify the finished jobs whose notification was lost; how many."""
    pending = pending_notifications(deps)
    for job in pending:
        log.warning("sending a notification that was lost", extra=context(job.id))
        notify_outcome(deps, job)
    return len(pending)
