"""SegmentProgressStore contract: upserts that keep the first start and never go back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from stereospot.domain.model import SegmentProgress
from stereospot.domain.ports import SegmentProgressStore

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def report(job_id: UUID, index: int, done: int, seconds: int, total: int = 360) -> SegmentProgress:
    return SegmentProgress(
        job_id=job_id,
        segment_index=index,
        frames_done=done,
        frames_total=total,
        started_at=T0 + timedelta(seconds=seconds),
        updated_at=T0 + timedelta(seconds=seconds),
    )


def test_later_reports_replace_the_count_and_keep_the_start(
    progress_store: SegmentProgressStore,
) -> None:
    job_id = uuid4()
    progress_store.put(report(job_id, 0, 0, 0))
    progress_store.put(report(job_id, 0, 40, 3))
    [stored] = progress_store.list(job_id)
    assert (stored.frames_done, stored.frames_total) == (40, 360)
    assert stored.started_at == T0
    assert stored.updated_at == T0 + timedelta(seconds=3)


def test_a_smaller_count_is_ignored(progress_store: SegmentProgressStore) -> None:
    job_id = uuid4()
    progress_store.put(report(job_id, 0, 100, 5))
    progress_store.put(report(job_id, 0, 10, 9))  # a retry starting over, or a late write
    [stored] = progress_store.list(job_id)
    assert stored.frames_done == 100
    assert stored.updated_at == T0 + timedelta(seconds=5)


def test_list_is_per_job_in_index_order_and_delete_job_removes_only_that_job(
    progress_store: SegmentProgressStore,
) -> None:
    job_id, other = uuid4(), uuid4()
    for index in (2, 0, 1):
        progress_store.put(report(job_id, index, index * 10, index))
    progress_store.put(report(other, 0, 5, 0))
    assert [r.segment_index for r in progress_store.list(job_id)] == [0, 1, 2]
    assert [r.frames_done for r in progress_store.list(job_id)] == [0, 10, 20]
    progress_store.delete_job(job_id)
    assert progress_store.list(job_id) == []
    assert [r.frames_done for r in progress_store.list(other)] == [5]
    assert progress_store.list(uuid4()) == []
