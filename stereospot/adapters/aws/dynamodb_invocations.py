"""InferenceInvocationStore on DynamoDB: PK output_location, TTL on `ttl`.

As with the reassembly lock, an item past its `expires_at` reads as absent even before
DynamoDB's lazy TTL deletion removes it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from stereospot.adapters.aws.dynamodb_items import epoch, from_item, to_item, ttl_seconds, value
from stereospot.domain.ports import Invocation

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PARTITION_KEY_MAX_BYTES = 2048


class DynamoInvocationStore:
    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self._db = dynamodb
        self._table = table

    def put(self, invocation: Invocation, now: datetime, ttl_s: int) -> None:
        _check_location(invocation.output_location)
        expires_at = now + timedelta(seconds=ttl_s)
        item = to_item(
            {
                "output_location": invocation.output_location,
                "job_id": str(invocation.job_id),
                "segment_index": invocation.segment_index,
                "expires_at": epoch(expires_at),
                "ttl": ttl_seconds(expires_at),
            }
        )
        self._db.put_item(TableName=self._table, Item=item)

    def get(self, output_location: str, now: datetime) -> Invocation | None:
        _check_location(output_location)
        response = self._db.get_item(
            TableName=self._table,
            Key={"output_location": value(output_location)},
            ConsistentRead=True,
        )
        item = response.get("Item")
        if not item:
            return None
        data = from_item(item)
        if data["expires_at"] <= epoch(now):
            return None
        return Invocation(
            output_location=data["output_location"],
            job_id=UUID(data["job_id"]),
            segment_index=int(data["segment_index"]),
        )

    def delete(self, output_location: str) -> None:
        _check_location(output_location)
        self._db.delete_item(TableName=self._table, Key={"output_location": value(output_location)})


def _check_location(output_location: str) -> None:
    size = len(output_location.encode())
    if not 0 < size <= PARTITION_KEY_MAX_BYTES:
        raise ValueError(
            f"an output location must be 1 to {PARTITION_KEY_MAX_BYTES} bytes, not {size}"
        )
