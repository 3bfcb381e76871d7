"""Memory stores: conditional writes like DynamoDB's, lock claims, TTLs, events, push."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from stereospot.adapters.memory.clock import ManualClock
from stereospot.adapters.memory.completions import MemorySegmentCompletionStore
from stereospot.adapters.memory.events import MemoryJobEvents
from stereospot.adapters.memory.invocations import MemoryInvocationStore
from stereospot.adapters.memory.jobs import MemoryJobStore
from stereospot.adapters.memory.push import MemoryPushSubscriptionStore, RecordingPushSender
from stereospot.adapters.memory.reassembly import MemoryReassemblyLock
from stereospot.domain.errors import AlreadyExists, ConditionFailed
from stereospot.domain.model import Job, JobStatus, SegmentCompletion
from stereospot.domain.ports import Invocation, JobEvent, PushSubscription, SubscriptionGone

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _job(minutes: int = 0) -> Job:
    return Job(id=uuid4(), created_at=T0 + timedelta(minutes=minutes))


def test_job_create_is_create_if_absent() -> None:
    store = MemoryJobStore()
    job = _job()
    store.create(job)
    with pytest.raises(AlreadyExists):
        store.create(job)
    assert store.get(job.id) == job and store.get(uuid4()) is None


def test_job_save_is_conditional_on_version() -> None:
    store = MemoryJobStore()
    job = _job()
    store.create(job)
    saved = store.save(job.transition(JobStatus.CHUNKING_IN_PROGRESS))
    assert saved.version == 1 and store.get(job.id) == saved
    with pytest.raises(ConditionFailed):
        store.save(job.transition(JobStatus.INGESTING))  # stale version 0
    assert store.get(job.id) == saved  # nothing written
    with pytest.raises(ConditionFailed):
        store.save(_job())  # never created


def test_of_racing_saves_exactly_one_wins() -> None:
    store = MemoryJobStore()
    job = _job()
    store.create(job)
    barrier = threading.Barrier(8)
    wins: list[int] = []

    def save(i: int) -> None:
        barrier.wait()
        try:
            store.save(job.with_changes(title=str(i)))
            wins.append(i)
        except ConditionFailed:
            pass

    threads = [threading.Thread(target=save, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    assert store.get(job.id).title == str(wins[0])  # type: ignore[union-attr]


def test_job_lists() -> None:
    store = MemoryJobStore()
    old, new = _job(0), _job(5)
    for job in (old, new):
        store.create(job)
    done = [_job(i) for i in range(5)]
    for i, job in enumerate(done):
        store.create(job)
        j = store.save(job.transition(JobStatus.CHUNKING_IN_PROGRESS))
        j = store.save(j.transition(JobStatus.CHUNKING_COMPLETE, total_segments=1))
        j = store.save(j.transition(JobStatus.REASSEMBLING))
        store.save(j.transition(JobStatus.COMPLETED, completed_at=T0 + timedelta(hours=i)))
    assert [j.id for j in store.list_in_progress()] == [new.id, old.id]
    assert [j.id for j in store.list_in_progress(limit=1)] == [new.id]
    pages, cursor = [], None
    while True:
        page = store.list_completed(limit=2, cursor=cursor)
        pages.append([j.id for j in page.jobs])
        if (cursor := page.next_cursor) is None:
            break
    assert pages == [[done[4].id, done[3].id], [done[2].id, done[1].id], [done[0].id]]
    with pytest.raises(ValueError):
        store.list_completed(cursor="garbage")
    store.delete(old.id)
    store.delete(old.id)
    assert store.get(old.id) is None


def test_completions_are_idempotent_and_ordered() -> None:
    store = MemorySegmentCompletionStore()
    job_id = uuid4()

    def c(i: int) -> SegmentCompletion:
        return SegmentCompletion(
            job_id=job_id, segment_index=i, output_key=f"k{i}", completed_at=T0
        )

    assert store.put(c(2)) and store.put(c(0))
    assert not store.put(c(2))
    assert [x.segment_index for x in store.list(job_id)] == [0, 2]
    assert store.list(uuid4()) == []
    store.delete_job(job_id)
    assert store.list(job_id) == []


def test_lock_created_once_claimed_once_with_lease_and_ttl() -> None:
    lock = MemoryReassemblyLock()
    job_id = uuid4()
    assert not lock.claim(job_id, "a", T0, 60)  # no lock yet
    assert lock.create(job_id, T0, ttl_s=3600)
    assert not lock.create(job_id, T0, ttl_s=3600)
    assert lock.claim(job_id, "a", T0, 60)
    assert not lock.claim(job_id, "b", T0 + timedelta(seconds=59), 60)
    assert lock.claim(job_id, "a", T0 + timedelta(seconds=59), 60)  # same claimant again
    assert lock.claim(job_id, "b", T0 + timedelta(seconds=120), 60)  # a's lease ran out
    assert lock.claimant(job_id) == "b"
    later = T0 + timedelta(seconds=3600)
    assert lock.create(job_id, later, ttl_s=3600)  # expired: counts as absent
    lock.delete(job_id)
    assert not lock.claim(job_id, "a", later, 60)


def test_racing_claimants_exactly_one_wins() -> None:
    lock = MemoryReassemblyLock()
    job_id = uuid4()
    lock.create(job_id, T0, 3600)
    barrier = threading.Barrier(6)
    results: list[bool] = []

    def claim(name: str) -> None:
        barrier.wait()
        results.append(lock.claim(job_id, name, T0, 60))

    threads = [threading.Thread(target=claim, args=(f"c{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 5 + [True]


def test_invocations_expire() -> None:
    store = MemoryInvocationStore()
    inv = Invocation("responses/x.out", uuid4(), 3)
    store.put(inv, T0, ttl_s=60)
    assert store.get("responses/x.out", T0 + timedelta(seconds=59)) == inv
    assert store.get("responses/x.out", T0 + timedelta(seconds=60)) is None
    store.put(inv, T0, ttl_s=60)
    store.delete("responses/x.out")
    assert store.get("responses/x.out", T0) is None


def test_events_cursor() -> None:
    events = MemoryJobEvents()
    job_id = uuid4()
    events.publish(JobEvent(job_id, "created"))
    got, cursor = events.read_after(None)
    assert got == []  # None means from now on
    events.publish(JobEvent(job_id, "chunking_in_progress"))
    events.publish(JobEvent(job_id, "chunking_complete"))
    got, cursor2 = events.read_after(cursor, limit=1)
    assert [e.status for e in got] == ["chunking_in_progress"]
    got, cursor3 = events.read_after(cursor2)
    assert [e.status for e in got] == ["chunking_complete"]
    assert events.read_after(cursor3) == ([], cursor3)
    assert events.read_after("not-a-cursor")[0] == []
    assert events.read_after("0")[0][0].status == "created"


def test_push_store_and_recording_sender() -> None:
    store = MemoryPushSubscriptionStore()
    job_id = uuid4()
    a = PushSubscription("https://push.example/a", "k", "s")
    b = PushSubscription("https://push.example/b", "k", "s")
    store.add(job_id, a)
    store.add(job_id, a)
    store.add(job_id, b)
    assert store.list(job_id) == [a, b]
    store.remove(job_id, a.endpoint)
    assert store.list(job_id) == [b]
    store.delete_job(job_id)
    assert store.list(job_id) == []

    sender = RecordingPushSender()
    sender.send(a, {"x": 1})
    sender.gone.add(b.endpoint)
    with pytest.raises(SubscriptionGone):
        sender.send(b, {})
    assert [(s.subscription, s.payload) for s in sender.sent] == [(a, {"x": 1})]


def test_manual_clock() -> None:
    clock = ManualClock(T0)
    assert clock.advance(5) == T0 + timedelta(seconds=5) == clock.now()
    with pytest.raises(ValueError):
        ManualClock(datetime(2026, 1, 1))
