"""Job events on AWS: DynamoDB stream records (as the AWS documentation shows them,
written by hand here because moto emulates neither streams nor Pipes) normalised into
JobEvents, and AwsJobEvents reading them from a real SQS queue as Pipes would fill it."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from stereospot.adapters.aws.clients import AwsClients
from stereospot.adapters.aws.job_events import SEGMENT_COMPLETED, AwsJobEvents, normalise
from stereospot.adapters.aws.sqs_queue import SqsQueue
from stereospot.config import Settings
from stereospot.domain.errors import MalformedMessage
from stereospot.domain.ports import JobEvent

JOB = UUID("6f1c1f4e-3b7a-4c47-9d0e-2f5a8c1b9e10")
TABLE_ARN = (
    "arn:aws:dynamodb:us-east-1:123456789012:table/stack-jobs/stream/2026-11-24T10:00:00.000"
)
AT = 1_795_500_000


def job_record(
    event_name: str = "MODIFY", status: str = "chunking_complete", **image: dict[str, str]
) -> dict[str, Any]:
    """A stream record of the Jobs table with a NEW_IMAGE view."""
    new_image = {
        "job_id": {"S": str(JOB)},
        "status": {"S": status},
        "output_format": {"S": "half-sbs"},
        "created_at": {"S": "2026-11-24T09:59:00.000000Z"},
        "total_segments": {"N": "4"},
        "version": {"N": "3"},
        "settings": {"M": {"divergence": {"N": "2.0"}, "synthetic_view": {"S": "both"}}},
        **image,
    }
    return {
        "eventID": "c4ca4238a0b923820dcc509a6f75849b",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": AT,
            "Keys": {"job_id": {"S": str(JOB)}},
            "NewImage": new_image,
            "SequenceNumber": "111",
            "SizeBytes": 26,
            "StreamViewType": "NEW_IMAGE",
        },
        "eventSourceARN": TABLE_ARN,
    }


def completion_record(index: int) -> dict[str, Any]:
    keys = {"job_id": {"S": str(JOB)}, "segment_index": {"N": str(index)}}
    return {
        "eventID": f"e{index}",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": AT + index,
            "Keys": keys,
            "NewImage": {
                **keys,
                "output_key": {"S": f"jobs/{JOB}/segments/{index:05d}.mp4"},
                "completed_at": {"S": "2026-11-24T10:00:00.000000Z"},
            },
            "SequenceNumber": f"2{index}",
            "SizeBytes": 80,
            "StreamViewType": "NEW_IMAGE",
        },
        "eventSourceARN": TABLE_ARN.replace("stack-jobs", "stack-segment-completions"),
    }


# --------------------------------------------------------------------------- normalise


def test_a_job_change_becomes_a_job_event() -> None:
    assert normalise(job_record()) == [
        JobEvent(job_id=JOB, status="chunking_complete", at=datetime.fromtimestamp(AT, tz=UTC))
    ]


def test_completed_and_failed_carry_what_the_page_needs() -> None:
    [completed] = normalise(job_record(status="completed"))
    assert completed.segments_done == 4
    reason = {"S": "The file is not a video."}
    [failed] = normalise(job_record(status="failed", failure_reason=reason))
    assert failed.detail == {"reason": "The file is not a video."}


def test_a_recorded_segment_becomes_a_segment_event() -> None:
    [event] = normalise(completion_record(2))
    assert event == JobEvent(
        job_id=JOB,
        status=SEGMENT_COMPLETED,
        at=datetime.fromtimestamp(AT + 2, tz=UTC),
        detail={"segment_index": 2},
    )


def test_a_progress_report_becomes_a_progress_event() -> None:
    record = completion_record(2)
    image = record["dynamodb"]["NewImage"]
    del image["output_key"], image["completed_at"]
    image.update({"frames_done": {"N": "120"}, "frames_total": {"N": "300"}})
    record["eventName"] = "MODIFY"
    [event] = normalise(record)
    assert event.status == "segment_progress"
    assert event.detail == {"segment_index": 2, "frames_done": 120, "frames_total": 300}


def test_batches_and_lists_as_pipes_deliver_them() -> None:
    records = [job_record("INSERT", "created"), completion_record(0), job_record()]
    expected = [normalise(r)[0] for r in records]
    assert normalise({"Records": records}) == expected
    assert normalise(records) == expected


def test_removals_and_other_tables_give_no_event() -> None:
    removed = job_record("REMOVE")
    removed["dynamodb"]["OldImage"] = removed["dynamodb"].pop("NewImage")
    lock = job_record("INSERT")
    lock["dynamodb"]["NewImage"] = {"job_id": {"S": str(JOB)}, "ttl": {"N": "1795600000"}}
    assert normalise({"Records": [removed, lock]}) == []


@pytest.mark.parametrize(
    "broken",
    [
        {"eventSource": "aws:s3"},
        "a string",
        {"Records": "not a list"},
    ],
)
def test_what_is_not_a_stream_record_is_rejected(broken: Any) -> None:
    with pytest.raises(MalformedMessage):
        normalise(broken)


def test_a_keys_only_stream_is_rejected_with_the_reason() -> None:
    keys_only = copy.deepcopy(job_record())
    del keys_only["dynamodb"]["NewImage"]
    keys_only["dynamodb"]["StreamViewType"] = "KEYS_ONLY"
    with pytest.raises(MalformedMessage, match="without a NewImage"):
        normalise(keys_only)


def test_an_image_without_a_job_id_is_rejected() -> None:
    record = job_record(job_id={"S": "../../etc"})
    with pytest.raises(MalformedMessage, match="unreadable image"):
        normalise(record)


# --------------------------------------------------------------------------- read_after


@pytest.fixture
def pipe_queue(settings: Settings, clients: AwsClients) -> SqsQueue:
    return SqsQueue.open(clients.sqs, settings.aws.job_events_queue_url, "job-events")


def job_event_body(n: int, job_id: UUID | None = None) -> str:
    record = job_record(status="chunking_complete")
    record["dynamodb"]["NewImage"]["job_id"] = {"S": str(job_id or uuid4())}
    record["dynamodb"]["ApproximateCreationDateTime"] = AT + n
    return json.dumps(record)


def test_read_after_follows_the_pipes_queue_from_now_on(pipe_queue: SqsQueue) -> None:
    events = AwsJobEvents(pipe_queue)
    pipe_queue.send(job_event_body(0))
    assert events.read_after(None)[0] == []  # what came before the reader is not replayed
    _, cursor = events.read_after(None)
    ids = [uuid4() for _ in range(5)]
    for n, job_id in enumerate(ids):
        pipe_queue.send(job_event_body(n, job_id))
    seen: list[UUID] = []
    for _ in range(3):
        page, cursor = events.read_after(cursor, limit=2)
        assert len(page) <= 2
        seen += [e.job_id for e in page]
    assert seen == ids
    assert events.read_after(cursor) == ([], cursor)
    assert pipe_queue.approximate_count() == 0  # read messages are deleted


def test_every_reader_of_one_process_sees_every_event(pipe_queue: SqsQueue) -> None:
    events = AwsJobEvents(pipe_queue)
    _, first = events.read_after(None)
    _, second = events.read_after(None)
    pipe_queue.send(job_event_body(1, JOB))
    assert [e.job_id for e in events.read_after(first)[0]] == [JOB]
    assert [e.job_id for e in events.read_after(second)[0]] == [JOB]


def test_an_unreadable_message_is_dropped_not_retried(pipe_queue: SqsQueue) -> None:
    events = AwsJobEvents(pipe_queue)
    _, cursor = events.read_after(None)
    pipe_queue.send("{not json")
    pipe_queue.send(job_event_body(1, JOB))
    page, cursor = events.read_after(cursor)
    assert [e.job_id for e in page] == [JOB]
    assert pipe_queue.approximate_count() == 0


def test_without_a_queue_there_is_nothing_to_read_and_publish_is_a_no_op() -> None:
    events = AwsJobEvents(None)
    events.publish(JobEvent(job_id=JOB, status="created"))
    assert events.read_after(None) == ([], "0")
    assert events.read_after("0") == ([], "0")


def test_a_full_log_forgets_its_oldest_events(pipe_queue: SqsQueue) -> None:
    events = AwsJobEvents(pipe_queue, capacity=2)
    _, start = events.read_after(None)
    ids = [uuid4() for _ in range(3)]
    for n, job_id in enumerate(ids):
        pipe_queue.send(job_event_body(n, job_id))
    _, end = events.read_after(None)  # drains all three into a log that keeps two
    assert int(end) - int(start) == 3
    assert [e.job_id for e in events.read_after(start)[0]] == ids[1:]
