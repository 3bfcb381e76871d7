"""JobStore contract: conditional writes, races, listings and pagination."""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from stereospot.domain.errors import AlreadyExists, ConditionFailed
from stereospot.domain.formats import ConversionSettings, StereoFormat, SyntheticView
from stereospot.domain.model import Job, JobStatus, SegmentPlanEntry
from stereospot.domain.ports import JobStore

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def make_job(
    status: JobStatus = JobStatus.CREATED,
    created_at: datetime = T0,
    completed_at: datetime | None = None,
    **fields: object,
) -> Job:
    return Job(
        id=uuid4(), status=status, created_at=created_at, completed_at=completed_at, **fields
    )


def test_create_then_get_round_trips_every_field(job_store: JobStore) -> None:
    job = make_job(
        status=JobStatus.CHUNKING_COMPLETE,
        output_format=StereoFormat.FULL_TB,
        settings=ConversionSettings(
            divergence=3.5, convergence=0.25, synthetic_view=SyntheticView.LEFT
        ),
        title="Holiday: été à Nîmes",
        source_url="https://example.com/v.mp4",
        uploaded_at=T0 + timedelta(seconds=5),
        chunked_at=T0 + timedelta(seconds=9, microseconds=123456),
        source_size=123_456_789,
        source_duration_s=61.5,
        total_segments=2,
        segment_plan=(
            SegmentPlanEntry(index=0, start_s=0.0, duration_s=30.0, frame_count=720),
            SegmentPlanEntry(index=1, start_s=30.0, duration_s=31.5, frame_count=756),
        ),
    )
    job_store.create(job)
    assert job_store.get(job.id) == job


def test_get_of_an_unknown_job_is_none(job_store: JobStore) -> None:
    assert job_store.get(uuid4()) is None


def test_create_twice_raises_already_exists_and_keeps_the_first(job_store: JobStore) -> None:
    job = make_job(title="first")
    job_store.create(job)
    with pytest.raises(AlreadyExists):
        job_store.create(job.with_changes(title="second"))
    stored = job_store.get(job.id)
    assert stored is not None and stored.title == "first"
    assert issubclass(AlreadyExists, ConditionFailed)


def test_save_bumps_the_version_and_returns_what_it_stored(job_store: JobStore) -> None:
    job = make_job()
    job_store.create(job)
    saved = job_store.save(job.transition(JobStatus.CHUNKING_IN_PROGRESS))
    assert saved.version == job.version + 1
    assert saved.status is JobStatus.CHUNKING_IN_PROGRESS
    assert job_store.get(job.id) == saved
    again = job_store.save(saved.with_changes(source_size=10))
    assert again.version == job.version + 2
    assert job_store.get(job.id) == again


def test_save_from_a_stale_version_fails_and_writes_nothing(job_store: JobStore) -> None:
    job = make_job()
    job_store.create(job)
    winner = job_store.save(job.with_changes(title="winner"))
    with pytest.raises(ConditionFailed):
        job_store.save(job.with_changes(title="stale"))
    assert job_store.get(job.id) == winner


def test_save_of_a_job_never_created_fails(job_store: JobStore) -> None:
    job = make_job()
    with pytest.raises(ConditionFailed):
        job_store.save(job)
    assert job_store.get(job.id) is None


def test_racing_saves_from_one_version_have_exactly_one_winner(job_store: JobStore) -> None:
    job = make_job()
    job_store.create(job)
    racers = 8
    start = threading.Barrier(racers)
    winners: list[str] = []
    losers: list[str] = []
    errors: list[BaseException] = []

    def race(title: str) -> None:
        start.wait()
        try:
            job_store.save(job.with_changes(title=title))
            winners.append(title)
        except ConditionFailed:
            losers.append(title)
        except BaseException as exc:  # surfaced below; a thread must not swallow it
            errors.append(exc)

    threads = [threading.Thread(target=race, args=(f"racer {i}",)) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(winners) == 1 and len(losers) == racers - 1
    stored = job_store.get(job.id)
    assert stored is not None
    assert stored.title == winners[0] and stored.version == job.version + 1


def test_list_in_progress_is_newest_created_first_and_skips_finished(job_store: JobStore) -> None:
    in_progress = [
        make_job(status=status, created_at=T0 + timedelta(minutes=i))
        for i, status in enumerate(
            [
                JobStatus.CREATED,
                JobStatus.INGESTING,
                JobStatus.CHUNKING_IN_PROGRESS,
                JobStatus.CHUNKING_COMPLETE,
                JobStatus.REASSEMBLING,
            ]
        )
    ]
    finished = [
        make_job(JobStatus.COMPLETED, T0 + timedelta(hours=1), T0 + timedelta(hours=2)),
        make_job(JobStatus.FAILED, T0 + timedelta(hours=1), failure_reason="bad file"),
        make_job(JobStatus.DELETED, T0 + timedelta(hours=1)),
    ]
    for job in [*finished, *in_progress]:
        job_store.create(job)
    newest_first = [job.id for job in reversed(in_progress)]
    assert [job.id for job in job_store.list_in_progress()] == newest_first
    assert [job.id for job in job_store.list_in_progress(limit=2)] == newest_first[:2]


def test_a_job_leaves_the_in_progress_list_when_it_completes(job_store: JobStore) -> None:
    job = make_job(JobStatus.REASSEMBLING)
    job_store.create(job)
    assert [j.id for j in job_store.list_in_progress()] == [job.id]
    job_store.save(job.transition(JobStatus.COMPLETED, completed_at=T0 + timedelta(hours=1)))
    assert job_store.list_in_progress() == []
    assert [j.id for j in job_store.list_completed().jobs] == [job.id]


def _all_pages(job_store: JobStore, limit: int) -> list[list[Job]]:
    pages: list[list[Job]] = []
    cursor: str | None = None
    for _ in range(100):
        page = job_store.list_completed(limit=limit, cursor=cursor)
        assert len(page.jobs) <= limit
        pages.append(page.jobs)
        cursor = page.next_cursor
        if cursor is None:
            return pages
    raise AssertionError("list_completed never returned a last page")


def test_completed_jobs_page_newest_first_with_a_stable_cursor(job_store: JobStore) -> None:
    completed = [
        make_job(
            JobStatus.COMPLETED,
            created_at=T0,
            completed_at=T0 + timedelta(minutes=i % 5),  # ties: several share a moment
        )
        for i in range(11)
    ]
    others = [make_job(JobStatus.FAILED), make_job(JobStatus.REASSEMBLING)]
    for job in [*completed, *others]:
        job_store.create(job)

    first_pass = _all_pages(job_store, limit=3)
    flattened = [job.id for page in first_pass for job in page]
    assert len(flattened) == len(set(flattened)) == len(completed)
    assert set(flattened) == {job.id for job in completed}
    times = [job.completed_at for page in first_pass for job in page]
    assert times == sorted(times, reverse=True)  # type: ignore[type-var]
    # A trailing empty page is allowed (DynamoDB may not know it has reached the end).
    assert len(first_pass) <= math.ceil(len(completed) / 3) + 1
    assert all(first_pass[:-1])
    # The order is total and repeatable: paging again gives the very same sequence.
    assert [job.id for page in _all_pages(job_store, limit=3) for job in page] == flattened
    assert [job.id for page in _all_pages(job_store, limit=100) for job in page] == flattened


def test_delete_removes_the_record_and_absent_is_fine(job_store: JobStore) -> None:
    job = make_job()
    job_store.create(job)
    job_store.delete(job.id)
    assert job_store.get(job.id) is None
    job_store.delete(job.id)
    job_store.create(job)  # the id is free again
    assert job_store.get(job.id) == job


# --------------------------------------------------------------------------- failed jobs


def failed_job(failed_at: datetime | None, created_at: datetime = T0) -> Job:
    job = make_job(JobStatus.CHUNKING_IN_PROGRESS, created_at=created_at)
    return job.fail("The file is not a video we can read.", at=failed_at)


def _all_failed_pages(job_store: JobStore, limit: int) -> list[list[Job]]:
    pages: list[list[Job]] = []
    cursor: str | None = None
    for _ in range(100):
        page = job_store.list_failed(limit=limit, cursor=cursor)
        assert len(page.jobs) <= limit
        pages.append(page.jobs)
        cursor = page.next_cursor
        if cursor is None:
            return pages
    raise AssertionError("list_failed never returned a last page")


def test_failed_jobs_page_newest_failure_first_with_a_stable_cursor(job_store: JobStore) -> None:
    failed = [
        # Created in the opposite order to their failures: the list follows failed_at.
        failed_job(T0 + timedelta(hours=1, minutes=i % 4), created_at=T0 - timedelta(minutes=i))
        for i in range(10)
    ]
    removed = failed_job(T0 + timedelta(hours=3)).transition(JobStatus.DELETED)
    others = [
        removed,
        make_job(JobStatus.COMPLETED, T0, T0 + timedelta(hours=2)),
        make_job(JobStatus.CREATED, T0 + timedelta(hours=4)),
    ]
    for job in [*failed, *others]:
        job_store.create(job)

    first_pass = _all_failed_pages(job_store, limit=3)
    flattened = [job.id for page in first_pass for job in page]
    assert len(flattened) == len(set(flattened)) == len(failed)
    assert set(flattened) == {job.id for job in failed}
    times = [job.failed_at for page in first_pass for job in page]
    assert times == sorted(times, reverse=True)  # type: ignore[type-var]
    assert len(first_pass) <= math.ceil(len(failed) / 3) + 1
    assert all(first_pass[:-1])
    assert [job.id for page in _all_failed_pages(job_store, limit=3) for job in page] == flattened
    assert [job.id for page in _all_failed_pages(job_store, limit=50) for job in page] == flattened
    # What is listed is the whole job, failure time and reason included.
    by_id = {job.id: job for job in failed}
    assert all(job == by_id[job.id] for page in first_pass for job in page)


def test_a_job_joins_the_failed_list_when_it_fails_and_leaves_it_when_removed(
    job_store: JobStore,
) -> None:
    job = make_job(JobStatus.CREATED)
    job_store.create(job)
    assert job_store.list_failed().jobs == []
    failed = job_store.save(job.fail("Cancelled before the upload.", at=T0 + timedelta(hours=1)))
    assert failed.failed_at == T0 + timedelta(hours=1)
    page = job_store.list_failed()
    assert page.jobs == [failed] and page.next_cursor is None
    assert job_store.list_in_progress() == [] and job_store.list_completed().jobs == []
    job_store.save(failed.transition(JobStatus.DELETED))
    assert job_store.list_failed().jobs == []


@pytest.mark.parametrize("cursor", ["", "not a cursor", "%%%"])
def test_an_unreadable_failed_cursor_is_a_value_error(job_store: JobStore, cursor: str) -> None:
    job_store.create(failed_job(T0))
    with pytest.raises(ValueError, match="cursor"):
        job_store.list_failed(cursor=cursor)


@pytest.mark.platforms("memory", "local")
def test_a_job_failed_without_a_time_is_listed_at_its_creation(job_store: JobStore) -> None:
    """Jobs failed before failed_at existed (DynamoDB's sparse index cannot list them)."""
    older = failed_job(T0 + timedelta(minutes=5))
    legacy = failed_job(None, created_at=T0 + timedelta(minutes=10))
    newer = failed_job(T0 + timedelta(minutes=15))
    for job in (older, legacy, newer):
        job_store.create(job)
    assert [j.id for j in job_store.list_failed().jobs] == [newer.id, legacy.id, older.id]
