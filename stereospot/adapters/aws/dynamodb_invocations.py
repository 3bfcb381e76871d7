"""InferenceInvocationStore on DynamoDB: PK output_location, TTL on `ttl`.

As with the reassembly lock, an item past its `expires_at` reads as absent even before
DynamoDB's lazy TTL deletion removes it.

In-flight slots live in the same table, under keys no output location has:
`#slot#{n}` (holder, expires_at), claimed with a conditional put (absent or expired), and
`#holder#{holder}` (slot), so a holder finds its slot again in one read.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from botocore.exceptions import ClientError

from stereospot.adapters.aws.dynamodb_items import (
    condition_failed,
    epoch,
    from_item,
    to_item,
    ttl_seconds,
    value,
)
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

    # ------------------------------------------------------------------ in-flight slots

    def acquire_slot(self, holder: str, now: datetime, ttl_s: int, capacity: int) -> int | None:
        expires_at = now + timedelta(seconds=ttl_s)
        own = self._own_slot(holder, now)
        if own is not None and self._claim(own, holder, now, expires_at, renew=True):
            return own
        for slot in range(capacity):
            if self._claim(slot, holder, now, expires_at, renew=False):
                self._db.put_item(
                    TableName=self._table,
                    Item=to_item(
                        {
                            "output_location": _holder_key(holder),
                            "slot": slot,
                            "expires_at": epoch(expires_at),
                            "ttl": ttl_seconds(expires_at),
                        }
                    ),
                )
                return slot
        return None

    def _own_slot(self, holder: str, now: datetime) -> int | None:
        item = self._get(_holder_key(holder))
        if item is None or item["expires_at"] <= epoch(now):
            return None
        return int(item["slot"])

    def _claim(
        self, slot: int, holder: str, now: datetime, expires_at: datetime, *, renew: bool
    ) -> bool:
        condition = (
            "holder = :holder AND expires_at > :now"
            if renew
            else "attribute_not_exists(output_location) OR expires_at <= :now"
        )
        values = {":now": value(epoch(now))}
        if renew:
            values[":holder"] = value(holder)
        try:
            self._db.put_item(
                TableName=self._table,
                Item=to_item(
                    {
                        "output_location": _slot_key(slot),
                        "holder": holder,
                        "expires_at": epoch(expires_at),
                        "ttl": ttl_seconds(expires_at),
                    }
                ),
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def release_slot(self, holder: str) -> None:
        item = self._get(_holder_key(holder))
        if item is None:
            return
        try:
            self._db.delete_item(
                TableName=self._table,
                Key={"output_location": value(_slot_key(int(item["slot"])))},
                ConditionExpression="holder = :holder",
                ExpressionAttributeValues={":holder": value(holder)},
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise
        self._db.delete_item(
            TableName=self._table, Key={"output_location": value(_holder_key(holder))}
        )

    def live_slots(self, now: datetime, capacity: int) -> int:
        live = 0
        for start in range(0, capacity, 100):  # BatchGetItem takes 100 keys
            wanted = [
                {"output_location": value(_slot_key(slot))}
                for slot in range(start, min(capacity, start + 100))
            ]
            response = self._db.batch_get_item(
                RequestItems={self._table: {"Keys": wanted, "ConsistentRead": True}}
            )
            for item in response["Responses"].get(self._table, []):
                if from_item(item)["expires_at"] > epoch(now):
                    live += 1
        return live

    def _get(self, key: str) -> dict[str, Any] | None:
        response = self._db.get_item(
            TableName=self._table, Key={"output_location": value(key)}, ConsistentRead=True
        )
        item = response.get("Item")
        return from_item(item) if item else None


def _slot_key(slot: int) -> str:
    return f"#slot#{slot}"


def _holder_key(holder: str) -> str:
    return f"#holder#{holder}"


def _check_location(output_location: str) -> None:
    size = len(output_location.encode())
    if not 0 < size <= PARTITION_KEY_MAX_BYTES:
        raise ValueError(
            f"an output location must be 1 to {PARTITION_KEY_MAX_BYTES} bytes, not {size}"
        )
