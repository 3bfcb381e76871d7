"""The object-event routing table."""

from __future__ import annotations

from uuid import uuid4

import pytest

from stereospot.domain import keys
from stereospot.domain.formats import StereoFormat
from stereospot.domain.routing import (
    INFERENCE_FAILURE_PREFIX,
    INFERENCE_RESPONSE_PREFIX,
    Bucket,
    QueueName,
    bucket_for_key,
    route,
)

J = uuid4()


@pytest.mark.parametrize(
    ("key", "queue", "bucket"),
    [
        (keys.source_key(J), QueueName.CHUNKING, Bucket.INPUT),
        (keys.segment_key(J, 0, 2, StereoFormat.HALF_SBS), QueueName.VIDEO_WORKER, Bucket.INPUT),
        (keys.output_segment_key(J, 1), QueueName.OUTPUT_EVENTS, Bucket.OUTPUT),
        (keys.final_key(J), QueueName.OUTPUT_EVENTS, Bucket.OUTPUT),
        (keys.reassembly_done_key(J), QueueName.OUTPUT_EVENTS, Bucket.OUTPUT),
        (f"{INFERENCE_RESPONSE_PREFIX}abc.out", QueueName.OUTPUT_EVENTS, Bucket.OUTPUT),
        (f"{INFERENCE_FAILURE_PREFIX}abc.out", QueueName.OUTPUT_EVENTS, Bucket.OUTPUT),
        (f"input/{J}/source.mov", None, Bucket.INPUT),
        (f"input/{J}/notes.txt", None, Bucket.INPUT),
        (f"jobs/{J}/notes.txt", None, Bucket.OUTPUT),
        ("elsewhere/x.mp4", None, Bucket.INPUT),
    ],
)
def test_route(key: str, queue: QueueName | None, bucket: Bucket) -> None:
    assert route(key) is queue
    assert bucket_for_key(key) is bucket
