"""Helpers every use case shares: safe read-change-save, events, push, log context."""

from __future__ import annotations

import logging
from collections.abc import Callable
from uuid import UUID

from stereospot.domain.errors import ConditionFailed
from stereospot.domain.model import Job
from stereospot.domain.ports import JobEvent, PushUndelivered, SubscriptionGone
from stereospot.domain.services.roles import HasJobs, Notifying, Publishing, Pushing

log = logging.getLogger(__name__)

# Optimistic writes lose only to another worker's save; a few rounds always settle it.
MAX_SAVE_ATTEMPTS = 20


def context(job_id: UUID, segment_index: int | None = None) -> dict[str, object]:
    """`extra=` for log calls: every line carries the job (and segment) it is about."""
    extra: dict[str, object] = {"job_id": str(job_id)}
    if segment_index is not None:
        extra["segment_index"] = segment_index
    return extra


def update_job(deps: HasJobs, job_id: UUID, change: Callable[[Job], Job | None]) -> Job | None:
    """Read the job, apply `change`, save conditionally; on a lost race, read and try again.

    `change` returns the new job, or None when there is nothing to do (then so do we).
    A missing job gives None.
    """
    for _ in range(MAX_SAVE_ATTEMPTS):
        job = deps.jobs.get(job_id)
        if job is None:
            return None
        changed = change(job)
        if changed is None:
            return None
        try:
            return deps.jobs.save(changed)
        except ConditionFailed:
            log.debug("job changed under us; retrying", extra=context(job_id))
    raise ConditionFailed(f"job {job_id} kept changing; gave up after {MAX_SAVE_ATTEMPTS} tries")


def publish(deps: Publishing, job: Job, segments_done: int | None = None, **detail: object) -> None:
    """Tell SSE/push listeners about a change. A failure to publish never fails the caller."""
    event = JobEvent(
        job_id=job.id,
        status=job.status.value,
        segments_done=segments_done,
        at=deps.clock.now(),
        detail=dict(detail),
    )
    try:
        deps.events.publish(event)
    except Exception:
        log.exception("could not publish a job event", extra=context(job.id))


def send_push(deps: Pushing, job: Job, payload: dict[str, object]) -> int | None:
    """Notify every push subscription of the job; returns how many were sent, or None when
    the job must be notified again later: its subscriptions could not be read, or a push
    service was still busy or unreachable after the sender's retries (PushUndelivered).

    A subscription the push service says is gone is removed; any other error (a request
    the service refuses for good) is logged and not tried again.
    """
    sent = 0
    undelivered = False
    try:
        subscriptions = deps.push_subscriptions.list(job.id)
    except Exception:
        log.exception("could not list push subscriptions", extra=context(job.id))
        return None
    for subscription in subscriptions:
        try:
            deps.push_sender.send(subscription, payload)
            sent += 1
        except SubscriptionGone:
            log.info("push subscription gone; removing it", extra=context(job.id))
            try:
                deps.push_subscriptions.remove(job.id, subscription.endpoint)
            except Exception:
                log.exception("could not remove a push subscription", extra=context(job.id))
        except PushUndelivered as exc:
            log.warning("push not delivered; the sweep tries again: %s", exc, extra=context(job.id))
            undelivered = True
        except Exception:
            log.exception("could not send a push notification", extra=context(job.id))
    return None if undelivered else sent


def notify_outcome(deps: Notifying, job: Job) -> None:
    """Push the job's outcome to its subscribers, then record that it was told
    (notified_at). A process that dies in between leaves notified_at unset, and the
    outbox sweep (or the redelivered message) sends it again: at least once, and the
    browser shows a repeat in place of the first (same tag)."""
    if send_push(deps, job, push_payload(job)) is None:
        return  # not everyone could be told: the sweep tries again (repeats replace)
    now = deps.clock.now()
    try:
        update_job(
            deps,
            job.id,
            lambda j: j.with_changes(notified_at=now) if j.notified_at is None else None,
        )
    except Exception:
        log.exception("could not record the notification", extra=context(job.id))


def push_payload(job: Job) -> dict[str, object]:
    """What the service worker shows: the outcome, the title, where to go."""
    done = job.status.value == "completed"
    title = job.title or "Your video"
    return {
        "type": "job_completed" if done else "job_failed",
        "job_id": str(job.id),
        "status": job.status.value,
        "title": "Your 3D video is ready" if done else "The conversion failed",
        "body": title if done else f"{title}: {job.failure_reason or 'failed'}",
        "url": f"/jobs/{job.id}",
    }
