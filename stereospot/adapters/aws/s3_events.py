"""S3 event notifications -> the domain's ObjectCreated, and the aws MessageDecoder.

On AWS a queue carries two kinds of body: S3's notifications (routed by the buckets'
notification configuration, which mirrors domain.routing.ROUTES) and our own message JSON.
S3 sends, per its documentation:
- first, on configuring a notification, `{"Service": "Amazon S3", "Event": "s3:TestEvent",
  ...}`: it means nothing happened, so it yields no message;
- then `{"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
  "s3": {"bucket": {"name": ...}, "object": {"key": ..., "size": ...}}}]}` with the key
  URL-encoded (`+` for a space).
Anything else raises MalformedMessage with the reason, logged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import unquote_plus

from stereospot.config import AwsSettings
from stereospot.domain.errors import MalformedMessage
from stereospot.domain.messages import Message, ObjectCreated, parse_message
from stereospot.domain.routing import bucket_for_key

log = logging.getLogger(__name__)

TEST_EVENT = "s3:TestEvent"
CREATED_PREFIX = "ObjectCreated:"


def _reject(reason: str) -> MalformedMessage:
    log.warning("rejected queue message: %s", reason)
    return MalformedMessage(reason)


def is_s3_notification(body: object) -> bool:
    return isinstance(body, dict) and ("Records" in body or body.get("Event") == TEST_EVENT)


def parse_s3_notification(
    notification: Mapping[str, Any], buckets: Collection[str] | None = None
) -> list[ObjectCreated]:
    """The created objects a notification reports; [] for the test event.

    With `buckets` (the deployment's bucket names), a bucket not among them is rejected and
    the message names the logical bucket of its key ("input"/"output"), as every platform's
    object events do; without it, the real name is kept.
    """
    if notification.get("Event") == TEST_EVENT:
        log.info("S3 test event from bucket %s: nothing to do", notification.get("Bucket"))
        return []
    records = notification.get("Records")
    if not isinstance(records, list) or not records:
        raise _reject("S3 notification without records")
    return [_created(record, buckets) for record in records]


def _created(record: object, buckets: Collection[str] | None) -> ObjectCreated:
    if not isinstance(record, dict):
        raise _reject("S3 notification record is not an object")
    if record.get("eventSource") != "aws:s3":
        raise _reject(f"record from {record.get('eventSource')!r}, not aws:s3")
    event_name = record.get("eventName")
    if not isinstance(event_name, str) or not event_name.startswith(CREATED_PREFIX):
        raise _reject(f"S3 event {event_name!r} is not an ObjectCreated event")
    s3 = record.get("s3")
    bucket = s3.get("bucket", {}).get("name") if isinstance(s3, dict) else None
    obj = s3.get("object", {}) if isinstance(s3, dict) else {}
    raw_key = obj.get("key") if isinstance(obj, dict) else None
    if not isinstance(bucket, str) or not bucket or not isinstance(raw_key, str) or not raw_key:
        raise _reject(f"S3 {event_name} record without a bucket name and object key")
    size = obj.get("size")
    if buckets is not None:
        if bucket not in buckets:
            raise _reject(f"S3 notification from unknown bucket {bucket!r}")
        bucket = bucket_for_key(unquote_plus(raw_key)).value
    try:
        return ObjectCreated(
            bucket=bucket, key=unquote_plus(raw_key), size=size if isinstance(size, int) else None
        )
    except ValueError as exc:
        raise _reject(f"S3 {event_name} record is invalid: {exc}") from exc


def decode_body(body: str, buckets: Collection[str] | None = None) -> list[Message]:
    """A queue body on AWS: an S3 notification (0+ messages) or one of our own messages."""
    try:
        parsed = json.loads(body)
    except ValueError:
        raise _reject("queue body is not JSON") from None
    if is_s3_notification(parsed):
        return list(parse_s3_notification(parsed, buckets))
    try:
        return [parse_message(body)]
    except MalformedMessage as exc:
        raise _reject(str(exc)) from exc


class AwsMessageDecoder:
    """The MessageDecoder of the aws platform."""

    def __init__(self, buckets: Collection[str] | None = None) -> None:
        self._buckets = frozenset(buckets) if buckets is not None else None

    @classmethod
    def from_settings(cls, aws: AwsSettings) -> AwsMessageDecoder:
        return cls({aws.input_bucket, aws.output_bucket})

    def __call__(self, body: str) -> list[object]:
        return list(decode_body(body, self._buckets))
