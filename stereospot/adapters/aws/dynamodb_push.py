"""PushSubscriptionStore on DynamoDB: PK job_id, SK endpoint (one item per endpoint and job).

Adding an endpoint again replaces its keys. list() returns a job's subscriptions in
endpoint order (the sort key's); the port promises no order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from stereospot.adapters.aws.dynamodb_items import (
    Item,
    batch_delete,
    from_item,
    query_partition,
    to_item,
    value,
)
from stereospot.domain.ports import PushSubscription

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SORT_KEY_MAX_BYTES = 1024  # a DynamoDB sort key holds at most 1 KB


class DynamoPushSubscriptionStore:
    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self._db = dynamodb
        self._table = table

    def add(self, job_id: UUID, subscription: PushSubscription) -> None:
        _check_endpoint(subscription.endpoint)
        item = to_item(
            {
                "job_id": str(job_id),
                "endpoint": subscription.endpoint,
                "p256dh": subscription.p256dh,
                "auth": subscription.auth,
            }
        )
        self._db.put_item(TableName=self._table, Item=item)

    def list(self, job_id: UUID) -> list[PushSubscription]:
        subscriptions = []
        for item in query_partition(self._db, self._table, str(job_id)):
            row = from_item(item)
            subscriptions.append(
                PushSubscription(endpoint=row["endpoint"], p256dh=row["p256dh"], auth=row["auth"])
            )
        return subscriptions

    def remove(self, job_id: UUID, endpoint: str) -> None:
        _check_endpoint(endpoint)
        self._db.delete_item(
            TableName=self._table,
            Key={"job_id": value(str(job_id)), "endpoint": value(endpoint)},
        )

    def delete_job(self, job_id: UUID) -> None:
        keys: list[Item] = [
            {"job_id": item["job_id"], "endpoint": item["endpoint"]}
            for item in query_partition(self._db, self._table, str(job_id))
        ]
        batch_delete(self._db, self._table, keys)


def _check_endpoint(endpoint: str) -> None:
    size = len(endpoint.encode())
    if not 0 < size <= SORT_KEY_MAX_BYTES:
        raise ValueError(
            f"a push endpoint must be 1 to {SORT_KEY_MAX_BYTES} bytes to be stored, not {size}"
        )
