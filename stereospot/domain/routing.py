"""Object-created routing: which queue hears about which new object.

One table. The local ObjectEvents adapter applies it; Terraform's S3 notifications mirror it
(a test compares them).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class QueueName(StrEnum):
    CHUNKING = "chunking"
    VIDEO_WORKER = "video-worker"
    OUTPUT_EVENTS = "output-events"
    REASSEMBLY = "reassembly"
    DELETION = "deletion"
    INGEST = "ingest"


class Bucket(StrEnum):
    """Which bucket a key lives in on AWS (locally both are directories under one root)."""

    INPUT = "input"
    OUTPUT = "output"


@dataclass(frozen=True)
class Route:
    bucket: Bucket
    prefix: str
    suffix: str
    queue: QueueName

    def matches(self, key: str) -> bool:
        return key.startswith(self.prefix) and key.endswith(self.suffix)


# Prefixes under which SageMaker async inference writes its results and failures.
INFERENCE_RESPONSE_PREFIX = "sagemaker-async-responses/"
INFERENCE_FAILURE_PREFIX = "sagemaker-async-failures/"

ROUTES: tuple[Route, ...] = (
    Route(Bucket.INPUT, "input/", ".mp4", QueueName.CHUNKING),
    Route(Bucket.INPUT, "segments/", ".mp4", QueueName.VIDEO_WORKER),
    Route(Bucket.OUTPUT, "jobs/", ".mp4", QueueName.OUTPUT_EVENTS),
    Route(Bucket.OUTPUT, "jobs/", "/.reassembly-done", QueueName.OUTPUT_EVENTS),
    Route(Bucket.OUTPUT, INFERENCE_RESPONSE_PREFIX, "", QueueName.OUTPUT_EVENTS),
    Route(Bucket.OUTPUT, INFERENCE_FAILURE_PREFIX, "", QueueName.OUTPUT_EVENTS),
)

_OUTPUT_PREFIXES = ("jobs/", INFERENCE_RESPONSE_PREFIX, INFERENCE_FAILURE_PREFIX)


def bucket_for_key(key: str) -> Bucket:
    return Bucket.OUTPUT if key.startswith(_OUTPUT_PREFIXES) else Bucket.INPUT


def route(key: str) -> QueueName | None:
    """The queue that is told about a new object at `key`, or None."""
    bucket = bucket_for_key(key)
    for entry in ROUTES:
        if entry.bucket is bucket and entry.matches(key):
            return entry.queue
    return None
