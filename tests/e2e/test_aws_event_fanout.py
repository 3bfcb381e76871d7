"""Two web tasks on the aws platform (processes, on moto's server) both stream every event
of a job: each made its own queue of the job-events topic at start-up, and deletes it when
it stops.

moto emulates neither DynamoDB streams nor EventBridge Pipes, so the test plays the Pipe:
after each write it reads the item back and publishes the stream record a Pipe would
(NEW_IMAGE) to the topic."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from stereospot.domain import keys
from stereospot.domain.formats import ConversionSettings, StereoFormat
from stereospot.domain.model import JobStatus, SegmentCompletion, SegmentPlanEntry
from stereospot.domain.services import jobs
from stereospot.domain.services.conversion import ProgressReporter
from stereospot.domain.services.support import update_job
from tests.aws_server import MOTO_AVAILABLE
from tests.e2e.aws_stack import AwsStack
from tests.e2e.test_event_feed import StreamReader

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.aws,
    pytest.mark.skipif(not MOTO_AVAILABLE, reason="moto[server] is not installed"),
]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[AwsStack]:
    stack = AwsStack(tmp_path)
    try:
        yield stack
    finally:
        stack.stop()


class Pipe:
    """What an EventBridge Pipe does with a table's stream: one record per change, to the
    job-events topic."""

    def __init__(self, stack: AwsStack) -> None:
        self.stack = stack
        self.dynamodb = stack.clients.dynamodb
        self.topic = stack.settings.aws.job_events_topic_arn

    def changed(self, table: str, key: dict[str, Any]) -> None:
        image = self.dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
        record = {
            "eventID": f"{time.time_ns()}",
            "eventName": "MODIFY",
            "eventSource": "aws:dynamodb",
            "awsRegion": self.stack.settings.aws.region,
            "dynamodb": {
                "ApproximateCreationDateTime": time.time(),
                "Keys": key,
                "NewImage": image,
                "StreamViewType": "NEW_IMAGE",
            },
            "eventSourceARN": f"arn:aws:dynamodb:us-east-1:123456789012:table/{table}/stream/x",
        }
        self.stack.clients.sns.publish(TopicArn=self.topic, Message=json.dumps(record))

    def job(self, job_id: UUID) -> None:
        self.changed(self.stack.settings.aws.jobs_table, {"job_id": {"S": str(job_id)}})

    def progress(self, job_id: UUID, index: int) -> None:
        key = {"job_id": {"S": str(job_id)}, "segment_index": {"N": str(index)}}
        self.changed(self.stack.settings.aws.segment_progress_table, key)


def _task_queues(stack: AwsStack) -> set[str]:
    prefix = stack.settings.aws.web_events_queue_prefix
    urls = stack.clients.sqs.list_queues(QueueNamePrefix=f"{prefix}-").get("QueueUrls", [])
    return {url.rsplit("/", 1)[-1] for url in urls}


def test_two_web_tasks_both_stream_every_event_and_remove_their_queues(
    stack: AwsStack,
) -> None:
    urls = stack.start_web_tasks(2)
    assert len(_task_queues(stack)) == 2  # one each, made at start-up
    deps, pipe = stack.deps, Pipe(stack)
    job = jobs.create_job(deps, output_format=StereoFormat.HALF_SBS, settings=ConversionSettings())
    plan = (SegmentPlanEntry(index=0, start_s=0, duration_s=12, frame_count=100),)

    def chunked(current: Any) -> Any:
        return current.transition(JobStatus.CHUNKING_IN_PROGRESS).transition(
            JobStatus.CHUNKING_COMPLETE,
            total_segments=1,
            segment_plan=plan,
            uploaded_at=deps.clock.now(),
            source_size=1_000_000,
        )

    job = update_job(deps, job.id, chunked)
    assert job is not None
    pipe.job(job.id)
    ports = [int(url.rsplit(":", 1)[1]) for url in urls]
    readers = [StreamReader(port, f"/jobs/{job.id}/events") for port in ports]
    for reader in readers:
        reader.start()
        assert reader.opened.wait(15)
    time.sleep(1.0)  # both feeds are reading their queues

    reporter = ProgressReporter(deps, job, 0, None)
    reporter.start()
    pipe.progress(job.id, 0)
    for step in range(1, 11):
        time.sleep(1.05)  # the reporter writes at most once a second
        reporter(step * 10, 100)
        pipe.progress(job.id, 0)
    time.sleep(0.7)
    output = keys.output_segment_key(job.id, 0)
    deps.completions.put(SegmentCompletion(job_id=job.id, segment_index=0, output_key=output,
                                           completed_at=deps.clock.now()))  # fmt: skip
    job = update_job(deps, job.id, lambda j: j.transition(JobStatus.REASSEMBLING))
    assert job is not None
    pipe.job(job.id)
    time.sleep(0.7)
    done = update_job(
        deps, job.id, lambda j: j.transition(JobStatus.COMPLETED, completed_at=deps.clock.now())
    )
    assert done is not None
    pipe.job(done.id)

    for reader in readers:
        reader.join(30)
        assert not reader.is_alive(), f"the stream did not end\n{stack.logs_text()}"
    seen = [[(e["status"], e["percent"]) for e in reader.events] for reader in readers]
    expected = (
        [("chunking_complete", 5.0)] * 2  # the page's first state, then 0 frames
        + [("chunking_complete", 5.0 + 9.0 * step) for step in range(1, 11)]
        + [("reassembling", 95.0), ("completed", 100.0)]
    )
    assert seen[0] == expected, seen[0]
    assert seen[1] == expected, seen[1]

    stack.stop()  # SIGTERM, as ECS stops a task
    assert _task_queues(stack) == set()
    topic = stack.settings.aws.job_events_topic_arn
    assert stack.clients.sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
