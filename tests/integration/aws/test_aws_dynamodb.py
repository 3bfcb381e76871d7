"""DynamoDB stores of a provisioned stack: item shapes, pagination, batches, TTL, limits."""

from __future__ import annotations

import base64
import json
import math
import random
from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

import pytest

from stereospot.adapters.aws.clients import AwsClients
from stereospot.adapters.aws.dynamodb_completions import DynamoSegmentCompletionStore
from stereospot.adapters.aws.dynamodb_items import BATCH_WRITE_MAX, epoch
from stereospot.adapters.aws.dynamodb_job_items import (
    PLAN_COMPRESS_ABOVE,
    ItemTooLarge,
    item_size,
    job_from_item,
    job_to_item,
)
from stereospot.adapters.aws.dynamodb_jobs import DynamoJobStore
from stereospot.adapters.aws.dynamodb_push import DynamoPushSubscriptionStore
from stereospot.adapters.aws.dynamodb_reassembly import DynamoReassemblyLock
from stereospot.config import Settings
from stereospot.domain.formats import ConversionSettings, StereoFormat, SyntheticView
from stereospot.domain.keys import output_segment_key
from stereospot.domain.model import Job, JobStatus, SegmentCompletion, SegmentPlanEntry
from stereospot.domain.ports import PushSubscription
from stereospot.ops.provision import add_missing_indexes, create_jobs_table
from tests.aws_server import fresh_prefix

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def plan(count: int, seconds: float = 10.01) -> tuple[SegmentPlanEntry, ...]:
    return tuple(
        SegmentPlanEntry(
            index=i, start_s=i * seconds, duration_s=seconds + i % 7 / 1000, frame_count=300 + i % 3
        )
        for i in range(count)
    )


def full_job(**changes: object) -> Job:
    job = Job(
        id=uuid4(),
        status=JobStatus.FAILED,
        output_format=StereoFormat.ANAGLYPH,
        settings=ConversionSettings(
            divergence=0.1 + 0.2, convergence=1 / 3, synthetic_view=SyntheticView.RIGHT
        ),
        title="Ünïcode title",
        source_url="https://example.com/watch?v=1",
        created_at=datetime(2026, 3, 1, 13, 0, tzinfo=timezone(timedelta(hours=1))),
        uploaded_at=T0 + timedelta(microseconds=1),
        chunked_at=T0 + timedelta(seconds=30),
        source_size=8 * 1024**3,
        source_duration_s=3600.04,
        total_segments=3,
        segment_plan=plan(3),
        failure_reason="The file is not a video.",
        status_before_failure=JobStatus.CHUNKING_COMPLETE,
        version=7,
    )
    return job.model_copy(update=changes)


# --------------------------------------------------------------------------- job items


def test_a_job_item_is_flat_and_round_trips_exactly() -> None:
    job = full_job()
    item = job_to_item(job)
    assert item["job_id"] == {"S": str(job.id)}
    assert item["status"] == {"S": "failed"}
    assert item["created_at"] == {"S": "2026-03-01T12:00:00.000000Z"}  # UTC, fixed width
    assert item["uploaded_at"] == {"S": "2026-03-01T12:00:00.000001Z"}
    assert item["source_size"] == {"N": str(8 * 1024**3)}
    assert item["settings"]["M"]["divergence"] == {"N": repr(0.1 + 0.2)}
    assert "completed_at" not in item  # absent, so the completed GSI stays sparse
    assert json.loads(item["segment_plan"]["S"])[1] == [1, 10.01, 10.011, 301]
    assert job_from_item(item) == job


def test_a_long_plan_is_compressed_and_still_round_trips() -> None:
    job = full_job(segment_plan=plan(5000), total_segments=5000)
    item = job_to_item(job)
    assert "B" in item["segment_plan"]
    assert len(item["segment_plan"]["B"]) < PLAN_COMPRESS_ABOVE * 4
    assert job_from_item(item) == job


def test_a_plan_too_long_for_one_item_is_refused_readably() -> None:
    job = full_job(segment_plan=plan(99_999), total_segments=99_999)
    reason = r"400 KB item limit \(the segment plan has 99999 segments\)"
    with pytest.raises(ItemTooLarge, match=reason):
        job_to_item(job)


# --------------------------------------------------------------------------- stores


@pytest.fixture
def jobs(settings: Settings, clients: AwsClients) -> DynamoJobStore:
    return DynamoJobStore(clients.dynamodb, settings.aws.jobs_table)


def test_a_compressed_plan_survives_dynamodb(jobs: DynamoJobStore) -> None:
    job = full_job(segment_plan=plan(3000), total_segments=3000)
    jobs.create(job)
    assert jobs.get(job.id) == job


def test_completed_jobs_page_through_the_gsi_with_an_opaque_cursor(jobs: DynamoJobStore) -> None:
    completed = [
        Job(
            id=uuid4(),
            status=JobStatus.COMPLETED,
            created_at=T0,
            completed_at=T0 + timedelta(seconds=i),
        )
        for i in range(25)
    ]
    for job in completed:
        jobs.create(job)
    jobs.create(Job(id=uuid4(), created_at=T0))  # in progress: not listed

    pages, cursor = [], None
    while True:
        page = jobs.list_completed(limit=10, cursor=cursor)
        pages.append([job.id for job in page.jobs])
        if page.next_cursor is None:
            break
        key = json.loads(base64.urlsafe_b64decode(page.next_cursor + "=="))
        assert set(key) == {"job_id", "status", "completed_at"}  # the LastEvaluatedKey
        cursor = page.next_cursor
    newest_first = [job.id for job in reversed(completed)]
    assert pages == [newest_first[:10], newest_first[10:20], newest_first[20:]]


def test_a_listing_crosses_dynamodbs_1_mb_result_pages(
    jobs: DynamoJobStore, clients: AwsClients
) -> None:
    noise = random.Random(7)  # digits that do not compress: about 40 KB per item
    heavy_plan = tuple(
        SegmentPlanEntry(
            index=i, start_s=noise.random() * 1e4, duration_s=noise.random(), frame_count=i
        )
        for i in range(2000)
    )
    completed = [
        Job(
            id=uuid4(),
            status=JobStatus.COMPLETED,
            created_at=T0,
            completed_at=T0 + timedelta(seconds=i),
            segment_plan=heavy_plan,
            total_segments=len(heavy_plan),
        )
        for i in range(30)
    ]
    assert sum(item_size(job_to_item(job)) for job in completed) > 1_000_000
    for job in completed:
        jobs.create(job)
    queries: list[object] = []
    clients.dynamodb.meta.events.register(
        "after-call.dynamodb.Query", lambda **kwargs: queries.append(kwargs)
    )
    page = jobs.list_completed(limit=30)
    assert [job.id for job in page.jobs] == [job.id for job in reversed(completed)]
    assert page.next_cursor is None
    assert len(queries) >= 2  # DynamoDB stopped at 1 MB; the store asked for the rest


@pytest.mark.parametrize("cursor", ["", "%%%", base64.urlsafe_b64encode(b'{"a": 1}').decode()])
def test_a_foreign_cursor_is_a_value_error(jobs: DynamoJobStore, cursor: str) -> None:
    with pytest.raises(ValueError, match="not a page cursor"):
        jobs.list_completed(cursor=cursor)


def test_failed_jobs_are_read_from_their_own_gsi_never_a_scan(
    jobs: DynamoJobStore, clients: AwsClients, settings: Settings
) -> None:
    failed = [
        Job(id=uuid4(), created_at=T0).fail("bad file", at=T0 + timedelta(seconds=i))
        for i in range(5)
    ]
    for job in failed:
        jobs.create(job)
    item = clients.dynamodb.get_item(
        TableName=settings.aws.jobs_table, Key={"job_id": {"S": str(failed[0].id)}}
    )["Item"]
    assert item["failed_at"] == {"S": "2026-03-01T12:00:00.000000Z"}
    assert "completed_at" not in item  # completed_at keeps meaning completion
    calls: list[tuple[str, object]] = []
    for operation in ("Query", "Scan"):
        clients.dynamodb.meta.events.register(
            f"before-parameter-build.dynamodb.{operation}",
            lambda params, op=operation, **_: calls.append((op, params.get("IndexName"))),
        )
    first = jobs.list_failed(limit=3)
    assert [j.id for j in first.jobs] == [j.id for j in reversed(failed)][:3]
    assert first.next_cursor is not None
    key = json.loads(base64.urlsafe_b64decode(first.next_cursor + "=="))
    assert set(key) == {"job_id", "status", "failed_at"}
    rest = jobs.list_failed(limit=3, cursor=first.next_cursor)
    assert [j.id for j in rest.jobs] == [j.id for j in reversed(failed)][3:]
    assert calls and all(call == ("Query", "status-failed_at") for call in calls)
    # A cursor of the completed listing is not one of this listing.
    completed_cursor = base64.urlsafe_b64encode(
        json.dumps({k: {"S": "x"} for k in ("job_id", "status", "completed_at")}).encode()
    ).decode()
    with pytest.raises(ValueError, match="not a page cursor"):
        jobs.list_failed(cursor=completed_cursor)


def test_provision_adds_the_failed_gsi_to_a_table_made_before_it(
    clients: AwsClients, moto_server: str
) -> None:
    table = f"{fresh_prefix()}-jobs"
    clients.dynamodb.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"}
            for name in ("job_id", "status", "created_at", "completed_at")
        ],
        KeySchema=[{"AttributeName": "job_id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": index,
                "KeySchema": [
                    {"AttributeName": "status", "KeyType": "HASH"},
                    {"AttributeName": sort, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index, sort in (
                ("status-created_at", "created_at"),
                ("status-completed_at", "completed_at"),
            )
        ],
    )
    store = DynamoJobStore(clients.dynamodb, table)
    earlier = Job(id=uuid4(), created_at=T0).fail("bad file", at=T0)
    store.create(earlier)  # failed while the table had no failed index

    create_jobs_table(clients.dynamodb, table)
    described = clients.dynamodb.describe_table(TableName=table)["Table"]
    indexes = {i["IndexName"]: i["IndexStatus"] for i in described["GlobalSecondaryIndexes"]}
    assert indexes == {
        "status-created_at": "ACTIVE",
        "status-completed_at": "ACTIVE",
        "status-failed_at": "ACTIVE",
    }
    later = Job(id=uuid4(), created_at=T0).fail("bad file", at=T0 + timedelta(minutes=1))
    store.create(later)
    assert [j.id for j in store.list_failed().jobs] == [later.id, earlier.id]
    assert (
        add_missing_indexes(clients.dynamodb, table, [("status-failed_at", "status", "failed_at")])
        == []
    )


def test_delete_job_batches_past_25_items(settings: Settings, clients: AwsClients) -> None:
    store = DynamoSegmentCompletionStore(clients.dynamodb, settings.aws.segment_completions_table)
    job_id, other = uuid4(), uuid4()
    count = 2 * BATCH_WRITE_MAX + 3
    for i in reversed(range(count)):
        store.put(
            SegmentCompletion(
                job_id=job_id,
                segment_index=i,
                output_key=output_segment_key(job_id, i),
                completed_at=T0,
            )
        )
    store.put(SegmentCompletion(job_id=other, segment_index=0, output_key="k", completed_at=T0))
    assert [c.segment_index for c in store.list(job_id)] == list(range(count))
    store.delete_job(job_id)
    assert store.list(job_id) == []
    assert len(store.list(other)) == 1


def test_the_lock_item_carries_a_ttl_that_never_fires_early(
    settings: Settings, clients: AwsClients
) -> None:
    lock = DynamoReassemblyLock(clients.dynamodb, settings.aws.reassembly_table)
    job_id = uuid4()
    now = T0 + timedelta(microseconds=250_000)
    assert lock.create(job_id, now, 60)
    item = clients.dynamodb.get_item(
        TableName=settings.aws.reassembly_table, Key={"job_id": {"S": str(job_id)}}
    )["Item"]
    assert int(item["ttl"]["N"]) == math.ceil(epoch(now) + 60)
    assert float(item["expires_at"]["N"]) == pytest.approx(now.timestamp() + 60)
    ttl = clients.dynamodb.describe_time_to_live(TableName=settings.aws.reassembly_table)
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "ttl"
    assert ttl["TimeToLiveDescription"]["TimeToLiveStatus"] in ("ENABLED", "ENABLING")


def test_push_endpoints_beyond_a_sort_key_are_refused(
    settings: Settings, clients: AwsClients
) -> None:
    store = DynamoPushSubscriptionStore(clients.dynamodb, settings.aws.push_subscriptions_table)
    with pytest.raises(ValueError, match="1024 bytes"):
        store.add(uuid4(), PushSubscription("https://push.example/" + "x" * 1024, "p", "a"))
