"""The aws platform as the application composes it, over a provisioned stack on moto."""

from __future__ import annotations

from uuid import uuid4

import pytest

from stereospot.adapters.aws.dynamodb_jobs import DynamoJobStore
from stereospot.adapters.aws.job_events import AwsJobEvents
from stereospot.adapters.aws.s3_storage import S3ObjectStorage
from stereospot.adapters.aws.sqs_queue import SqsQueues
from stereospot.config import Settings
from stereospot.container import build_container
from stereospot.domain.keys import source_key
from stereospot.domain.messages import ObjectCreated
from stereospot.domain.model import Job
from stereospot.domain.routing import QueueName
from stereospot.ops.provision import environment


def test_the_container_serves_every_port_from_the_stack(settings: Settings) -> None:
    container = build_container(settings)
    deps = container.deps()
    assert isinstance(deps.jobs, DynamoJobStore)
    assert isinstance(deps.storage, S3ObjectStorage)
    assert isinstance(deps.queues, SqsQueues)
    assert isinstance(deps.events, AwsJobEvents)

    job = Job(id=uuid4(), created_at=deps.clock.now())
    deps.jobs.create(job)
    assert deps.jobs.get(job.id) == job

    # An upload lands in the input bucket; S3 tells the chunking queue; the platform's
    # decoder turns that into the message every platform's workers expect.
    deps.storage.put_bytes(source_key(job.id), b"not really a video")
    decode = container.platform.decoder()
    queue = deps.queues[QueueName.CHUNKING]
    decoded: list[object] = []
    while batch := queue.receive(max_messages=10, wait_s=0.5):
        for message in batch:
            decoded += decode(message.body)
            queue.delete(message.receipt)
    assert decoded == [ObjectCreated(bucket="input", key=source_key(job.id), size=18)]


def test_settings_read_back_from_the_printed_environment(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    variables = environment(settings.aws)
    assert variables["STEREOSPOT_PLATFORM"] == "aws"
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert Settings().aws == settings.aws
