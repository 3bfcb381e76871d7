"""Job events on AWS: DynamoDB stream records of the Jobs, SegmentCompletions and
SegmentProgress tables, carried by EventBridge Pipes to the job-events SNS topic and from
there to each web task's own SQS queue (event_fanout), normalised into JobEvents.

A Pipes message body holds one stream record, a JSON list of them, or `{"Records": [...]}`
(a batch, as Lambda receives it). A record looks like (AWS documentation's shape):

    {"eventID": "...", "eventName": "INSERT" | "MODIFY" | "REMOVE",
     "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
     "dynamodb": {"ApproximateCreationDateTime": 1767225600, "Keys": {...},
                  "NewImage": {"job_id": {"S": "..."}, "status": {"S": "..."}, ...},
                  "SequenceNumber": "...", "SizeBytes": 123,
                  "StreamViewType": "NEW_IMAGE" | "NEW_AND_OLD_IMAGES"},
     "eventSourceARN": "arn:aws:dynamodb:...:table/<name>/stream/..."}

INSERT and MODIFY give an event; REMOVE (cleanup) and other tables give none.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from botocore.exceptions import ClientError

from stereospot.adapters.aws.clients import error_code
from stereospot.adapters.aws.dynamodb_items import from_item
from stereospot.adapters.aws.event_fanout import TaskQueue
from stereospot.domain.errors import InvalidJobId, MalformedMessage
from stereospot.domain.ids import parse_job_id
from stereospot.domain.model import JobStatus
from stereospot.domain.ports import JobEvent, Queue

log = logging.getLogger(__name__)

SEGMENT_COMPLETED = "segment_completed"  # status of an event for a recorded segment
SEGMENT_PROGRESS = "segment_progress"  # status of an event for a segment progress report
_CHANGES = frozenset({"INSERT", "MODIFY"})
_DRAIN_ROUNDS = 20  # receives of 10 per read_after, so one call stays short
_MISSING_QUEUE = frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"})


def normalise(payload: object) -> list[JobEvent]:
    """Every job event in a Pipes payload (one record, a list, or a Records batch)."""
    if isinstance(payload, dict) and "Records" in payload:
        records = payload["Records"]
    elif isinstance(payload, dict):
        records = [payload]
    else:
        records = payload
    if not isinstance(records, list):
        raise MalformedMessage("a job event body must hold DynamoDB stream records")
    events = []
    for record in records:
        event = record_to_event(record)
        if event is not None:
            events.append(event)
    return events


def record_to_event(record: object) -> JobEvent | None:
    if not isinstance(record, dict) or record.get("eventSource") != "aws:dynamodb":
        raise MalformedMessage("not a DynamoDB stream record")
    if record.get("eventName") not in _CHANGES:
        return None
    stream = record.get("dynamodb")
    if not isinstance(stream, dict):
        raise MalformedMessage("stream record without its dynamodb part")
    image = stream.get("NewImage")
    if not isinstance(image, dict):
        raise MalformedMessage(
            f"{record.get('eventName')} record without a NewImage (stream view type?)"
        )
    try:
        values = from_item(image)
        job_id = parse_job_id(values.get("job_id"))
    except (InvalidJobId, TypeError, ValueError) as exc:
        raise MalformedMessage(f"stream record with an unreadable image: {exc}") from exc
    at = _moment(stream.get("ApproximateCreationDateTime"))
    if "frames_done" in values:  # the SegmentProgress table
        return JobEvent(
            job_id=job_id,
            status=SEGMENT_PROGRESS,
            at=at,
            detail={
                "segment_index": int(values["segment_index"]),
                "frames_done": int(values["frames_done"]),
                "frames_total": int(values.get("frames_total", 0)),
            },
        )
    if "segment_index" in values:
        return JobEvent(
            job_id=job_id,
            status=SEGMENT_COMPLETED,
            at=at,
            detail={"segment_index": int(values["segment_index"])},
        )
    status = values.get("status")
    if not isinstance(status, str):
        return None  # another table (reassembly lock, invocations): not a job change
    return _job_event(job_id, status, values, at)


def _job_event(
    job_id: UUID, status: str, values: Mapping[str, Any], at: datetime | None
) -> JobEvent:
    segments_done = None
    detail: dict[str, object] = {}
    if status == JobStatus.COMPLETED.value and "total_segments" in values:
        segments_done = int(values["total_segments"])
    if status == JobStatus.FAILED.value:
        detail["reason"] = values.get("failure_reason")
    return JobEvent(job_id=job_id, status=status, segments_done=segments_done, at=at, detail=detail)


def _moment(epoch_seconds: object) -> datetime | None:
    if isinstance(epoch_seconds, int | float) and not isinstance(epoch_seconds, bool):
        return datetime.fromtimestamp(epoch_seconds, tz=UTC)
    return None


class AwsJobEvents:
    """JobEvents for the web app on AWS.

    publish() does nothing: DynamoDB streams see every write. read_after() first drains
    this task's queue into an in-process log, then reads that log like the other platforms
    do, so every SSE client of this process sees every event.

    The queue is either this task's own queue of the job-events topic (`task_queue`:
    created by open() at start-up, or by the first read, and deleted by close(); see
    event_fanout), so every web task gets every event; or one fixed queue (`queue`), which
    only a single web task may read (several would split its messages between them).
    """

    def __init__(
        self,
        queue: Queue | None = None,
        capacity: int = 10_000,
        task_queue: TaskQueue | None = None,
    ) -> None:
        self._queue = queue
        self._task_queue = task_queue
        self._closed = False
        self._log: deque[JobEvent] = deque(maxlen=capacity)
        self._dropped = 0  # events that fell off the front of the log
        self._lock = threading.Lock()

    @property
    def has_source(self) -> bool:
        """False without a queue or topic: the web app then polls the stores instead."""
        return self._queue is not None or self._task_queue is not None

    def open(self) -> None:
        """Create and subscribe this task's queue (nothing to do for a fixed queue)."""
        with self._lock:
            self._closed = False
            self._open()

    def close(self) -> None:
        """Unsubscribe and delete this task's queue (at exit)."""
        with self._lock:
            self._closed = True
            if self._task_queue is not None:
                self._task_queue.close()
                self._queue = None

    def publish(self, event: JobEvent) -> None:
        """Nothing to do: the DynamoDB stream carries every change."""

    def read_after(self, cursor: str | None, limit: int = 100) -> tuple[list[JobEvent], str]:
        with self._lock:
            self._drain()
            end = self._dropped + len(self._log)
            start = end if cursor is None or not cursor.isdigit() else min(int(cursor), end)
            start = max(start, self._dropped)
            offset = start - self._dropped
            events = [self._log[i] for i in range(offset, min(offset + limit, len(self._log)))]
            return events, str(start + len(events))

    def _open(self) -> None:
        if self._task_queue is not None and self._queue is None:
            self._queue = self._task_queue.open()

    def _drain(self) -> None:
        if not self._closed:
            self._open()
        if self._queue is None:
            return
        for _ in range(_DRAIN_ROUNDS):
            try:
                messages = self._queue.receive(max_messages=10)
            except ClientError as exc:
                if self._task_queue is None or error_code(exc) not in _MISSING_QUEUE:
                    raise
                log.warning("this task's event queue is gone; making it again")
                self._queue = self._task_queue.reopen()
                return
            if not messages:
                return
            for message in messages:
                try:
                    events = normalise(json.loads(message.body))
                except (ValueError, MalformedMessage) as exc:
                    log.warning("dropped an unreadable job event message: %s", exc)
                    events = []
                for event in events:
                    if len(self._log) == self._log.maxlen:
                        self._dropped += 1
                    self._log.append(event)
                self._queue.delete(message.receipt)
