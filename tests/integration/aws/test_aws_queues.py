"""SQS queues of a provisioned stack: redrive to the DLQ, limits, configuration errors."""

from __future__ import annotations

import json
from uuid import uuid4

import pytest

from stereospot.adapters.aws.clients import AwsClients
from stereospot.adapters.aws.sqs_queue import (
    MAX_BODY_BYTES,
    MAX_VISIBILITY_S,
    QueueNotConfigured,
    SqsQueue,
    SqsQueues,
)
from stereospot.config import Settings
from stereospot.domain.messages import DeletionRequested
from stereospot.domain.routing import QueueName


@pytest.fixture
def queues(settings: Settings, clients: AwsClients) -> SqsQueues:
    return SqsQueues.from_settings(clients.sqs, settings.aws)


def _discard_test_events(queue: SqsQueue) -> None:
    """S3 sends a test event to each notified queue when the stack is provisioned."""
    while batch := queue.receive(max_messages=10, wait_s=0.2):
        for message in batch:
            assert json.loads(message.body)["Event"] == "s3:TestEvent"
            queue.delete(message.receipt)


def test_each_queue_has_the_stacks_timeouts_and_redrive(
    queues: SqsQueues, settings: Settings, clients: AwsClients
) -> None:
    for name in QueueName:
        queue = queues[name]
        assert queue.name == name.value
        assert queue.max_receives == settings.max_receives  # read from the redrive policy
        assert queue.dead_letters().name == f"{name.value}-dlq"
        attributes = clients.sqs.get_queue_attributes(
            QueueUrl=queue.url, AttributeNames=["VisibilityTimeout"]
        )["Attributes"]
        expected = getattr(settings.queue_timeouts, name.value.replace("-", "_"))
        assert int(attributes["VisibilityTimeout"]) == expected
    with pytest.raises(LookupError):
        queues[QueueName.DELETION].dead_letters().dead_letters()


def test_a_message_that_keeps_failing_ends_in_the_dlq_whole(
    queues: SqsQueues, settings: Settings
) -> None:
    queue = queues[QueueName.REASSEMBLY]
    _discard_test_events(queue)
    body = DeletionRequested(job_id=uuid4()).to_body()
    message_id = queue.send(body)
    counts = []
    for _ in range(settings.max_receives + 2):
        counts += [m.receive_count for m in queue.receive(wait_s=0.5, visibility_timeout_s=0)]
    assert counts == list(range(1, settings.max_receives + 1))
    [dead] = queue.dead_letters().receive(wait_s=2)
    assert dead.body == body
    assert dead.message_id == message_id  # SQS keeps the id when it moves a message
    assert queue.approximate_count() == 0


def test_sqs_limits_are_checked_before_calling_aws(queues: SqsQueues) -> None:
    queue = queues[QueueName.DELETION]
    with pytest.raises(ValueError, match="at most"):
        queue.send("x" * (MAX_BODY_BYTES + 1))
    queue.send("x" * MAX_BODY_BYTES)  # exactly the limit is fine
    with pytest.raises(ValueError, match="between 1 and 10"):
        queue.receive(max_messages=11)
    with pytest.raises(ValueError, match="visibility"):
        queue.receive(visibility_timeout_s=MAX_VISIBILITY_S + 1)
    with pytest.raises(ValueError, match="delay"):
        queue.send("x", delay_s=901)


def test_an_unconfigured_queue_names_its_variable(clients: AwsClients) -> None:
    queues = SqsQueues(clients.sqs, {})
    with pytest.raises(QueueNotConfigured, match="STEREOSPOT_AWS__VIDEO_WORKER_QUEUE_URL"):
        queues[QueueName.VIDEO_WORKER]


def test_a_url_that_names_no_queue_is_refused(clients: AwsClients, moto_server: str) -> None:
    url = f"{moto_server}/123456789012/no-such-queue-{uuid4().hex[:8]}"
    with pytest.raises(QueueNotConfigured, match="no queue exists"):
        SqsQueues(clients.sqs, {QueueName.CHUNKING: url})[QueueName.CHUNKING]
