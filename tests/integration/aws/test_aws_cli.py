"""`stereospot aws provision` and `stereospot aws smoke-test` as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from uuid import uuid4

from stereospot.adapters.aws.clients import AwsClients
from stereospot.adapters.aws.sqs_queue import SqsQueues
from stereospot.config import Settings
from stereospot.domain.messages import DeletionRequested
from stereospot.domain.routing import QueueName
from stereospot.ops.provision import environment
from tests.aws_server import fresh_prefix


def stereospot(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stereospot.entrypoints.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_provision_creates_the_stack_and_prints_what_to_export(
    moto_server: str, clients: AwsClients
) -> None:
    prefix = fresh_prefix()
    result = stereospot("aws", "provision", "--endpoint-url", moto_server, "--prefix", prefix)
    assert result.returncode == 0, result.stderr
    exported = dict(
        line.removeprefix("export ").split("=", 1) for line in result.stdout.splitlines()
    )
    assert exported["STEREOSPOT_PLATFORM"] == "aws"
    assert exported["STEREOSPOT_AWS__ENDPOINT_URL"] == moto_server
    assert exported["STEREOSPOT_AWS__INPUT_BUCKET"] == f"{prefix}-input"
    assert exported["STEREOSPOT_AWS__JOBS_TABLE"] == f"{prefix}-jobs"
    buckets = {b["Name"] for b in clients.s3.list_buckets()["Buckets"]}
    assert {f"{prefix}-input", f"{prefix}-output"} <= buckets
    queue_url = exported["STEREOSPOT_AWS__VIDEO_WORKER_QUEUE_URL"]
    assert queue_url.endswith(f"/{prefix}-video-worker")
    clients.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"])


def test_provision_refuses_a_prefix_no_bucket_could_use(moto_server: str) -> None:
    result = stereospot("aws", "provision", "--endpoint-url", moto_server, "--prefix", "Bad_Name")
    assert result.returncode == 2
    assert "not a valid prefix" in result.stderr


def test_smoke_test_passes_on_a_whole_stack_and_leaves_nothing(
    settings: Settings, clients: AwsClients
) -> None:
    deletion = SqsQueues.from_settings(clients.sqs, settings.aws)[QueueName.DELETION]
    waiting = DeletionRequested(job_id=uuid4()).to_body()  # real work already queued
    deletion.send(waiting)
    result = stereospot("aws", "smoke-test", "--queue-wait", "5", env=environment(settings.aws))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for step in ("jobs table", "queue chunking", "queue deletion", "presigned download"):
        assert any(line.startswith(f"ok   {step}:") for line in lines), result.stdout
    assert "smoke test passed" in result.stdout
    for bucket in (settings.aws.input_bucket, settings.aws.output_bucket):
        listing = clients.s3.list_objects_v2(Bucket=bucket)
        assert listing.get("KeyCount", 0) == 0, listing.get("Contents")
    assert clients.dynamodb.scan(TableName=settings.aws.jobs_table)["Count"] == 0
    # The queued message was received once at most, and put back untouched.
    [message] = deletion.receive(wait_s=1)
    assert message.body == waiting and message.receive_count <= 2


def test_smoke_test_names_the_step_that_fails(settings: Settings, moto_server: str) -> None:
    missing = f"{moto_server}/123456789012/{fresh_prefix()}-reassembly"
    env = {**environment(settings.aws), "STEREOSPOT_AWS__REASSEMBLY_QUEUE_URL": missing}
    result = stereospot("aws", "smoke-test", "--queue-wait", "5", env=env)
    assert result.returncode == 1
    assert "FAIL queue reassembly: QueueNotConfigured" in result.stdout
    assert "ok   cleanup:" in result.stdout  # what it made is removed even so
    assert "smoke test FAILED" in result.stderr
