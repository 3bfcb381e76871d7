"""Every web task receives every job event: an SNS topic, and one SQS queue per task.

    DynamoDB streams -> EventBridge Pipes -> SNS topic (STEREOSPOT_AWS__JOB_EVENTS_TOPIC_ARN)
        -> {prefix}-{task id}  (one queue per web task, made by the task at start-up)

`TaskQueue.open()` creates this task's queue (short retention, a policy that lets only the
topic send to it, a heartbeat tag) and subscribes it to the topic with raw message
delivery, so each message body is the record Pipes published, as on a plain Pipes queue.
A thread refreshes the heartbeat tag every few minutes. `close()` unsubscribes and deletes
the queue. A task that died without closing leaves an orphan: `sweep_orphans()`, run by
every task at start-up, deletes the queues under the prefix whose heartbeat is older than
`stale_after_s`, and the subscriptions of queues that no longer exist.

Two tasks never share a queue, so none takes another's messages (the problem with one
job-events queue read by several tasks).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from stereospot.adapters.aws.clients import error_code
from stereospot.adapters.aws.sqs_queue import SqsQueue

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient

log = logging.getLogger(__name__)

HEARTBEAT_TAG = "stereospot-heartbeat"  # epoch seconds of the owner's last sign of life
_MISSING_QUEUE = frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"})
_MAX_QUEUE_NAME = 80  # SQS: letters, digits, hyphens and underscores


@dataclass(frozen=True)
class FanoutConfig:
    """retention_s: events nobody read by then are not news (SQS allows 60 s at least).
    heartbeat_s: how often a live task touches its tag; stale_after_s: a tag this old
    means the task is gone (several missed heartbeats)."""

    topic_arn: str
    prefix: str = "stereospot-web-events"
    retention_s: int = 300
    heartbeat_s: float = 300.0
    stale_after_s: float = 900.0


def task_id() -> str:
    """An id for this process's queue: unique per start, so a restarted task never finds
    (and never deletes) a queue another incarnation still reads."""
    return uuid.uuid4().hex[:16]


def queue_arn_for(topic_arn: str, name: str) -> str:
    """arn:aws:sqs:<region>:<account>:<name> beside the topic arn:aws:sns:<region>:<account>:..."""
    parts = topic_arn.split(":")
    if len(parts) < 6 or parts[2] != "sns":
        raise ValueError(f"not an SNS topic ARN: {topic_arn!r}")
    partition, region, account = parts[1], parts[3], parts[4]
    return f"arn:{partition}:sqs:{region}:{account}:{name}"


def queue_policy(queue_arn: str, topic_arn: str) -> str:
    """Only the job-events topic may send to a task's queue."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "JobEventsTopicOnly",
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
                }
            ],
        }
    )


class TaskQueue:
    """This web task's queue of the job-events topic (see the module's docstring)."""

    def __init__(
        self,
        sqs: SQSClient,
        sns: SNSClient,
        config: FanoutConfig,
        task: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sqs = sqs
        self._sns = sns
        self.config = config
        self.name = f"{config.prefix}-{task or task_id()}"[:_MAX_QUEUE_NAME]
        self._clock = clock
        self.queue: SqsQueue | None = None
        self._subscription_arn: str | None = None
        self._stop = threading.Event()
        self._beating: threading.Thread | None = None
        self._lock = threading.Lock()

    def open(self) -> SqsQueue:
        """Sweep the orphans, create and subscribe this task's queue, start the heartbeat.
        Idempotent: an open queue is returned as it is."""
        with self._lock:
            if self.queue is not None:
                return self.queue
            try:
                sweep_orphans(self._sqs, self._sns, self.config, self._clock(), keep=self.name)
            except ClientError as exc:  # another task's sweep raced us, or no rights: not fatal
                log.warning("could not sweep orphan event queues: %s", exc)
            self.queue = self._create()
            self._stop.clear()
            self._beating = threading.Thread(
                target=self._beat, name="event-queue-heartbeat", daemon=True
            )
            self._beating.start()
            log.info("receiving job events on %s", self.name)
            return self.queue

    def reopen(self) -> SqsQueue:
        """The queue vanished (a sweep took this task for dead after a long stall): make
        it again. Events published meanwhile are lost; the pages re-read their state."""
        self.close()
        return self.open()

    def close(self) -> None:
        """Unsubscribe and delete the queue. Safe to call twice, or before open()."""
        with self._lock:
            self._stop.set()
            if self._beating is not None:
                self._beating.join(timeout=5)
                self._beating = None
            subscription, self._subscription_arn = self._subscription_arn, None
            queue, self.queue = self.queue, None
        if subscription is not None:
            try:
                self._sns.unsubscribe(SubscriptionArn=subscription)
            except ClientError as exc:
                log.warning("could not unsubscribe %s: %s", self.name, exc)
        if queue is not None:
            _delete_queue(self._sqs, queue.url)
            log.info("deleted this task's event queue %s", self.name)

    def heartbeat(self) -> None:
        """Tell the other tasks' sweeps this queue is alive."""
        queue = self.queue
        if queue is not None:
            self._sqs.tag_queue(QueueUrl=queue.url, Tags={HEARTBEAT_TAG: str(int(self._clock()))})

    def _create(self) -> SqsQueue:
        topic = self.config.topic_arn
        arn = queue_arn_for(topic, self.name)
        url = self._sqs.create_queue(
            QueueName=self.name,
            Attributes={
                "MessageRetentionPeriod": str(max(60, self.config.retention_s)),
                "VisibilityTimeout": "30",
                "SqsManagedSseEnabled": "true",
                "Policy": queue_policy(arn, topic),
            },
            tags={HEARTBEAT_TAG: str(int(self._clock()))},
        )["QueueUrl"]
        response = self._sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=arn,
            Attributes={"RawMessageDelivery": "true"},
            ReturnSubscriptionArn=True,
        )
        self._subscription_arn = response["SubscriptionArn"]
        return SqsQueue(self._sqs, url, self.name, max_receives=1)

    def _beat(self) -> None:
        while not self._stop.wait(self.config.heartbeat_s):
            try:
                self.heartbeat()
            except ClientError as exc:
                log.warning("could not refresh the heartbeat of %s: %s", self.name, exc)


def _delete_queue(sqs: SQSClient, url: str) -> None:
    try:
        sqs.delete_queue(QueueUrl=url)
    except ClientError as exc:
        if error_code(exc) not in _MISSING_QUEUE:
            raise


def _queue_urls(sqs: SQSClient, prefix: str) -> Iterator[str]:
    request: dict[str, object] = {"QueueNamePrefix": f"{prefix}-", "MaxResults": 1000}
    while True:
        page = sqs.list_queues(**request)  # type: ignore[arg-type]
        yield from page.get("QueueUrls", [])
        token = page.get("NextToken")
        if not token:
            return
        request["NextToken"] = token


def _last_seen(sqs: SQSClient, url: str) -> float | None:
    """The heartbeat tag, else the creation time; None if the queue is already gone."""
    try:
        tags = sqs.list_queue_tags(QueueUrl=url).get("Tags", {})
        if HEARTBEAT_TAG in tags:
            return float(tags[HEARTBEAT_TAG])
        attributes = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["CreatedTimestamp"]
        ).get("Attributes", {})
        return float(attributes.get("CreatedTimestamp", 0))
    except ClientError as exc:
        if error_code(exc) in _MISSING_QUEUE:
            return None
        raise


def sweep_orphans(
    sqs: SQSClient, sns: SNSClient, config: FanoutConfig, now: float, keep: str = ""
) -> list[str]:
    """Delete the task queues under config.prefix whose heartbeat is older than
    config.stale_after_s (their task died without closing), and unsubscribe every queue
    of the prefix that no longer exists. `keep`: this task's own queue name. Returns the
    names of the deleted queues."""
    live: set[str] = set()
    deleted: list[str] = []
    for url in _queue_urls(sqs, config.prefix):
        name = url.rsplit("/", 1)[-1]
        if name == keep:
            live.add(name)
            continue
        seen = _last_seen(sqs, url)
        if seen is None:
            continue
        if now - seen > config.stale_after_s:
            _delete_queue(sqs, url)
            deleted.append(name)
            log.warning(
                "deleted the event queue %s of a task last seen %.0f s ago", name, now - seen
            )
        else:
            live.add(name)
    for subscription in _topic_subscriptions(sns, config.topic_arn):
        name = subscription.get("Endpoint", "").rsplit(":", 1)[-1]
        if (
            subscription.get("Protocol") == "sqs"
            and name.startswith(f"{config.prefix}-")
            and name not in live
            and subscription.get("SubscriptionArn", "").startswith("arn:")
        ):
            sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])
    return deleted


def _topic_subscriptions(sns: SNSClient, topic_arn: str) -> Iterator[dict[str, str]]:
    request: dict[str, str] = {"TopicArn": topic_arn}
    while True:
        page = sns.list_subscriptions_by_topic(**request)
        for subscription in page.get("Subscriptions", []):
            yield {key: str(value) for key, value in subscription.items()}
        token = page.get("NextToken")
        if not token:
            return
        request["NextToken"] = token
