"""JobStore on DynamoDB: table PK job_id, GSIs status-created_at, status-completed_at and
status-failed_at.

The failure time has its own attribute and index instead of sharing completed_at with the
completed jobs: an item's completed_at then always means completion when read back. The
failed index is sparse: it holds only failed jobs that carry a failed_at (every job failed
through the use cases does; one failed by older code has none and is not listed).

Writes are conditional (create if absent; save iff the stored version is the one read), so
of two workers saving from the same version exactly one wins. Lists query the GSIs, never
scan. GSIs are eventually consistent on AWS: a job appears in a list shortly after its save.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from uuid import UUID

from botocore.exceptions import ClientError

from stereospot.adapters.aws.dynamodb_items import Item, condition_failed, value
from stereospot.adapters.aws.dynamodb_job_items import job_from_item, job_to_item
from stereospot.domain.errors import AlreadyExists, ConditionFailed
from stereospot.domain.model import IN_PROGRESS_STATUSES, Job, JobStatus
from stereospot.domain.ports import Page

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CREATED_INDEX = "status-created_at"
COMPLETED_INDEX = "status-completed_at"
FAILED_INDEX = "status-failed_at"
# The sort attribute of each paginated index: a cursor is the LastEvaluatedKey of one.
_SORT_ATTRIBUTES = {COMPLETED_INDEX: "completed_at", FAILED_INDEX: "failed_at"}


class DynamoJobStore:
    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self._db = dynamodb
        self._table = table

    def create(self, job: Job) -> None:
        try:
            self._db.put_item(
                TableName=self._table,
                Item=job_to_item(job),
                ConditionExpression="attribute_not_exists(job_id)",
            )
        except ClientError as exc:
            if condition_failed(exc):
                raise AlreadyExists(f"job {job.id} already exists") from None
            raise

    def save(self, job: Job) -> Job:
        saved = job.model_copy(update={"version": job.version + 1})
        try:
            self._db.put_item(
                TableName=self._table,
                Item=job_to_item(saved),
                ConditionExpression="version = :expected",
                ExpressionAttributeValues={":expected": value(job.version)},
            )
        except ClientError as exc:
            if condition_failed(exc):
                raise ConditionFailed(
                    f"job {job.id} was changed or removed since version {job.version}"
                ) from None
            raise
        return saved

    def get(self, job_id: UUID) -> Job | None:
        response = self._db.get_item(
            TableName=self._table, Key={"job_id": value(str(job_id))}, ConsistentRead=True
        )
        item = response.get("Item")
        return job_from_item(item) if item else None

    def list_in_progress(self, limit: int = 100) -> list[Job]:
        """One GSI query per in-progress status, merged newest created first."""
        _check_limit(limit)
        jobs: list[Job] = []
        for status in IN_PROGRESS_STATUSES:
            items = self._query_newest(CREATED_INDEX, status, limit, None)
            jobs.extend(job_from_item(item) for item in items)
        jobs.sort(key=lambda j: (j.created_at, str(j.id)), reverse=True)
        return jobs[:limit]

    def list_completed(self, limit: int = 20, cursor: str | None = None) -> Page:
        return self._page(COMPLETED_INDEX, JobStatus.COMPLETED, limit, cursor)

    def list_failed(self, limit: int = 20, cursor: str | None = None) -> Page:
        return self._page(FAILED_INDEX, JobStatus.FAILED, limit, cursor)

    def _page(self, index: str, status: JobStatus, limit: int, cursor: str | None) -> Page:
        _check_limit(limit)
        start = _decode_cursor(cursor, index, status) if cursor is not None else None
        # One item more than asked tells whether another page exists, so the last page
        # says next_cursor=None instead of leading to an empty page.
        items = self._query_newest(index, status, limit + 1, start)
        page = items[:limit]
        next_cursor = _encode_cursor(page[-1], index) if len(items) > limit else None
        return Page(jobs=[job_from_item(item) for item in page], next_cursor=next_cursor)

    def delete(self, job_id: UUID) -> None:
        self._db.delete_item(TableName=self._table, Key={"job_id": value(str(job_id))})

    def _query_newest(
        self,
        index: str,
        status: JobStatus,
        wanted: int,
        start: Item | None,
    ) -> list[Item]:
        """Up to `wanted` items of a status, newest first (the index's sort key), across
        1 MB result pages."""
        items: list[Item] = []
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": "#status = :status",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":status": value(status.value)},
            "ScanIndexForward": False,
        }
        last_key = start
        while len(items) < wanted:
            if last_key is not None:
                query["ExclusiveStartKey"] = last_key
            query["Limit"] = wanted - len(items)
            response = self._db.query(**query)
            items.extend(response.get("Items", []))
            last_key = response.get("LastEvaluatedKey")
            if last_key is None:
                break
        return items


def _check_limit(limit: int) -> None:
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")


def _cursor_keys(index: str) -> frozenset[str]:
    return frozenset({"job_id", "status", _SORT_ATTRIBUTES[index]})


def _encode_cursor(item: Mapping[str, Any], index: str) -> str:
    key = {name: item[name] for name in sorted(_cursor_keys(index))}
    raw = json.dumps(key, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, index: str, status: JobStatus) -> Item:
    """The LastEvaluatedKey a cursor of this index carries; anything else is a ValueError."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"{cursor!r} is not a page cursor") from exc
    valid = (
        isinstance(key, dict)
        and set(key) == _cursor_keys(index)
        and all(isinstance(v, dict) and set(v) == {"S"} for v in key.values())
        and key["status"]["S"] == status.value
    )
    if not valid:
        raise ValueError(f"{cursor!r} is not a page cursor")
    cursor_key: Item = key
    return cursor_key
