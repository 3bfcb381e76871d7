"""Failed jobs are listed newest failure first; a job still waiting for its video can be
cancelled, and a source uploaded after that never turns into work or outlives the job."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from stereospot.domain import keys
from stereospot.domain.errors import IllegalTransition, JobNotFound
from stereospot.domain.model import JobStatus
from stereospot.domain.ports import PushSubscription
from stereospot.domain.routing import QueueName
from stereospot.domain.services import jobs, pipeline
from tests.unit.fakes import World, drain, fake_video, make_world, new_job, upload

SUB = PushSubscription(endpoint="https://push.example/a", p256dh="k", auth="s")


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


def _objects(world: World, job_id: UUID) -> list[str]:
    return [k for prefix in keys.job_prefixes(job_id) for k in world.storage.list_keys(prefix)]


def _to(world: World, job_id: UUID, *statuses: JobStatus) -> None:
    for status in statuses:
        job = world.deps.jobs.get(job_id)
        assert job is not None
        extra: dict[str, Any] = (
            {"total_segments": 1} if status is JobStatus.CHUNKING_COMPLETE else {}
        )
        world.deps.jobs.save(job.transition(status, **extra))


# --------------------------------------------------------------------------- failed jobs


def test_fail_job_records_when_the_job_failed(world: World) -> None:
    job_id = new_job(world)
    world.clock.advance(42)
    failed = jobs.fail_job(world.deps, job_id, "The file is broken.")
    assert failed is not None and failed.failed_at == world.clock.now()
    assert failed.completed_at is None


def test_list_failed_is_newest_failure_first_and_paginated(world: World) -> None:
    ids = []
    for n in range(5):
        job_id = new_job(world)
        ids.append(job_id)
        world.clock.advance(1)
        jobs.fail_job(world.deps, job_id, f"reason {n}")
    # Failing an old job last puts it first, whatever its creation time.
    oldest = new_job(world)
    upload(world, oldest, 2)
    drain(world)  # completed: not a failure
    first = jobs.list_failed(world.deps, limit=2)
    rest = jobs.list_failed(world.deps, limit=10, cursor=first.next_cursor)
    assert [j.id for j in first.jobs + rest.jobs] == list(reversed(ids))
    assert rest.next_cursor is None
    assert [j.failure_reason for j in first.jobs] == ["reason 4", "reason 3"]
    with pytest.raises(ValueError, match="cursor"):
        jobs.list_failed(world.deps, cursor="nonsense")


def test_a_removed_failed_job_leaves_the_list(world: World) -> None:
    job_id = new_job(world)
    jobs.fail_job(world.deps, job_id, "nope")
    assert [j.id for j in jobs.list_failed(world.deps).jobs] == [job_id]
    jobs.request_deletion(world.deps, job_id)
    assert jobs.list_failed(world.deps).jobs == []


# --------------------------------------------------------------------------- cancel


def test_cancel_fails_a_waiting_job_so_it_can_be_removed(world: World) -> None:
    job_id = new_job(world)
    jobs.subscribe_push(world.deps, job_id, SUB)
    world.clock.advance(30)
    cancelled = jobs.cancel_job(world.deps, job_id)
    assert cancelled.status is JobStatus.FAILED
    assert cancelled.failure_reason == jobs.CANCELLED_REASON == "Cancelled before the upload."
    assert cancelled.failed_at == world.clock.now()
    assert cancelled.status_before_failure is JobStatus.CREATED
    assert cancelled.is_removable
    assert world.deps.jobs.get(job_id) == cancelled
    assert [e.status for e in world.events.all()] == ["created", "failed"]
    assert world.events.all()[-1].detail == {"reason": jobs.CANCELLED_REASON}
    assert world.push.sent == []  # the user did it; nobody needs telling
    assert [j.id for j in jobs.list_failed(world.deps).jobs] == [job_id]
    assert jobs.list_in_progress(world.deps) == []
    jobs.request_deletion(world.deps, job_id)
    assert drain(world).errors == []
    assert world.deps.jobs.get(job_id) is None


def test_cancelling_twice_returns_the_cancelled_job_unchanged(world: World) -> None:
    job_id = new_job(world)
    first = jobs.cancel_job(world.deps, job_id)
    world.clock.advance(5)
    assert jobs.cancel_job(world.deps, job_id) == first
    assert [e.status for e in world.events.all()] == ["created", "failed"]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ([JobStatus.INGESTING], "downloading its video"),
        ([JobStatus.CHUNKING_IN_PROGRESS], "preparing its segments"),
        ([JobStatus.CHUNKING_IN_PROGRESS, JobStatus.CHUNKING_COMPLETE], "converting"),
        (
            [JobStatus.CHUNKING_IN_PROGRESS, JobStatus.CHUNKING_COMPLETE, JobStatus.REASSEMBLING],
            "finishing",
        ),
    ],
)
def test_cancel_is_refused_once_the_job_has_started(
    world: World, path: list[JobStatus], message: str
) -> None:
    job_id = new_job(world)
    _to(world, job_id, *path)
    before = world.deps.jobs.get(job_id)
    with pytest.raises(IllegalTransition, match=f"already started \\(it is {message}\\)"):
        jobs.cancel_job(world.deps, job_id)
    assert world.deps.jobs.get(job_id) == before


def test_cancel_is_refused_for_finished_jobs_and_other_failures(world: World) -> None:
    done = new_job(world)
    upload(world, done, 1)
    drain(world)
    with pytest.raises(IllegalTransition, match="already completed; there is nothing to cancel"):
        jobs.cancel_job(world.deps, done)
    broken = new_job(world)
    jobs.fail_job(world.deps, broken, "The file is broken.")
    with pytest.raises(IllegalTransition, match="already failed"):
        jobs.cancel_job(world.deps, broken)
    assert world.deps.jobs.get(broken).failure_reason == "The file is broken."  # type: ignore[union-attr]


def test_cancel_of_a_missing_or_removed_job_is_not_found(world: World) -> None:
    with pytest.raises(JobNotFound):
        jobs.cancel_job(world.deps, uuid4())
    job_id = new_job(world)
    jobs.cancel_job(world.deps, job_id)
    jobs.request_deletion(world.deps, job_id)
    with pytest.raises(JobNotFound):
        jobs.cancel_job(world.deps, job_id)


def test_an_upload_landing_after_cancel_is_ignored_then_removed_with_the_job(
    world: World,
) -> None:
    job_id = new_job(world)
    url = jobs.request_upload_url(world.deps, job_id, "late.mp4")  # the browser has a URL
    cancelled = jobs.cancel_job(world.deps, job_id)
    world.storage.put_via_url(url, fake_video(2))  # ...and its PUT lands afterwards
    assert world.queues[QueueName.CHUNKING].approximate_count() == 1
    assert drain(world).errors == []
    assert world.deps.jobs.get(job_id) == cancelled  # chunking left it alone
    assert world.inference.requests == []
    assert _objects(world, job_id) == [keys.source_key(job_id)]  # the stray source

    jobs.request_deletion(world.deps, job_id)
    assert drain(world).errors == []
    assert _objects(world, job_id) == []
    assert world.deps.jobs.get(job_id) is None


def test_an_upload_landing_after_the_cleanup_is_removed_by_chunking(world: World) -> None:
    job_id = new_job(world)
    url = jobs.request_upload_url(world.deps, job_id, "very-late.mp4")
    jobs.cancel_job(world.deps, job_id)
    jobs.request_deletion(world.deps, job_id)
    assert drain(world).errors == []
    assert world.deps.jobs.get(job_id) is None
    world.storage.put_via_url(url, fake_video(2))  # a presigned PUT cannot be revoked
    assert _objects(world, job_id) == [keys.source_key(job_id)]
    assert drain(world).errors == []
    assert _objects(world, job_id) == []
    assert world.deps.jobs.get(job_id) is None


def test_a_late_source_of_a_removed_job_awaiting_cleanup_is_removed(world: World) -> None:
    job_id = new_job(world)
    jobs.cancel_job(world.deps, job_id)
    jobs.request_deletion(world.deps, job_id)  # DELETED; cleanup not run yet
    world.storage.put_bytes(keys.source_key(job_id), fake_video(1))
    pipeline.chunk_source(world.deps, job_id)
    assert _objects(world, job_id) == []
    assert world.deps.jobs.get(job_id).status is JobStatus.DELETED  # type: ignore[union-attr]
    assert drain(world).errors == []
    assert world.deps.jobs.get(job_id) is None
