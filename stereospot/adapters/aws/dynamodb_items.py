"""Shared DynamoDB plumbing: attribute values, timestamps, conditional writes, batches.

Timestamps are stored two ways, each for a reason:
- ISO strings of fixed width in UTC (`2026-01-02T03:04:05.000006Z`), so a GSI sort key
  orders them chronologically as plain strings;
- epoch seconds as exact Decimals (microseconds), for expiry conditions, plus the integer
  `ttl` DynamoDB's TTL deletion wants (rounded up, so AWS never deletes early).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from stereospot.adapters.aws.clients import error_code

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, WriteRequestTypeDef

Item = dict[str, "AttributeValueTypeDef"]

BATCH_WRITE_MAX = 25  # BatchWriteItem takes at most 25 requests
ITEM_MAX_BYTES = 400 * 1024  # one item, names and values together
_BATCH_ATTEMPTS = 8

_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ISO_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def to_item(values: Mapping[str, object]) -> Item:
    """Python values -> DynamoDB JSON. None values are left out (absent, not NULL), so
    sparse GSIs only index items that have their key attributes."""
    return {
        name: _SERIALIZER.serialize(value) for name, value in values.items() if value is not None
    }


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB JSON -> Python values (numbers come back as Decimal)."""
    return {name: _DESERIALIZER.deserialize(value) for name, value in item.items()}


def value(python_value: object) -> AttributeValueTypeDef:
    serialized: AttributeValueTypeDef = _SERIALIZER.serialize(python_value)
    return serialized


def _utc(moment: datetime) -> datetime:
    # A naive datetime is taken as UTC (the clocks we use are all aware).
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso(moment: datetime) -> str:
    return _utc(moment).strftime(_ISO_FORMAT)


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, _ISO_FORMAT).replace(tzinfo=UTC)


def epoch(moment: datetime) -> Decimal:
    """Exact epoch seconds with microseconds (no float rounding)."""
    micros = (_utc(moment) - _EPOCH) // timedelta(microseconds=1)
    return Decimal(micros).scaleb(-6)


def ttl_seconds(expires_at: datetime) -> int:
    """The integer epoch seconds for DynamoDB TTL, never before the exact expiry."""
    return math.ceil(epoch(expires_at))


def condition_failed(exc: ClientError) -> bool:
    return error_code(exc) == "ConditionalCheckFailedException"


def query_items(dynamodb: DynamoDBClient, **query: Any) -> Iterator[Item]:
    """Every item a Query returns, following LastEvaluatedKey across 1 MB pages."""
    paginator = dynamodb.get_paginator("query")
    for page in paginator.paginate(**query):
        yield from page.get("Items", [])


def query_partition(
    dynamodb: DynamoDBClient, table: str, job_id: str, projection: str | None = None
) -> list[Item]:
    """Every item of one job_id partition, in sort-key order, strongly consistent."""
    query: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "job_id = :job",
        "ExpressionAttributeValues": {":job": value(job_id)},
        "ConsistentRead": True,
    }
    if projection:
        query["ProjectionExpression"] = projection
    return list(query_items(dynamodb, **query))


def batch_delete(dynamodb: DynamoDBClient, table: str, keys: Sequence[Item]) -> None:
    """Delete items by key, 25 per BatchWriteItem, retrying unprocessed ones with backoff."""
    for start in range(0, len(keys), BATCH_WRITE_MAX):
        requests: list[WriteRequestTypeDef] = [
            {"DeleteRequest": {"Key": key}} for key in keys[start : start + BATCH_WRITE_MAX]
        ]
        _write_all(dynamodb, table, requests)


def _write_all(dynamodb: DynamoDBClient, table: str, requests: list[WriteRequestTypeDef]) -> None:
    pending = {table: requests}
    for attempt in range(_BATCH_ATTEMPTS):
        response = dynamodb.batch_write_item(RequestItems=pending)
        unprocessed = response.get("UnprocessedItems", {})
        if not unprocessed.get(table):
            return
        pending = {table: cast("list[WriteRequestTypeDef]", unprocessed[table])}
        time.sleep(min(2.0, 0.05 * 2**attempt))
    raise RuntimeError(
        f"DynamoDB left {len(pending[table])} deletes in {table} unprocessed after "
        f"{_BATCH_ATTEMPTS} attempts (throttled?)"
    )
