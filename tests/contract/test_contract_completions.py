"""SegmentCompletionStore contract: idempotent puts, index order, per-job isolation."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from stereospot.domain.keys import output_segment_key
from stereospot.domain.model import SegmentCompletion
from stereospot.domain.ports import SegmentCompletionStore

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def completion(job_id: UUID, index: int, seconds: int = 0) -> SegmentCompletion:
    return SegmentCompletion(
        job_id=job_id,
        segment_index=index,
        output_key=output_segment_key(job_id, index),
        completed_at=T0 + timedelta(seconds=seconds, microseconds=index),
    )


def test_put_records_once_and_the_first_record_stays(
    completion_store: SegmentCompletionStore,
) -> None:
    job_id = uuid4()
    first = completion(job_id, 0)
    assert completion_store.put(first) is True
    assert completion_store.put(first) is False
    assert completion_store.put(completion(job_id, 0, seconds=60)) is False
    assert completion_store.list(job_id) == [first]


def test_list_is_ordered_by_index_whatever_the_put_order(
    completion_store: SegmentCompletionStore,
) -> None:
    job_id, other_job = uuid4(), uuid4()
    for index in (3, 0, 11, 2, 1):
        completion_store.put(completion(job_id, index))
    completion_store.put(completion(other_job, 5))
    listed = completion_store.list(job_id)
    assert [c.segment_index for c in listed] == [0, 1, 2, 3, 11]
    assert listed[2] == completion(job_id, 2)
    assert completion_store.list(uuid4()) == []


def test_delete_job_removes_only_that_job(completion_store: SegmentCompletionStore) -> None:
    job_id, other_job = uuid4(), uuid4()
    for index in range(3):
        completion_store.put(completion(job_id, index))
    completion_store.put(completion(other_job, 0))
    completion_store.delete_job(job_id)
    assert completion_store.list(job_id) == []
    assert completion_store.list(other_job) == [completion(other_job, 0)]
    assert completion_store.put(completion(job_id, 0)) is True  # recorded anew


def test_racing_puts_of_one_segment_record_it_once(
    completion_store: SegmentCompletionStore,
) -> None:
    job_id = uuid4()
    racers = 8
    start = threading.Barrier(racers)
    results: list[bool] = []

    def race(seconds: int) -> None:
        start.wait()
        results.append(completion_store.put(completion(job_id, 7, seconds)))

    threads = [threading.Thread(target=race, args=(i,)) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * (racers - 1) + [True]
    assert len(completion_store.list(job_id)) == 1
