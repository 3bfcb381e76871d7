"""Queue on SQS, and the named queues of one deployment.

SQS does the semantics the port promises: visibility timeouts, receive counts
(ApproximateReceiveCount), and the redrive policy that moves a message received more than
maxReceiveCount times to the dead-letter queue. This adapter adds long polls longer than
SQS's 20 s, reads max_receives and the DLQ from the queue's own redrive policy, and
checks SQS's limits up front so a caller gets a readable error.

Limits: 10 messages per receive, 20 s per long poll, visibility 0..12 h, delay 0..15 min,
bodies up to 256 KiB (AWS now takes 1 MiB, but 256 KiB holds on every deployment).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from stereospot.adapters.aws.clients import error_code
from stereospot.config import AwsSettings
from stereospot.domain.ports import ReceivedMessage
from stereospot.domain.routing import QueueName

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

log = logging.getLogger(__name__)

MAX_MESSAGES_PER_RECEIVE = 10
MAX_WAIT_S = 20
MAX_VISIBILITY_S = 12 * 3600
MAX_DELAY_S = 15 * 60
MAX_BODY_BYTES = 256 * 1024
_SHORT_POLL_PAUSE_S = 0.1
# What SQS answers for a receipt that is no longer current (deleted, or redelivered since).
_STALE_RECEIPT = frozenset({"ReceiptHandleIsInvalid", "InvalidParameterValue"})
_NOT_IN_FLIGHT = "MessageNotInflight"  # visible again, but not received by anyone since
_MISSING_QUEUE = frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"})


class QueueNotConfigured(LookupError):
    """No URL is configured for a queue, or the URL names no queue."""


class SqsQueue:
    def __init__(
        self,
        sqs: SQSClient,
        url: str,
        name: str,
        max_receives: int,
        dead_letter_queue: SqsQueue | None = None,
    ) -> None:
        self._sqs = sqs
        self.url = url
        self.name = name
        self.max_receives = max_receives
        self._dlq = dead_letter_queue

    @classmethod
    def open(cls, sqs: SQSClient, url: str, name: str) -> SqsQueue:
        """The queue at `url`, with max_receives and its DLQ read from its redrive policy."""
        try:
            attributes = sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["RedrivePolicy"]
            ).get("Attributes", {})
        except ClientError as exc:
            if error_code(exc) in _MISSING_QUEUE:
                raise QueueNotConfigured(f"queue {name}: no queue exists at {url}") from None
            raise
        policy = attributes.get("RedrivePolicy")
        if not policy:
            return cls(sqs, url, name, max_receives=1)
        redrive = json.loads(policy)
        # arn:aws:sqs:<region>:<account>:<name>
        *_, account, dlq_name = redrive["deadLetterTargetArn"].split(":")
        dlq_url = sqs.get_queue_url(QueueName=dlq_name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        # A DLQ has no further DLQ; like the memory adapter's, its max_receives is 1.
        dlq = cls(sqs, dlq_url, f"{name}-dlq", max_receives=1)
        return cls(sqs, url, name, int(redrive["maxReceiveCount"]), dead_letter_queue=dlq)

    def send(self, body: str, delay_s: int = 0) -> str:
        size = len(body.encode())
        if size > MAX_BODY_BYTES:
            raise ValueError(f"a message body is at most {MAX_BODY_BYTES} bytes, not {size}")
        if not 0 <= delay_s <= MAX_DELAY_S:
            raise ValueError(f"a message delay is 0 to {MAX_DELAY_S} s, not {delay_s}")
        response = self._sqs.send_message(QueueUrl=self.url, MessageBody=body, DelaySeconds=delay_s)
        return response["MessageId"]

    def receive(
        self, max_messages: int = 1, wait_s: float = 0.0, visibility_timeout_s: int | None = None
    ) -> list[ReceivedMessage]:
        if not 1 <= max_messages <= MAX_MESSAGES_PER_RECEIVE:
            raise ValueError(f"max_messages must be between 1 and {MAX_MESSAGES_PER_RECEIVE}")
        request: dict[str, Any] = {
            "QueueUrl": self.url,
            "MaxNumberOfMessages": max_messages,
            "MessageSystemAttributeNames": ["ApproximateReceiveCount"],
        }
        if visibility_timeout_s is not None:
            _check_visibility(visibility_timeout_s)
            request["VisibilityTimeout"] = visibility_timeout_s
        # SQS waits whole seconds, 20 at most: long-poll in whole seconds while they fit,
        # then short polls with brief pauses for the fraction left, never past wait_s.
        deadline = time.monotonic() + max(0.0, wait_s)
        while True:
            remaining = deadline - time.monotonic()
            request["WaitTimeSeconds"] = min(MAX_WAIT_S, max(0, math.floor(remaining)))
            messages = self._sqs.receive_message(**request).get("Messages", [])
            if messages:
                return [_received(m) for m in messages]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            if remaining < 1:
                time.sleep(min(remaining, _SHORT_POLL_PAUSE_S))

    def delete(self, receipt: str) -> None:
        """Done with a delivery. An unknown receipt is ignored.

        Unlike the memory and local queues, SQS does not promise that an older receipt of
        a redelivered message deletes nothing: AWS says the message "might not be deleted",
        moto deletes it. That is harmless here, because a worker deletes only after its
        idempotent handler succeeded, so the message's work is done either way.
        """
        try:
            self._sqs.delete_message(QueueUrl=self.url, ReceiptHandle=receipt)
        except ClientError as exc:
            if error_code(exc) not in _STALE_RECEIPT:
                raise
            log.debug("queue %s: ignored delete with an unknown receipt", self.name)

    def extend_visibility(self, receipt: str, timeout_s: int) -> None:
        _check_visibility(timeout_s)
        try:
            self._sqs.change_message_visibility(
                QueueUrl=self.url, ReceiptHandle=receipt, VisibilityTimeout=timeout_s
            )
        except ClientError as exc:
            if error_code(exc) not in _STALE_RECEIPT | {_NOT_IN_FLIGHT}:
                raise
            log.info("queue %s: visibility not extended, the receipt is stale", self.name)

    def approximate_count(self) -> int:
        """Visible, in flight and delayed messages (SQS's approximate counts)."""
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self.url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        ).get("Attributes", {})
        return sum(int(count) for count in attributes.values())

    @property
    def has_dead_letter_queue(self) -> bool:
        return self._dlq is not None

    def dead_letters(self) -> SqsQueue:
        if self._dlq is None:
            raise LookupError(f"queue {self.name} has no dead-letter queue")
        return self._dlq


class SqsQueues:
    """The deployment's queues by name, opened on first use (one API call each)."""

    def __init__(self, sqs: SQSClient, urls: Mapping[QueueName, str]) -> None:
        self._sqs = sqs
        self._urls = dict(urls)
        self._open: dict[QueueName, SqsQueue] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, sqs: SQSClient, aws: AwsSettings) -> SqsQueues:
        return cls(sqs, queue_urls(aws))

    def __getitem__(self, name: QueueName) -> SqsQueue:
        with self._lock:
            if name not in self._open:
                url = self._urls.get(name)
                if not url:
                    variable = f"STEREOSPOT_AWS__{name.value.replace('-', '_').upper()}_QUEUE_URL"
                    raise QueueNotConfigured(f"queue {name.value} is not configured ({variable})")
                queue = SqsQueue.open(self._sqs, url, name.value)
                if not queue.has_dead_letter_queue:
                    log.warning(
                        "queue %s has no redrive policy: a message that keeps failing will "
                        "never reach a dead-letter queue",
                        name.value,
                    )
                self._open[name] = queue
            return self._open[name]


def queue_urls(aws: AwsSettings) -> dict[QueueName, str]:
    return {
        QueueName.CHUNKING: aws.chunking_queue_url,
        QueueName.VIDEO_WORKER: aws.video_worker_queue_url,
        QueueName.OUTPUT_EVENTS: aws.output_events_queue_url,
        QueueName.REASSEMBLY: aws.reassembly_queue_url,
        QueueName.DELETION: aws.deletion_queue_url,
        QueueName.INGEST: aws.ingest_queue_url,
    }


def _received(message: Mapping[str, Any]) -> ReceivedMessage:
    return ReceivedMessage(
        message_id=message["MessageId"],
        body=message["Body"],
        receipt=message["ReceiptHandle"],
        receive_count=int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1")),
    )


def _check_visibility(timeout_s: int) -> None:
    if not 0 <= timeout_s <= MAX_VISIBILITY_S:
        raise ValueError(f"a visibility timeout is 0 to {MAX_VISIBILITY_S} s, not {timeout_s}")
