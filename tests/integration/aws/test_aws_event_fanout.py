"""Every web task receives every job event (moto's server over HTTP): the job-events SNS
topic delivers to one SQS queue per task, which the task makes at start-up and deletes at
exit; a start-up sweep deletes the queues of tasks that died without closing.

What Pipes would publish (moto emulates neither streams nor Pipes) is published here to
the topic by hand, in the shape a Pipe sends: one DynamoDB stream record per message."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from stereospot.adapters.aws.clients import AwsClients
from stereospot.adapters.aws.event_fanout import (
    HEARTBEAT_TAG,
    FanoutConfig,
    TaskQueue,
    queue_arn_for,
    sweep_orphans,
)
from stereospot.adapters.aws.job_events import AwsJobEvents
from stereospot.config import Settings
from stereospot.container import build_container
from stereospot.domain.ports import JobEvent
from stereospot.entrypoints.web.app import create_app
from tests.integration.aws.test_aws_job_events import job_record


@pytest.fixture
def fanout(settings: Settings) -> FanoutConfig:
    """The provisioned stack's topic and queue prefix."""
    aws = settings.aws
    assert aws.job_events_topic_arn
    return FanoutConfig(topic_arn=aws.job_events_topic_arn, prefix=aws.web_events_queue_prefix)


@pytest.fixture
def tasks(clients: AwsClients, fanout: FanoutConfig) -> Iterator[list[TaskQueue]]:
    made: list[TaskQueue] = []
    yield made
    for task in made:
        task.close()


def _task(clients: AwsClients, fanout: FanoutConfig, tasks: list[TaskQueue], **kw) -> TaskQueue:  # type: ignore[no-untyped-def]
    task = TaskQueue(clients.sqs, clients.sns, fanout, **kw)
    tasks.append(task)
    return task


def _publish(clients: AwsClients, topic_arn: str, job_id: UUID, status: str) -> None:
    record = job_record(status=status)
    record["dynamodb"]["NewImage"]["job_id"] = {"S": str(job_id)}
    clients.sns.publish(TopicArn=topic_arn, Message=json.dumps(record))


def _read_until(events: AwsJobEvents, cursor: str, count: int) -> list[JobEvent]:
    seen: list[JobEvent] = []
    deadline = time.monotonic() + 10
    while len(seen) < count and time.monotonic() < deadline:
        batch, cursor = events.read_after(cursor)
        seen += batch
        if not batch:
            time.sleep(0.05)
    return seen


def _queue_names(clients: AwsClients, prefix: str) -> set[str]:
    urls = clients.sqs.list_queues(QueueNamePrefix=f"{prefix}-").get("QueueUrls", [])
    return {url.rsplit("/", 1)[-1] for url in urls}


def _subscribed(clients: AwsClients, topic_arn: str) -> set[str]:
    subscriptions = clients.sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    return {s["Endpoint"].rsplit(":", 1)[-1] for s in subscriptions}


def test_two_web_tasks_both_receive_every_event(
    clients: AwsClients, fanout: FanoutConfig, tasks: list[TaskQueue]
) -> None:
    first = AwsJobEvents(task_queue=_task(clients, fanout, tasks))
    second = AwsJobEvents(task_queue=_task(clients, fanout, tasks))
    first.open()
    second.open()
    _, cursor_1 = first.read_after(None)
    _, cursor_2 = second.read_after(None)
    job_id = uuid4()
    statuses = ["chunking", "chunking_complete", "reassembling", "completed"]
    for status in statuses:
        _publish(clients, fanout.topic_arn, job_id, status)
    for events, cursor in ((first, cursor_1), (second, cursor_2)):
        seen = _read_until(events, cursor, len(statuses))
        assert [e.status for e in seen] == statuses  # raw delivery: the record itself
        assert {e.job_id for e in seen} == {job_id}
    assert len({task.name for task in tasks}) == 2  # one queue each, none shared


def test_a_task_queue_takes_only_the_topic_and_keeps_events_briefly(
    clients: AwsClients, fanout: FanoutConfig, tasks: list[TaskQueue]
) -> None:
    task = _task(clients, fanout, tasks)
    queue = task.open()
    attributes = clients.sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])[
        "Attributes"
    ]
    assert int(attributes["MessageRetentionPeriod"]) == fanout.retention_s
    [statement] = json.loads(attributes["Policy"])["Statement"]
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == queue_arn_for(fanout.topic_arn, task.name)
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": fanout.topic_arn}}
    [subscription] = clients.sns.list_subscriptions_by_topic(TopicArn=fanout.topic_arn)[
        "Subscriptions"
    ]
    raw = clients.sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])
    assert raw["Attributes"]["RawMessageDelivery"] == "true"


def test_closing_unsubscribes_and_deletes_the_queue(
    clients: AwsClients, fanout: FanoutConfig, tasks: list[TaskQueue]
) -> None:
    task = _task(clients, fanout, tasks)
    task.open()
    assert _queue_names(clients, fanout.prefix) == {task.name}
    assert _subscribed(clients, fanout.topic_arn) == {task.name}
    task.close()
    assert _queue_names(clients, fanout.prefix) == set()
    assert _subscribed(clients, fanout.topic_arn) == set()
    task.close()  # twice is fine


def test_the_start_up_sweep_deletes_a_dead_tasks_queue_and_keeps_a_live_one(
    clients: AwsClients, fanout: FanoutConfig, tasks: list[TaskQueue]
) -> None:
    long_ago = time.time() - fanout.stale_after_s - 60
    dead = _task(clients, fanout, tasks, clock=lambda: long_ago)  # its last heartbeat
    dead.open()
    assert _subscribed(clients, fanout.topic_arn) == {dead.name}
    live = _task(clients, fanout, tasks)
    live.open()  # sweeps first: the dead task's queue and subscription go
    assert _queue_names(clients, fanout.prefix) == {live.name}
    assert _subscribed(clients, fanout.topic_arn) == {live.name}

    starting = _task(clients, fanout, tasks)
    starting.open()  # the live task's queue is kept
    assert _queue_names(clients, fanout.prefix) == {live.name, starting.name}
    assert _subscribed(clients, fanout.topic_arn) == {live.name, starting.name}


def test_a_heartbeat_keeps_a_long_running_task_from_being_swept(
    clients: AwsClients, fanout: FanoutConfig, tasks: list[TaskQueue]
) -> None:
    now = [time.time() - fanout.stale_after_s - 60]
    task = _task(clients, fanout, tasks, clock=lambda: now[0])
    queue = task.open()
    now[0] = time.time()
    task.heartbeat()
    tags = clients.sqs.list_queue_tags(QueueUrl=queue.url)["Tags"]
    assert abs(float(tags[HEARTBEAT_TAG]) - now[0]) < 2
    assert sweep_orphans(clients.sqs, clients.sns, fanout, time.time()) == []
    assert sweep_orphans(clients.sqs, clients.sns, fanout, time.time() + 2 * fanout.stale_after_s)
    assert _queue_names(clients, fanout.prefix) == set()


def test_a_task_whose_queue_was_swept_makes_it_again(
    clients: AwsClients, fanout: FanoutConfig, tasks: list[TaskQueue]
) -> None:
    task = _task(clients, fanout, tasks)
    events = AwsJobEvents(task_queue=task)
    events.open()
    _, cursor = events.read_after(None)
    sweep_orphans(clients.sqs, clients.sns, fanout, time.time() + 2 * fanout.stale_after_s)
    assert events.read_after(cursor)[0] == []  # gone: made again (and subscribed)
    job_id = uuid4()
    _publish(clients, fanout.topic_arn, job_id, "completed")
    assert [e.job_id for e in _read_until(events, cursor, 1)] == [job_id]


async def test_two_web_apps_on_the_stack_each_make_and_remove_their_own_queue(
    settings: Settings, clients: AwsClients, fanout: FanoutConfig, tmp_path: Path
) -> None:
    containers = [build_container(settings) for _ in range(2)]
    apps = [create_app(container) for container in containers]
    async with apps[0].test_app(), apps[1].test_app():  # start-up: each opens its queue
        assert len(_queue_names(clients, fanout.prefix)) == 2
        assert len(_subscribed(clients, fanout.topic_arn)) == 2
        feeds = [container.deps().events for container in containers]  # what each app reads
        cursors = [feed.read_after(None)[1] for feed in feeds]
        job_id = uuid4()
        _publish(clients, fanout.topic_arn, job_id, "completed")
        for feed, cursor in zip(feeds, cursors, strict=True):
            assert [e.job_id for e in _read_until(feed, cursor, 1)] == [job_id]
    assert _queue_names(clients, fanout.prefix) == set()  # exit: both deleted
    assert _subscribed(clients, fanout.topic_arn) == set()
