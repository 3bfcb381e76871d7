"""SegmentCompletionStore on DynamoDB: PK job_id, SK segment_index.

A put is conditional on the item being absent, so a completion delivered twice is recorded
once and the second put reports False. Queries read strongly consistent, in index order.
"""

from __future__ import annotations

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
    to_item,
)
from stereospot.domain.model import SegmentCompletion

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoSegmentCompletionStore:
    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self._db = dynamodb
        self._table = table

    def put(self, completion: SegmentCompletion) -> bool:
        item = to_item(
            {
                "job_id": str(completion.job_id),
                "segment_index": completion.segment_index,
                "output_key": completion.output_key,
                "completed_at": iso(completion.completed_at),
            }
        )
        try:
            self._db.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(segment_index)",
            )
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def list(self, job_id: UUID) -> list[SegmentCompletion]:
        completions = []
        for item in query_partition(self._db, self._table, str(job_id)):
            data = from_item(item)
            completions.append(
                SegmentCompletion(
                    job_id=UUID(data["job_id"]),
                    segment_index=int(data["segment_index"]),
                    output_key=data["output_key"],
                    completed_at=parse_iso(data["completed_at"]),
                )
            )
        return completions

    def delete_job(self, job_id: UUID) -> None:
        items = query_partition(self._db, self._table, str(job_id), "job_id, segment_index")
        keys: list[Item] = [
            {"job_id": item["job_id"], "segment_index": item["segment_index"]} for item in items
        ]
        batch_delete(self._db, self._table, keys)
