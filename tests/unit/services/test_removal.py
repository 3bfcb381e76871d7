"""Removal: refused while in flight; soft delete then an idempotent, crash-safe cleanup."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from stereospot.domain import keys
from stereospot.domain.errors import JobNotFound, JobNotRemovable
from stereospot.domain.formats import StereoFormat
from stereospot.domain.messages import DeletionRequested, parse_message
from stereospot.domain.model import JobStatus
from stereospot.domain.ports import PushSubscription
from stereospot.domain.routing import QueueName
from stereospot.domain.services import jobs, pipeline
from tests.unit.fakes import Crash, CrashOnce, World, drain, make_world, new_job, upload

SUB = PushSubscription(endpoint="https://push.example/a", p256dh="k", auth="s")


def _job_in(world: World, status: JobStatus) -> UUID:
    job_id = new_job(world)
    path = {
        JobStatus.CREATED: [],
        JobStatus.INGESTING: [JobStatus.INGESTING],
        JobStatus.CHUNKING_IN_PROGRESS: [JobStatus.CHUNKING_IN_PROGRESS],
        JobStatus.CHUNKING_COMPLETE: [JobStatus.CHUNKING_IN_PROGRESS, JobStatus.CHUNKING_COMPLETE],
        JobStatus.REASSEMBLING: [
            JobStatus.CHUNKING_IN_PROGRESS,
            JobStatus.CHUNKING_COMPLETE,
            JobStatus.REASSEMBLING,
        ],
    }[status]
    for step in path:
        job = world.deps.jobs.get(job_id)
        assert job is not None
        extra: dict[str, Any] = {"total_segments": 1} if step is JobStatus.CHUNKING_COMPLETE else {}
        world.deps.jobs.save(job.transition(step, **extra))
    return job_id


@pytest.mark.parametrize(
    "status",
    [
        JobStatus.CREATED,
        JobStatus.INGESTING,
        JobStatus.CHUNKING_IN_PROGRESS,
        JobStatus.CHUNKING_COMPLETE,
        JobStatus.REASSEMBLING,
    ],
)
def test_deletion_in_flight_is_refused(tmp_path: Path, status: JobStatus) -> None:
    world = make_world(tmp_path)
    job_id = _job_in(world, status)
    before = world.deps.jobs.get(job_id)
    with pytest.raises(JobNotRemovable, match="once it has completed or failed"):
        jobs.request_deletion(world.deps, job_id)
    assert world.deps.jobs.get(job_id) == before
    assert world.queues[QueueName.DELETION].approximate_count() == 0


def _everything_of(world: World, job_id: UUID) -> dict[str, Any]:
    return {
        "objects": [k for p in keys.job_prefixes(job_id) for k in world.storage.list_keys(p)],
        "completions": world.deps.completions.list(job_id),
        "lock_claimable": world.lock.create(job_id, world.clock.now(), 60) is False,
        "subscriptions": world.deps.push_subscriptions.list(job_id),
        "job": world.deps.jobs.get(job_id),
    }


def test_delete_completed_job_removes_everything(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    job_id = new_job(world)
    other = new_job(world)
    jobs.subscribe_push(world.deps, job_id, SUB)
    upload(world, job_id, 3)
    upload(world, other, 1)
    drain(world)
    assert len(_everything_of(world, job_id)["objects"]) == 10  # with the poster

    deleted = jobs.request_deletion(world.deps, job_id)
    assert deleted.status is JobStatus.DELETED
    with pytest.raises(JobNotFound):  # hidden at once
        jobs.get_visible_job(world.deps, job_id)
    [body] = world.queues[QueueName.DELETION].bodies()
    assert parse_message(body) == DeletionRequested(job_id=job_id)
    assert drain(world).errors == []

    remaining = _everything_of(world, job_id)
    assert remaining["objects"] == []
    assert remaining["completions"] == [] and remaining["subscriptions"] == []
    assert remaining["job"] is None
    # The other job is untouched.
    assert world.deps.jobs.get(other).status is JobStatus.COMPLETED  # type: ignore[union-attr]
    assert world.storage.exists(keys.final_key(other))
    # A duplicated deletion message is harmless.
    pipeline.cleanup_job(world.deps, job_id)
    assert world.deps.jobs.get(other) is not None


def test_failed_jobs_can_be_removed_and_twice_is_not_found(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    job_id = new_job(world)
    jobs.fail_job(world.deps, job_id, "nope")
    jobs.request_deletion(world.deps, job_id)
    with pytest.raises(JobNotFound):
        jobs.request_deletion(world.deps, job_id)
    assert world.queues[QueueName.DELETION].approximate_count() == 1


def test_cleanup_refuses_a_job_that_was_not_removed(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    job_id = new_job(world)
    upload(world, job_id, 1)
    drain(world)
    pipeline.cleanup_job(world.deps, job_id)  # a forged or misrouted deletion message
    assert world.deps.jobs.get(job_id) is not None
    assert world.storage.exists(keys.final_key(job_id))


@pytest.mark.parametrize(
    ("port", "method", "after"),
    [
        ("storage", "delete_prefix", True),  # some prefixes removed
        ("completions", "delete_job", False),
        ("reassembly_lock", "delete", False),
        ("push_subscriptions", "delete_job", False),
        ("jobs", "delete", False),
        ("jobs", "delete", True),  # everything removed, message not deleted
    ],
)
def test_cleanup_crash_then_redelivery_removes_everything(
    tmp_path: Path, port: str, method: str, after: bool
) -> None:
    world = make_world(tmp_path)
    job_id = new_job(world)
    jobs.subscribe_push(world.deps, job_id, SUB)
    upload(world, job_id, 2)
    drain(world)
    proxy = CrashOnce(getattr(world.deps, port), method, after=after)
    world.replace(**{port: proxy})
    jobs.request_deletion(world.deps, job_id)
    report = drain(world)
    assert proxy.fired and any(isinstance(e, Crash) for e in report.errors)
    remaining = _everything_of(world, job_id)
    assert remaining["objects"] == [] and remaining["completions"] == []
    assert remaining["subscriptions"] == [] and remaining["job"] is None


def test_late_events_for_a_removed_job_change_nothing(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    job_id = new_job(world)
    upload(world, job_id, 2)
    drain(world)
    jobs.request_deletion(world.deps, job_id)
    drain(world)
    pipeline.handle_output_object(world.deps, keys.output_segment_key(job_id, 0))
    pipeline.handle_output_object(world.deps, keys.final_key(job_id))
    segment = keys.segment_key(job_id, 0, 2, StereoFormat.HALF_SBS)
    pipeline.handle_segment_ready(world.deps, job_id, 0, 2, segment)
    pipeline.reassemble(world.deps, job_id, "late")
    pipeline.chunk_source(world.deps, job_id)
    assert world.deps.jobs.get(job_id) is None
    assert world.deps.completions.list(job_id) == []
    assert world.inference.requests and all(r.job_id == job_id for r in world.inference.requests)
    assert len(world.inference.requests) == 2  # none for the late segment event
