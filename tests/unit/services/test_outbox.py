"""A process dying at the wrong moment loses neither a notification nor a cleanup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stereospot.domain import keys
from stereospot.domain.model import JobStatus
from stereospot.domain.ports import PushSubscription, PushUndelivered
from stereospot.domain.services import jobs, outbox
from stereospot.domain.services.support import update_job
from tests.unit.fakes import Crash, CrashOnce, drain, make_world, new_job, upload

SUB = PushSubscription(endpoint="https://push.example/a", p256dh="k", auth="s")


class Death(BaseException):
    """The process is killed: nothing catches it, nothing after it runs."""


class DiesAtFirstPush:
    def __init__(self, real: Any) -> None:
        self.real, self.died = real, False

    def send(self, subscription: PushSubscription, payload: dict[str, object]) -> None:
        if not self.died:
            self.died = True
            raise Death("killed as the push was about to go out")
        self.real.send(subscription, payload)


def _converting_job(world):  # type: ignore[no-untyped-def]
    job_id = new_job(world)
    world.deps.push_subscriptions.add(job_id, SUB)
    upload(world, job_id, segments=2)
    return job_id


def test_a_crash_between_the_completed_save_and_the_push_is_recovered_by_redelivery(
    tmp_path: Path,
) -> None:
    world = make_world(tmp_path)
    job_id = _converting_job(world)
    dying = DiesAtFirstPush(world.push)
    world.replace(push_sender=dying)
    with pytest.raises(Death):
        drain(world)
    world.clock.advance(61)  # the final.mp4 event reappears after its visibility timeout
    report = drain(world)
    assert dying.died
    job = world.deps.jobs.get(job_id)
    assert job is not None and job.status is JobStatus.COMPLETED
    assert [p.payload["type"] for p in world.push.sent] == ["job_completed"]
    assert job.notified_at is not None
    assert not report.dead_lettered


def test_the_sweep_sends_a_lost_notification_once(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    job_id = _converting_job(world)
    world.replace(push_sender=DiesAtFirstPush(world.push))
    # A failure outside any queue message (e.g. the web app's fail): nothing redelivers it.
    with pytest.raises(Death):
        jobs.fail_job(world.deps, job_id, "The file has no video stream.")
    job = world.deps.jobs.get(job_id)
    assert job is not None and job.status is JobStatus.FAILED and job.notified_at is None
    assert outbox.sweep_notifications(world.deps) == 0  # within the grace period: not yet
    world.clock.advance(world.deps.policy.notify_grace_s + 1)
    assert outbox.sweep_notifications(world.deps) == 1
    assert [p.payload["type"] for p in world.push.sent] == ["job_failed"]
    assert outbox.sweep_notifications(world.deps) == 0  # recorded: never again
    assert len(world.push.sent) == 1


def test_a_push_service_still_down_after_the_retries_leaves_the_job_to_the_sweep(
    tmp_path: Path,
) -> None:
    world = make_world(tmp_path)
    job_id = _converting_job(world)
    other = PushSubscription(endpoint="https://push.example/gone", p256dh="k", auth="s")
    world.deps.push_subscriptions.add(job_id, other)
    world.push.gone.add(other.endpoint)
    world.push.failure = PushUndelivered("503 after 3 retries")
    jobs.fail_job(world.deps, job_id, "The file has no video stream.")
    job = world.deps.jobs.get(job_id)
    assert job is not None and job.notified_at is None  # not counted as sent
    assert world.deps.push_subscriptions.list(job_id) == [SUB]  # the gone one is removed
    world.push.failure = None  # the service is back
    world.clock.advance(world.deps.policy.notify_grace_s + 1)
    assert outbox.sweep_notifications(world.deps) == 1
    assert [p.payload["type"] for p in world.push.sent] == ["job_failed"]
    assert outbox.sweep_notifications(world.deps) == 0


def test_a_push_the_service_refuses_for_good_is_not_tried_again(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    job_id = _converting_job(world)
    world.push.failure = ValueError("400: the payload is too large")
    jobs.fail_job(world.deps, job_id, "The file has no video stream.")
    job = world.deps.jobs.get(job_id)
    assert job is not None and job.notified_at is not None
    world.clock.advance(world.deps.policy.notify_grace_s + 1)
    assert outbox.sweep_notifications(world.deps) == 0


def test_old_outcomes_and_cancels_are_not_swept(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    cancelled = new_job(world)
    world.deps.push_subscriptions.add(cancelled, SUB)
    jobs.cancel_job(world.deps, cancelled)
    old = new_job(world)
    update_job(world.deps, old, lambda j: j.fail("long ago", at=world.clock.now()))
    world.clock.advance(world.deps.policy.notify_horizon_s + 1)
    assert outbox.pending_notifications(world.deps) == []


def test_a_crash_right_after_the_soft_delete_still_removes_everything(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    job_id = new_job(world)
    upload(world, job_id, segments=2)
    drain(world)
    assert world.storage.list_keys(f"jobs/{job_id}/")
    jobs_store = world.deps.jobs
    world.replace(jobs=CrashOnce(jobs_store, "save", after=True))  # saved, then died
    with pytest.raises(Crash):
        jobs.request_deletion(world.deps, job_id)
    world.replace(jobs=jobs_store)
    job = world.deps.jobs.get(job_id)
    assert job is not None and job.status is JobStatus.DELETED
    drain(world)  # the cleanup request sent before the save arrives
    assert world.deps.jobs.get(job_id) is None
    for prefix in keys.job_prefixes(job_id):
        assert world.storage.list_keys(prefix) == []


def test_a_cleanup_request_for_a_soft_delete_that_never_happened_is_void(
    tmp_path: Path,
) -> None:
    world = make_world(tmp_path)
    job_id = new_job(world)
    upload(world, job_id, segments=2)
    drain(world)
    world.replace(jobs=CrashOnce(world.deps.jobs, "save"))  # dies before the soft delete
    with pytest.raises(Crash):
        jobs.request_deletion(world.deps, job_id)
    world.clock.advance(world.deps.policy.deletion_delay_s + 1)
    drain(world)
    job = world.deps.jobs.get(job_id)
    assert job is not None and job.status is JobStatus.COMPLETED  # still there, untouched
    assert world.storage.exists(keys.final_key(job_id))
