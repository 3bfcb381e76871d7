"""Create a whole StereoSpot stack against an AWS endpoint (moto, LocalStack, or AWS).

For tests, the end-to-end test and LocalStack users; production uses Terraform (deploy/),
which builds the same things. Every name derives from a prefix, so stacks never collide:

    buckets  {p}-input, {p}-output (CORS for the browser, S3 -> SQS notifications of
             domain.routing.ROUTES, abandoned multipart uploads aborted after a day)
    queues   {p}-{queue} with {p}-{queue}-dlq (redrive after Settings.max_receives),
             visibility timeouts from Settings.queue_timeouts; {p}-job-events (a single
             events queue, for one web task)
    topic    {p}-job-events (SNS; each web task subscribes its own {p}-web-events-<id>
             queue at start-up, see adapters/aws/event_fanout)
    tables   {p}-jobs (GSIs status-created_at, status-completed_at, status-failed_at;
             stream NEW_IMAGE),
             {p}-segment-completions (stream), {p}-segment-progress (stream, TTL),
             {p}-reassembly-triggered (TTL),
             {p}-inference-invocations (TTL), {p}-push-subscriptions

Creating is idempotent: what exists is kept, and a GSI that an existing table lacks (one
made before status-failed_at) is added and waited for. Returns the Settings.aws values.
"""

from __future__ import annotations

import json
import re
import shlex
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from stereospot.adapters.aws.clients import AwsClients, error_code
from stereospot.adapters.aws.dynamodb_jobs import COMPLETED_INDEX, CREATED_INDEX, FAILED_INDEX
from stereospot.config import AwsSettings, QueueTimeouts, Settings
from stereospot.domain.routing import ROUTES, Bucket, QueueName

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import (
        FilterRuleTypeDef,
        NotificationConfigurationFilterTypeDef,
        QueueConfigurationTypeDef,
    )
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType

_PREFIX_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?")
DLQ_RETENTION_S = 14 * 24 * 3600  # the longest SQS keeps a message
INDEX_WAIT_S = 15 * 60  # a GSI added to a big table is backfilled before it is ACTIVE
JOB_EVENTS_QUEUE = "job-events"


def check_prefix(prefix: str) -> str:
    """Lower-case letters, digits and dashes, at most 40: valid in every resource name
    (bucket names allow 63 characters, queue names 80)."""
    if not _PREFIX_RE.fullmatch(prefix):
        raise ValueError(
            f"{prefix!r} is not a valid prefix: use 1-40 lower-case letters, digits and "
            "dashes, starting and ending with a letter or digit"
        )
    return prefix


def visibility_timeout(timeouts: QueueTimeouts, name: QueueName) -> int:
    seconds: int = getattr(timeouts, name.value.replace("-", "_"))
    return seconds


# --------------------------------------------------------------------------- S3


def create_bucket(s3: S3Client, name: str, region: str) -> None:
    try:
        if region == "us-east-1":  # the one region that refuses a LocationConstraint
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(
                Bucket=name,
                CreateBucketConfiguration={"LocationConstraint": region},  # type: ignore[typeddict-item]
            )
    except ClientError as exc:
        if error_code(exc) != "BucketAlreadyOwnedByYou":
            raise
    s3.put_bucket_cors(
        Bucket=name,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedMethods": ["GET", "HEAD", "PUT"],
                    "AllowedOrigins": ["*"],
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag", "Content-Length", "Content-Range", "Accept-Ranges"],
                    "MaxAgeSeconds": 3600,
                }
            ]
        },
    )
    s3.put_bucket_lifecycle_configuration(
        Bucket=name,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "abort-incomplete-multipart-uploads",
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                }
            ]
        },
    )


def configure_notifications(
    s3: S3Client, buckets: Mapping[Bucket, str], queue_arns: Mapping[QueueName, str]
) -> None:
    """S3 -> SQS notifications for every route of the domain's routing table."""
    for bucket, bucket_name in buckets.items():
        configurations: list[QueueConfigurationTypeDef] = []
        for n, route in enumerate(r for r in ROUTES if r.bucket is bucket):
            rules: list[FilterRuleTypeDef] = [{"Name": "prefix", "Value": route.prefix}]
            if route.suffix:
                rules.append({"Name": "suffix", "Value": route.suffix})
            key_filter: NotificationConfigurationFilterTypeDef = {"Key": {"FilterRules": rules}}
            configurations.append(
                {
                    "Id": f"{route.queue.value}-{n}",
                    "QueueArn": queue_arns[route.queue],
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": key_filter,
                }
            )
        s3.put_bucket_notification_configuration(
            Bucket=bucket_name,
            NotificationConfiguration={"QueueConfigurations": configurations},
        )


# --------------------------------------------------------------------------- SQS


def queue_arn(sqs: SQSClient, url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return attributes["Attributes"]["QueueArn"]


def create_queue(
    sqs: SQSClient,
    name: str,
    visibility_timeout_s: int,
    max_receives: int | None,
    s3_sources: Sequence[str] = (),
) -> str:
    """A queue (with `{name}-dlq` and a redrive policy unless max_receives is None) that
    the given buckets may send notifications to. Returns its URL."""
    attributes: dict[QueueAttributeNameType, str] = {"VisibilityTimeout": str(visibility_timeout_s)}
    if max_receives is not None:
        dlq_url = sqs.create_queue(
            QueueName=f"{name}-dlq",
            Attributes={"MessageRetentionPeriod": str(DLQ_RETENTION_S)},
        )["QueueUrl"]
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": queue_arn(sqs, dlq_url), "maxReceiveCount": max_receives}
        )
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    if s3_sources:
        sqs.set_queue_attributes(
            QueueUrl=url, Attributes={"Policy": _s3_send_policy(queue_arn(sqs, url), s3_sources)}
        )
    return url


def create_topic(sns: SNSClient, name: str) -> str:
    """The job-events topic (idempotent: SNS returns the existing topic's ARN). Terraform
    adds encryption at rest and the Pipes that publish to it; provision makes no Pipes."""
    return sns.create_topic(Name=name)["TopicArn"]


def _s3_send_policy(arn: str, buckets: Sequence[str]) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "s3-notifications",
                    "Effect": "Allow",
                    "Principal": {"Service": "s3.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": arn,
                    "Condition": {
                        "ArnLike": {"aws:SourceArn": [f"arn:aws:s3:::{b}" for b in buckets]}
                    },
                }
            ],
        }
    )


# --------------------------------------------------------------------------- DynamoDB


def _create_table(
    dynamodb: DynamoDBClient,
    name: str,
    keys: Sequence[tuple[str, str]],
    *,
    indexes: Sequence[tuple[str, str, str]] = (),
    stream: bool = False,
    ttl: bool = False,
) -> None:
    """keys: (attribute, S|N) hash then optional range; indexes: (name, hash, range) on S."""
    attributes = {name_: kind for name_, kind in keys}
    for _, hash_key, range_key in indexes:
        attributes.setdefault(hash_key, "S")
        attributes.setdefault(range_key, "S")
    request: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": a, "AttributeType": kind} for a, kind in attributes.items()
        ],
        "KeySchema": [
            {"AttributeName": a, "KeyType": "HASH" if i == 0 else "RANGE"}
            for i, (a, _) in enumerate(keys)
        ],
    }
    if indexes:
        request["GlobalSecondaryIndexes"] = [_index_spec(*index) for index in indexes]
    if stream:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    try:
        dynamodb.create_table(**request)
    except ClientError as exc:
        if error_code(exc) != "ResourceInUseException":
            raise
    dynamodb.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    add_missing_indexes(dynamodb, name, indexes)
    if ttl:
        enable_ttl(dynamodb, name)


def _index_spec(index: str, hash_key: str, range_key: str) -> dict[str, Any]:
    return {
        "IndexName": index,
        "KeySchema": [
            {"AttributeName": hash_key, "KeyType": "HASH"},
            {"AttributeName": range_key, "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }


def add_missing_indexes(
    dynamodb: DynamoDBClient,
    table: str,
    indexes: Sequence[tuple[str, str, str]],
    wait_s: float = INDEX_WAIT_S,
) -> list[str]:
    """Add the GSIs (name, hash, range on S) an existing table lacks, one per UpdateTable
    as DynamoDB requires, each waited for until ACTIVE. Returns the names added."""
    description = dynamodb.describe_table(TableName=table)["Table"]
    present = {i["IndexName"] for i in description.get("GlobalSecondaryIndexes", [])}
    attributes = {
        a["AttributeName"]: a["AttributeType"] for a in description["AttributeDefinitions"]
    }
    added = []
    for index, hash_key, range_key in indexes:
        if index in present:
            continue
        attributes.setdefault(hash_key, "S")
        attributes.setdefault(range_key, "S")
        update: dict[str, Any] = {
            "TableName": table,
            "AttributeDefinitions": [
                {"AttributeName": a, "AttributeType": kind} for a, kind in attributes.items()
            ],
            "GlobalSecondaryIndexUpdates": [{"Create": _index_spec(index, hash_key, range_key)}],
        }
        dynamodb.update_table(**update)
        _wait_for_index(dynamodb, table, index, wait_s)
        added.append(index)
    return added


def _wait_for_index(dynamodb: DynamoDBClient, table: str, index: str, wait_s: float) -> None:
    deadline = time.monotonic() + wait_s
    while True:
        described = dynamodb.describe_table(TableName=table)["Table"]
        statuses = {
            i["IndexName"]: i.get("IndexStatus")
            for i in described.get("GlobalSecondaryIndexes", [])
        }
        if statuses.get(index) == "ACTIVE":
            return
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"index {index} of table {table} is still {statuses.get(index)} after "
                f"{wait_s:.0f} s; DynamoDB keeps building it: run provision again later"
            )
        time.sleep(2)


def enable_ttl(dynamodb: DynamoDBClient, table: str) -> None:
    current = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    if current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        return
    dynamodb.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}
    )


def create_jobs_table(dynamodb: DynamoDBClient, name: str) -> None:
    _create_table(
        dynamodb,
        name,
        [("job_id", "S")],
        indexes=[
            (CREATED_INDEX, "status", "created_at"),
            (COMPLETED_INDEX, "status", "completed_at"),
            (FAILED_INDEX, "status", "failed_at"),
        ],
        stream=True,
    )


def create_completions_table(dynamodb: DynamoDBClient, name: str) -> None:
    _create_table(dynamodb, name, [("job_id", "S"), ("segment_index", "N")], stream=True)


def create_progress_table(dynamodb: DynamoDBClient, name: str) -> None:
    _create_table(dynamodb, name, [("job_id", "S"), ("segment_index", "N")], stream=True, ttl=True)


def create_reassembly_table(dynamodb: DynamoDBClient, name: str) -> None:
    _create_table(dynamodb, name, [("job_id", "S")], ttl=True)


def create_invocations_table(dynamodb: DynamoDBClient, name: str) -> None:
    _create_table(dynamodb, name, [("output_location", "S")], ttl=True)


def create_push_table(dynamodb: DynamoDBClient, name: str) -> None:
    _create_table(dynamodb, name, [("job_id", "S"), ("endpoint", "S")])


# --------------------------------------------------------------------------- the stack


def provision_from_settings(prefix: str, settings: Settings) -> AwsSettings:
    """provision() with clients for settings.aws (region, endpoint)."""
    return provision(AwsClients.from_settings(settings.aws), prefix, settings)


def provision(clients: AwsClients, prefix: str, settings: Settings) -> AwsSettings:
    """Create (or keep) every resource named from `prefix`; the Settings.aws to use them.

    Region, endpoint, multipart threshold and SageMaker endpoint come from settings.aws;
    visibility timeouts and the receive limit before dead-lettering from settings.
    """
    check_prefix(prefix)
    buckets = {Bucket.INPUT: f"{prefix}-input", Bucket.OUTPUT: f"{prefix}-output"}
    for bucket_name in buckets.values():
        create_bucket(clients.s3, bucket_name, clients.region)

    urls: dict[QueueName, str] = {}
    for queue in QueueName:
        sources = sorted({buckets[r.bucket] for r in ROUTES if r.queue is queue})
        urls[queue] = create_queue(
            clients.sqs,
            f"{prefix}-{queue.value}",
            visibility_timeout(settings.queue_timeouts, queue),
            settings.max_receives,
            s3_sources=sources,
        )
    events_url = create_queue(clients.sqs, f"{prefix}-{JOB_EVENTS_QUEUE}", 30, None)
    topic_arn = create_topic(clients.sns, f"{prefix}-{JOB_EVENTS_QUEUE}")
    routed = {route.queue for route in ROUTES}
    configure_notifications(
        clients.s3, buckets, {q: queue_arn(clients.sqs, urls[q]) for q in routed}
    )

    tables = {
        "jobs_table": (f"{prefix}-jobs", create_jobs_table),
        "segment_completions_table": (f"{prefix}-segment-completions", create_completions_table),
        "segment_progress_table": (f"{prefix}-segment-progress", create_progress_table),
        "reassembly_table": (f"{prefix}-reassembly-triggered", create_reassembly_table),
        "invocations_table": (f"{prefix}-inference-invocations", create_invocations_table),
        "push_subscriptions_table": (f"{prefix}-push-subscriptions", create_push_table),
    }
    for table_name, create in tables.values():
        create(clients.dynamodb, table_name)

    return settings.aws.model_copy(
        update={
            "input_bucket": buckets[Bucket.INPUT],
            "output_bucket": buckets[Bucket.OUTPUT],
            **{field: table_name for field, (table_name, _) in tables.items()},
            **{f"{q.value.replace('-', '_')}_queue_url": url for q, url in urls.items()},
            "job_events_queue_url": events_url,
            "job_events_topic_arn": topic_arn,
            "web_events_queue_prefix": f"{prefix}-web-events",
        }
    )


def environment(aws: AwsSettings) -> dict[str, str]:
    """The environment variables that select these resources (STEREOSPOT_AWS__...)."""
    variables = {"STEREOSPOT_PLATFORM": "aws"}
    for field, field_value in aws.model_dump().items():
        if field_value is not None and field_value != "":
            # Settings read complex values (log_groups) from the environment as JSON.
            rendered = (
                json.dumps(list(field_value))
                if isinstance(field_value, tuple | list)
                else str(field_value)
            )
            variables[f"STEREOSPOT_AWS__{field.upper()}"] = rendered
    return variables


def export_lines(aws: AwsSettings) -> list[str]:
    return [f"export {name}={shlex.quote(v)}" for name, v in environment(aws).items()]
