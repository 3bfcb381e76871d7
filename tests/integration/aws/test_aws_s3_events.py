"""S3 notifications: the bodies S3 really sends (through moto's S3 -> SQS), and the parser.

The stack's notifications come from provision(), which mirrors domain.routing.ROUTES, so
these tests also check that every route reaches its queue and nothing else does.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from uuid import uuid4

import pytest

from stereospot.adapters.aws.clients import AwsClients
from stereospot.adapters.aws.s3_events import AwsMessageDecoder, decode_body
from stereospot.adapters.aws.sqs_queue import SqsQueues
from stereospot.config import Settings
from stereospot.domain.errors import MalformedMessage
from stereospot.domain.formats import StereoFormat
from stereospot.domain.keys import (
    final_key,
    output_segment_key,
    reassembly_done_key,
    segment_key,
    source_key,
)
from stereospot.domain.messages import DeletionRequested, ObjectCreated
from stereospot.domain.routing import (
    INFERENCE_FAILURE_PREFIX,
    INFERENCE_RESPONSE_PREFIX,
    ROUTES,
    Bucket,
    QueueName,
    bucket_for_key,
)

BUCKETS = {"stack-input", "stack-output"}


def record(event_name: str = "ObjectCreated:Put", key: str = "input/x/source.mp4") -> Any:
    """One record as S3's documentation shows it."""
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2026-11-24T10:00:00.000Z",
        "eventName": event_name,
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "203.0.113.7"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUV"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "chunking-0",
            "bucket": {"name": "stack-input", "arn": "arn:aws:s3:::stack-input"},
            "object": {"key": key, "size": 1234, "eTag": "d41d8cd9", "sequencer": "0055AED6"},
        },
    }


# --------------------------------------------------------------------------- the parser


def test_a_created_object_becomes_object_created_with_the_logical_bucket() -> None:
    job = uuid4()
    body = json.dumps({"Records": [record(key=f"input/{job}/source.mp4")]})
    assert decode_body(body, BUCKETS) == [
        ObjectCreated(bucket="input", key=f"input/{job}/source.mp4", size=1234)
    ]
    assert AwsMessageDecoder(BUCKETS)(body) == decode_body(body, BUCKETS)


def test_keys_are_url_decoded_with_plus_for_space() -> None:
    body = json.dumps({"Records": [record(key="input/My+Holiday%2B%C3%A9t%C3%A9/source.mp4")]})
    [message] = decode_body(body)
    assert isinstance(message, ObjectCreated)
    assert message.key == "input/My Holiday+été/source.mp4"
    assert message.bucket == "stack-input"  # no bucket map: the real name stays


def test_the_test_event_yields_no_message() -> None:
    test_event = {
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": "2026-11-24T10:00:00.000Z",
        "Bucket": "stack-input",
        "RequestId": "5582815E1AEA5ADF",
        "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR",
    }
    assert decode_body(json.dumps(test_event), BUCKETS) == []


def test_our_own_messages_pass_through() -> None:
    message = DeletionRequested(job_id=uuid4())
    assert decode_body(message.to_body(), BUCKETS) == [message]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json at all", "not JSON"),
        (json.dumps({"Records": []}), "without records"),
        (json.dumps({"Records": [record("ObjectRemoved:Delete")]}), "not an ObjectCreated"),
        (json.dumps({"Records": [{**record(), "eventSource": "aws:sns"}]}), "not aws:s3"),
        (json.dumps({"Records": [{**record(), "s3": {"bucket": {}}}]}), "bucket name"),
        (
            json.dumps({"Records": [record(key="input/x/source.mp4")]}).replace(
                "stack-input", "someone-elses-bucket"
            ),
            "unknown bucket",
        ),
        (json.dumps({"type": "no_such_type", "version": 1}), "malformed message"),
        (json.dumps([1, 2, 3]), "malformed message"),
    ],
)
def test_anything_else_is_rejected_with_a_logged_reason(
    body: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING), pytest.raises(MalformedMessage, match=reason):
        decode_body(body, BUCKETS)
    assert reason in caplog.text


# --------------------------------------------------------------------------- real notifications


def _drain(queues: SqsQueues, name: QueueName, decoder: AwsMessageDecoder) -> list[object]:
    """Every message waiting in a queue, decoded (test events decode to nothing)."""
    decoded: list[object] = []
    queue = queues[name]
    while batch := queue.receive(max_messages=10, wait_s=0.3):
        for message in batch:
            decoded += decoder(message.body)
            queue.delete(message.receipt)
    return decoded


def test_every_route_reaches_its_queue_and_only_it(settings: Settings, clients: AwsClients) -> None:
    job = uuid4()
    keys_by_queue: dict[QueueName, list[str]] = {name: [] for name in QueueName}
    examples = [
        source_key(job),
        segment_key(job, 0, 2, StereoFormat.HALF_SBS),
        output_segment_key(job, 1),
        final_key(job),
        reassembly_done_key(job),
        f"{INFERENCE_RESPONSE_PREFIX}{job}.out",
        f"{INFERENCE_FAILURE_PREFIX}{job}.out",
    ]
    unrouted = [f"input/{job}/notes.txt", f"jobs/{job}/thumbnail.jpg", f"smoke-test/{job}/x.mp4"]
    for route in ROUTES:  # the examples cover the whole table
        assert any(route.matches(k) and bucket_for_key(k) is route.bucket for k in examples)
    bucket_names = {
        Bucket.INPUT: settings.aws.input_bucket,
        Bucket.OUTPUT: settings.aws.output_bucket,
    }
    for key in examples + unrouted:
        clients.s3.put_object(Bucket=bucket_names[bucket_for_key(key)], Key=key, Body=b"x")
        for route in ROUTES:
            if route.bucket is bucket_for_key(key) and route.matches(key):
                keys_by_queue[route.queue].append(key)
                break

    queues = SqsQueues.from_settings(clients.sqs, settings.aws)
    decoder = AwsMessageDecoder.from_settings(settings.aws)
    for name in QueueName:
        received = _drain(queues, name, decoder)
        expected = [
            ObjectCreated(bucket=bucket_for_key(k).value, key=k, size=1)
            for k in keys_by_queue[name]
        ]
        assert sorted(received, key=repr) == sorted(expected, key=repr), name


def test_a_key_with_spaces_arrives_decoded(settings: Settings, clients: AwsClients) -> None:
    key = f"input/{uuid4()} copy/source.mp4"  # S3 allows it; our storage keys never do
    clients.s3.put_object(Bucket=settings.aws.input_bucket, Key=key, Body=b"abc")
    raw: list[str] = []
    queue = SqsQueues.from_settings(clients.sqs, settings.aws)[QueueName.CHUNKING]
    while batch := queue.receive(max_messages=10, wait_s=0.3):
        raw += [m.body for m in batch]
    assert any(json.loads(body).get("Event") == "s3:TestEvent" for body in raw)
    notification = next(body for body in raw if "Records" in body)
    assert "copy" in notification and " copy" not in notification  # URL-encoded on the wire
    assert AwsMessageDecoder.from_settings(settings.aws)(notification) == [
        ObjectCreated(bucket="input", key=key, size=3)
    ]
