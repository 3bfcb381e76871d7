"""ReassemblyLock on DynamoDB: PK job_id, conditional create and claim, TTL on `ttl`.

DynamoDB deletes expired items lazily (up to days late), so every read and condition
treats an item whose `expires_at` has passed as absent; `ttl` only lets AWS clean up.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from botocore.exceptions import ClientError

from stereospot.adapters.aws.dynamodb_items import (
    condition_failed,
    epoch,
    iso,
    to_item,
    ttl_seconds,
    value,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoReassemblyLock:
    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self._db = dynamodb
        self._table = table

    def create(self, job_id: UUID, now: datetime, ttl_s: int) -> bool:
        expires_at = now + timedelta(seconds=ttl_s)
        item = to_item(
            {
                "job_id": str(job_id),
                "created_at": iso(now),
                "expires_at": epoch(expires_at),
                "ttl": ttl_seconds(expires_at),
            }
        )
        try:
            self._db.put_item(
                TableName=self._table,
                Item=item,
                # An expired record that TTL has not removed yet counts as absent.
                ConditionExpression="attribute_not_exists(job_id) OR expires_at <= :now",
                ExpressionAttributeValues={":now": value(epoch(now))},
            )
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def claim(self, job_id: UUID, claimant: str, now: datetime, lease_s: int) -> bool:
        lease_until = now + timedelta(seconds=lease_s)
        try:
            self._db.update_item(
                TableName=self._table,
                Key={"job_id": value(str(job_id))},
                UpdateExpression="SET claimant = :claimant, lease_until = :lease_until",
                ConditionExpression=(
                    "attribute_exists(job_id) AND expires_at > :now AND ("
                    "attribute_not_exists(claimant) OR claimant = :claimant"
                    " OR lease_until <= :now)"
                ),
                ExpressionAttributeValues={
                    ":claimant": value(claimant),
                    ":lease_until": value(epoch(lease_until)),
                    ":now": value(epoch(now)),
                },
            )
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def delete(self, job_id: UUID) -> None:
        self._db.delete_item(TableName=self._table, Key={"job_id": value(str(job_id))})
