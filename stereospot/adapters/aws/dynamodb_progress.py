"""SegmentProgressStore on DynamoDB: PK job_id, SK segment_index, with a TTL.

A report is one UpdateItem: started_at only if absent, the rest conditional on the stored
count not being larger (a smaller count fails the condition and is ignored). Items expire
a week after their last report (cleanup deletes them sooner). The table's stream feeds the
job events pipe, so every report reaches the web tasks as a progress event.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID

from botocore.exceptions import ClientError

from stereospot.adapters.aws.dynamodb_items import (
    Item,
    batch_delete,
    condition_failed,
    from_item,
    iso,
    parse_iso,
    query_partition,
    ttl_seconds,
    value,
)
from stereospot.domain.model import SegmentProgress

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

RETAIN = timedelta(days=7)


class DynamoSegmentProgressStore:
    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self._db = dynamodb
        self._table = table

    def put(self, report: SegmentProgress) -> None:
        try:
            self._db.update_item(
                TableName=self._table,
                Key={
                    "job_id": value(str(report.job_id)),
                    "segment_index": value(report.segment_index),
                },
                UpdateExpression=(
                    "SET frames_done = :done, frames_total = :total, updated_at = :updated,"
                    " fps = :fps,"
                    " started_at = if_not_exists(started_at, :started), #ttl = :expires"
                ),
                ConditionExpression="attribute_not_exists(frames_done) OR frames_done <= :done",
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues={
                    ":done": value(report.frames_done),
                    ":total": value(report.frames_total),
                    ":fps": value(Decimal(f"{report.frames_per_second:.3f}")),
                    ":updated": value(iso(report.updated_at)),
                    ":started": value(iso(report.started_at)),
                    ":expires": value(ttl_seconds(report.updated_at + RETAIN)),
                },
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise

    def list(self, job_id: UUID) -> list[SegmentProgress]:
        reports = []
        for item in query_partition(self._db, self._table, str(job_id)):
            data = from_item(item)
            reports.append(
                SegmentProgress(
                    job_id=UUID(data["job_id"]),
                    segment_index=int(data["segment_index"]),
                    frames_done=int(data["frames_done"]),
                    frames_total=int(data["frames_total"]),
                    started_at=parse_iso(data["started_at"]),
                    updated_at=parse_iso(data["updated_at"]),
                    frames_per_second=float(data.get("fps", 0)),
                )
            )
        return reports

    def delete_job(self, job_id: UUID) -> None:
        items = query_partition(self._db, self._table, str(job_id), "job_id, segment_index")
        keys: list[Item] = [
            {"job_id": item["job_id"], "segment_index": item["segment_index"]} for item in items
        ]
        batch_delete(self._db, self._table, keys)
