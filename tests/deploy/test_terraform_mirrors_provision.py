"""Terraform mirrors `stereospot aws provision`: the same queues, tables and notifications.

provision() builds a stack on moto's server; the test reads back what it made and compares
it with what deploy/terraform declares (parsed with python-hcl2). The one intended
difference: Terraform gives the job-events queue a DLQ too (every queue has one there),
where provision leaves it without.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from stereospot.adapters.aws.clients import AwsClients
from stereospot.config import AwsSettings, Settings
from stereospot.ops.provision import provision
from tests.aws_server import REGION, fresh_prefix
from tests.deploy.hcl import APP, load
from tests.deploy.stack_spec import JOB_EVENTS_QUEUE, STACK_JSON

pytestmark = pytest.mark.aws

MODULES = APP / "modules"
# Terraform's additions to provision's stack, each on purpose.
TERRAFORM_ONLY_DLQS = {f"{JOB_EVENTS_QUEUE}-dlq"}


@pytest.fixture(scope="module")
def provisioned(moto_server: str) -> tuple[AwsClients, str, AwsSettings]:
    clients = AwsClients.from_settings(AwsSettings(region=REGION, endpoint_url=moto_server))
    prefix = fresh_prefix()
    settings = Settings.model_construct()  # the defaults, as stack.json has them
    settings = settings.model_copy(
        update={"aws": AwsSettings(region=REGION, endpoint_url=moto_server)}
    )
    return clients, prefix, provision(clients, prefix, settings)


def _stack() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(STACK_JSON.read_text(encoding="utf-8"))
    return spec


def test_the_same_queues_with_the_same_timeouts_and_receive_limit(
    provisioned: tuple[AwsClients, str, AwsSettings],
) -> None:
    clients, prefix, _ = provisioned
    urls = clients.sqs.list_queues(QueueNamePrefix=f"{prefix}-")["QueueUrls"]
    made: dict[str, dict[str, str]] = {}
    for url in urls:
        name = url.rsplit("/", 1)[1].removeprefix(f"{prefix}-")
        made[name] = clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])[
            "Attributes"
        ]

    declared = _stack()["queues"]
    terraform_names = set(declared) | {f"{q}-dlq" for q in declared}
    assert set(made) == terraform_names - TERRAFORM_ONLY_DLQS
    for queue, timeout in declared.items():
        assert int(made[queue]["VisibilityTimeout"]) == timeout, queue
        if f"{queue}-dlq" in made:
            redrive = json.loads(made[queue]["RedrivePolicy"])
            assert redrive["maxReceiveCount"] == _stack()["max_receives"]
            assert redrive["deadLetterTargetArn"].endswith(f":{prefix}-{queue}-dlq")
    dlq_retention = next(
        v.body["default"] for v in load(MODULES / "queues").variables if v.name == "dlq_retention_s"
    )
    assert dlq_retention == "${14 * 24 * 3600}"
    for queue in declared:
        if f"{queue}-dlq" in made:
            retention = int(made[f"{queue}-dlq"]["MessageRetentionPeriod"])
            assert retention == 14 * 24 * 3600, queue


def test_the_same_notifications(provisioned: tuple[AwsClients, str, AwsSettings]) -> None:
    clients, prefix, _ = provisioned
    for bucket, declared in _stack()["notifications"].items():
        config = clients.s3.get_bucket_notification_configuration(Bucket=f"{prefix}-{bucket}")
        made = set()
        for entry in config.get("QueueConfigurations", []):
            rules = {r["Name"].lower(): r["Value"] for r in entry["Filter"]["Key"]["FilterRules"]}
            queue = entry["QueueArn"].rsplit(":", 1)[1].removeprefix(f"{prefix}-")
            made.add((entry["Id"], rules.get("prefix", ""), rules.get("suffix", ""), queue))
            assert entry["Events"] == ["s3:ObjectCreated:*"]
        assert made == {(n["id"], n["prefix"], n["suffix"], n["queue"]) for n in declared}


def _terraform_tables() -> dict[str, dict[str, Any]]:
    tables = {}
    for block in load(MODULES / "tables").of_type("aws_dynamodb_table"):
        body = block.body
        suffix = body["name"].removeprefix("${var.name}-")
        keys = [("HASH", body["hash_key"])]
        if "range_key" in body:
            keys.append(("RANGE", body["range_key"]))
        tables[suffix] = {
            "keys": keys,
            "attributes": {a["name"]: a["type"] for a in body["attribute"]},
            "indexes": {
                g["name"]: (g["hash_key"], g["range_key"], g["projection_type"])
                for g in body.get("global_secondary_index", [])
            },
            "stream": body.get("stream_view_type") if body.get("stream_enabled") else None,
            "ttl": body["ttl"][0]["attribute_name"] if "ttl" in body else None,
            "billing": body["billing_mode"],
        }
    return tables


def test_the_same_tables_keys_indexes_streams_and_ttl(
    provisioned: tuple[AwsClients, str, AwsSettings],
) -> None:
    clients, prefix, aws = provisioned
    declared = _terraform_tables()
    made_names = {
        getattr(aws, field).removeprefix(f"{prefix}-")
        for field in AwsSettings.model_fields
        if field.endswith("_table")
    }
    assert set(declared) == made_names
    for suffix, expected in declared.items():
        table = clients.dynamodb.describe_table(TableName=f"{prefix}-{suffix}")["Table"]
        keys = [(k["KeyType"], k["AttributeName"]) for k in table["KeySchema"]]
        assert keys == expected["keys"], suffix
        attributes = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
        assert attributes == expected["attributes"], suffix
        indexes = {
            i["IndexName"]: (
                next(k["AttributeName"] for k in i["KeySchema"] if k["KeyType"] == "HASH"),
                next(k["AttributeName"] for k in i["KeySchema"] if k["KeyType"] == "RANGE"),
                i["Projection"]["ProjectionType"],
            )
            for i in table.get("GlobalSecondaryIndexes", [])
        }
        assert indexes == expected["indexes"], suffix
        stream = table.get("StreamSpecification", {})
        made_stream = stream.get("StreamViewType") if stream.get("StreamEnabled") else None
        assert made_stream == expected["stream"], suffix
        ttl = clients.dynamodb.describe_time_to_live(TableName=f"{prefix}-{suffix}")[
            "TimeToLiveDescription"
        ]
        made_ttl = ttl.get("AttributeName") if ttl.get("TimeToLiveStatus") == "ENABLED" else None
        assert made_ttl == expected["ttl"], suffix
        assert table["BillingModeSummary"]["BillingMode"] == expected["billing"]


def test_the_same_bucket_cors_and_upload_cleanup(
    provisioned: tuple[AwsClients, str, AwsSettings],
) -> None:
    clients, prefix, _ = provisioned
    storage = load(MODULES / "storage")
    [rule] = storage.resource("aws_s3_bucket_cors_configuration", "this")["cors_rule"]
    for bucket in ("input", "output"):
        [made] = clients.s3.get_bucket_cors(Bucket=f"{prefix}-{bucket}")["CORSRules"]
        assert sorted(made["AllowedMethods"]) == sorted(rule["allowed_methods"])
        assert made["ExposeHeaders"] == rule["expose_headers"]
        assert made["MaxAgeSeconds"] == rule["max_age_seconds"]
        lifecycle = clients.s3.get_bucket_lifecycle_configuration(Bucket=f"{prefix}-{bucket}")
        made_ids = {r["ID"] for r in lifecycle["Rules"]}
        declared = storage.resource("aws_s3_bucket_lifecycle_configuration", bucket)
        assert made_ids <= {r["id"] for r in declared["rule"]}
