"""The aws platform: S3, SQS and DynamoDB, named by Settings.aws (STEREOSPOT_AWS__*).

    storage             S3ObjectStorage over the input and output buckets
    queues              SqsQueues (URLs from settings; DLQs from their redrive policies)
    jobs, completions, progress, reassembly_lock, invocations, push_subscriptions
                        DynamoDB tables
    events              AwsJobEvents (this task's queue of the job-events topic, if set)
    decoder             AwsMessageDecoder (S3 notifications and our own messages)
    scratch             the system temp dir (each task has its own disk)
    secret_key          STEREOSPOT_SECRET_KEY (else one per process)
    max_upload_bytes    at most one presigned PUT (5 GiB)
    storage_origins     the buckets' hosts (or the endpoint)
    file_server         None: browsers talk to S3 directly
    vapid_key           STEREOSPOT_VAPID_PRIVATE_KEY (else push is off)
    console_links       STEREOSPOT_OPERATOR_LINKS (job pages link to logs and cost)

Region and an optional endpoint (moto, LocalStack) come from settings; credentials from
boto3's default chain. `stereospot aws provision` creates a matching stack.
"""

from __future__ import annotations

from dependency_injector import providers

from stereospot.adapters.aws.clients import AwsClients
from stereospot.adapters.aws.dynamodb_completions import DynamoSegmentCompletionStore
from stereospot.adapters.aws.dynamodb_invocations import DynamoInvocationStore
from stereospot.adapters.aws.dynamodb_jobs import DynamoJobStore
from stereospot.adapters.aws.dynamodb_progress import DynamoSegmentProgressStore
from stereospot.adapters.aws.dynamodb_push import DynamoPushSubscriptionStore
from stereospot.adapters.aws.dynamodb_reassembly import DynamoReassemblyLock
from stereospot.adapters.aws.event_fanout import FanoutConfig, TaskQueue
from stereospot.adapters.aws.job_events import AwsJobEvents
from stereospot.adapters.aws.s3_events import AwsMessageDecoder
from stereospot.adapters.aws.s3_storage import (
    SINGLE_PUT_MAX_BYTES,
    S3ObjectStorage,
    browser_origins,
)
from stereospot.adapters.aws.sqs_queue import SqsQueue, SqsQueues
from stereospot.adapters.local.secret import process_secret
from stereospot.adapters.local.system import TempScratch
from stereospot.config import Settings
from stereospot.platforms.base import PlatformProviders, configured_vapid_key


def _clients(settings: Settings) -> AwsClients:
    return AwsClients.from_settings(settings.aws)


def _events(settings: Settings, clients: AwsClients) -> AwsJobEvents:
    """This task's own queue of the job-events topic when one is set (every web task
    sees every event), else the single events queue, else none (the web app polls)."""
    aws = settings.aws
    if aws.job_events_topic_arn:
        config = FanoutConfig(
            topic_arn=aws.job_events_topic_arn, prefix=aws.web_events_queue_prefix
        )
        return AwsJobEvents(task_queue=TaskQueue(clients.sqs, clients.sns, config))
    url = aws.job_events_queue_url
    queue = SqsQueue.open(clients.sqs, url, "job-events") if url else None
    return AwsJobEvents(queue)


def _data_location(settings: Settings) -> str:
    aws = settings.aws
    return f"S3 {aws.input_bucket}, {aws.output_bucket}; DynamoDB {aws.jobs_table} ({aws.region})"


class PlatformContainer(PlatformProviders):
    settings = providers.Dependency(instance_of=Settings)

    clients = providers.Singleton(_clients, settings)
    jobs = providers.Singleton(
        lambda c, s: DynamoJobStore(c.dynamodb, s.aws.jobs_table), clients, settings
    )
    completions = providers.Singleton(
        lambda c, s: DynamoSegmentCompletionStore(c.dynamodb, s.aws.segment_completions_table),
        clients,
        settings,
    )
    progress = providers.Singleton(
        lambda c, s: DynamoSegmentProgressStore(c.dynamodb, s.aws.segment_progress_table),
        clients,
        settings,
    )
    reassembly_lock = providers.Singleton(
        lambda c, s: DynamoReassemblyLock(c.dynamodb, s.aws.reassembly_table), clients, settings
    )
    invocations = providers.Singleton(
        lambda c, s: DynamoInvocationStore(c.dynamodb, s.aws.invocations_table), clients, settings
    )
    push_subscriptions = providers.Singleton(
        lambda c, s: DynamoPushSubscriptionStore(c.dynamodb, s.aws.push_subscriptions_table),
        clients,
        settings,
    )
    storage = providers.Singleton(
        lambda c, s: S3ObjectStorage.from_settings(c.s3, s.aws), clients, settings
    )
    queues = providers.Singleton(
        lambda c, s: SqsQueues.from_settings(c.sqs, s.aws), clients, settings
    )
    events = providers.Singleton(_events, settings, clients)
    decoder = providers.Singleton(lambda s: AwsMessageDecoder.from_settings(s.aws), settings)
    scratch = providers.Singleton(TempScratch)

    secret_key = providers.Singleton(process_secret, settings)
    max_upload_bytes = providers.Callable(
        lambda s: min(s.max_upload_bytes, SINGLE_PUT_MAX_BYTES), settings
    )
    storage_origins = providers.Callable(lambda s: browser_origins(s.aws), settings)
    file_server = providers.Object(None)
    vapid_key = providers.Callable(configured_vapid_key, settings)
    data_location = providers.Callable(_data_location, settings)
    loopback_hosts = providers.Object(False)
    # CloudWatch Logs Insights and Cost Explorer links, with STEREOSPOT_OPERATOR_LINKS=true.
    console_links = providers.Callable(lambda s: s.operator_links, settings)
    claims_dir: providers.Object[None] = providers.Object(
        None
    )  # the short visibility timeout brings messages back
