"""The aws platform of the contract suite: the AWS adapters against moto's server.

Each test gets fresh resources named from its own prefix, created only for the ports it
asks for (a table, two buckets, a queue and its DLQ). Time is real: the stores that take
`now` need no sleeping, and queue tests use timeouts of a second or two.

JobEvents is not offered: on AWS, publish() is a no-op because DynamoDB streams carry the
changes (which moto does not emulate); tests/integration/aws/test_aws_job_events.py
checks the normaliser and read_after over the Pipes-fed queue instead.

The adapters are imported inside the methods: this module is imported by the registry
even where boto3 and moto are not installed (FACTORY is then None).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from pathlib import Path

from platforms import PORT_FIXTURES, PlatformFactory, PlatformUnderTest, RealClock, UrlChecker

from stereospot.domain.ports import (
    InferenceInvocationStore,
    JobEvents,
    JobStore,
    ObjectStorage,
    PushSubscriptionStore,
    Queue,
    ReassemblyLock,
    SegmentCompletionStore,
    SegmentProgressStore,
)
from tests.aws_server import (
    MOTO_AVAILABLE,
    REGION,
    TEST_MULTIPART_THRESHOLD,
    fresh_prefix,
    moto_endpoint,
)


class AwsPlatform:
    name = "aws"

    def __init__(self, endpoint_url: str) -> None:
        from stereospot.adapters.aws.clients import AwsClients
        from stereospot.config import AwsSettings

        self.clock = RealClock()
        self.prefix = fresh_prefix()
        self.clients = AwsClients.from_settings(
            AwsSettings(region=REGION, endpoint_url=endpoint_url)
        )
        self._queue_numbers = itertools.count()

    def job_store(self) -> JobStore:
        from stereospot.adapters.aws.dynamodb_jobs import DynamoJobStore
        from stereospot.ops.provision import create_jobs_table

        name = f"{self.prefix}-jobs"
        create_jobs_table(self.clients.dynamodb, name)
        return DynamoJobStore(self.clients.dynamodb, name)

    def completion_store(self) -> SegmentCompletionStore:
        from stereospot.adapters.aws.dynamodb_completions import DynamoSegmentCompletionStore
        from stereospot.ops.provision import create_completions_table

        name = f"{self.prefix}-segment-completions"
        create_completions_table(self.clients.dynamodb, name)
        return DynamoSegmentCompletionStore(self.clients.dynamodb, name)

    def progress_store(self) -> SegmentProgressStore:
        from stereospot.adapters.aws.dynamodb_progress import DynamoSegmentProgressStore
        from stereospot.ops.provision import create_progress_table

        name = f"{self.prefix}-segment-progress"
        create_progress_table(self.clients.dynamodb, name)
        return DynamoSegmentProgressStore(self.clients.dynamodb, name)

    def reassembly_lock(self) -> ReassemblyLock:
        from stereospot.adapters.aws.dynamodb_reassembly import DynamoReassemblyLock
        from stereospot.ops.provision import create_reassembly_table

        name = f"{self.prefix}-reassembly-triggered"
        create_reassembly_table(self.clients.dynamodb, name)
        return DynamoReassemblyLock(self.clients.dynamodb, name)

    def invocation_store(self) -> InferenceInvocationStore:
        from stereospot.adapters.aws.dynamodb_invocations import DynamoInvocationStore
        from stereospot.ops.provision import create_invocations_table

        name = f"{self.prefix}-inference-invocations"
        create_invocations_table(self.clients.dynamodb, name)
        return DynamoInvocationStore(self.clients.dynamodb, name)

    def object_storage(self) -> ObjectStorage:
        from stereospot.adapters.aws.s3_storage import S3ObjectStorage
        from stereospot.domain.routing import Bucket
        from stereospot.ops.provision import create_bucket

        buckets = {Bucket.INPUT: f"{self.prefix}-input", Bucket.OUTPUT: f"{self.prefix}-output"}
        for bucket in buckets.values():
            create_bucket(self.clients.s3, bucket, REGION)
        return S3ObjectStorage(
            self.clients.s3, buckets, multipart_threshold_bytes=TEST_MULTIPART_THRESHOLD
        )

    def queue(self, *, visibility_timeout_s: int, max_receives: int) -> Queue:
        from stereospot.adapters.aws.sqs_queue import SqsQueue
        from stereospot.ops.provision import create_queue

        name = f"{self.prefix}-q{next(self._queue_numbers)}"
        url = create_queue(self.clients.sqs, name, visibility_timeout_s, max_receives)
        return SqsQueue.open(self.clients.sqs, url, name)

    def job_events(self) -> JobEvents:
        raise NotImplementedError("the aws platform does not offer job_events to the contract")

    def push_subscriptions(self) -> PushSubscriptionStore:
        from stereospot.adapters.aws.dynamodb_push import DynamoPushSubscriptionStore
        from stereospot.ops.provision import create_push_table

        name = f"{self.prefix}-push-subscriptions"
        create_push_table(self.clients.dynamodb, name)
        return DynamoPushSubscriptionStore(self.clients.dynamodb, name)

    def url_checker(self) -> UrlChecker | None:
        return None  # S3 judges its own presigned URLs


@contextlib.contextmanager
def _aws(_tmp_path: Path) -> Iterator[PlatformUnderTest]:
    yield AwsPlatform(moto_endpoint())


FACTORY: PlatformFactory | None = (
    PlatformFactory(_aws, ports=PORT_FIXTURES - {"job_events"}) if MOTO_AVAILABLE else None
)
