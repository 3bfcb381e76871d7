"""JobEvents contract: an ordered log read from a cursor."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from stereospot.domain.ports import JobEvent, JobEvents


def event(n: int) -> JobEvent:
    return JobEvent(
        job_id=uuid4(),
        status="chunking_complete",
        segments_done=n,
        at=datetime(2026, 3, 1, 12, 0, n, tzinfo=UTC),
        detail={"percent": 5.0 + n, "stage": "Converting to 3D", "n": n},
    )


def test_a_new_reader_starts_from_now_on(job_events: JobEvents) -> None:
    job_events.publish(event(0))
    events, cursor = job_events.read_after(None)
    assert events == []
    later = event(1)
    job_events.publish(later)
    events, _ = job_events.read_after(cursor)
    assert events == [later]


def test_events_come_back_in_order_and_whole(job_events: JobEvents) -> None:
    _, cursor = job_events.read_after(None)
    published = [event(n) for n in range(3)]
    published.append(JobEvent(job_id=uuid4(), status="created"))  # optional fields unset
    for item in published:
        job_events.publish(item)
    events, cursor = job_events.read_after(cursor)
    assert [(e.status, e.segments_done, e.at, e.detail) for e in events] == [
        (e.status, e.segments_done, e.at, e.detail) for e in published
    ]
    assert [e.job_id for e in events] == [e.job_id for e in published]
    assert job_events.read_after(cursor) == ([], cursor)


def test_limit_pages_through_the_log(job_events: JobEvents) -> None:
    _, cursor = job_events.read_after(None)
    for n in range(5):
        job_events.publish(event(n))
    seen: list[int | None] = []
    for _ in range(3):
        events, cursor = job_events.read_after(cursor, limit=2)
        assert len(events) <= 2
        seen += [e.segments_done for e in events]
    assert seen == [0, 1, 2, 3, 4]
    assert job_events.read_after(cursor, limit=2)[0] == []


def test_a_cursor_this_log_never_gave_means_from_now_on(job_events: JobEvents) -> None:
    job_events.publish(event(0))
    for foreign in ("999999", "not-a-cursor"):
        events, cursor = job_events.read_after(foreign)
        assert events == []
        job_events.publish(event(1))
        assert [e.segments_done for e in job_events.read_after(cursor)[0]] == [1]
