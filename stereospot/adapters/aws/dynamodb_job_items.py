"""Job <-> DynamoDB item: a flat attribute map that round-trips exactly.

- `job_id` is the partition key; every other field keeps its name.
- Datetimes are fixed-width UTC ISO strings (the GSIs sort on created_at / completed_at /
  failed_at).
- Floats are Decimals from their shortest repr, so they read back as the same float.
- Absent optional fields are left out, so the status-completed_at and status-failed_at
  GSIs are sparse.
- `settings` is a map; `segment_plan` is compact JSON rows [index, start, duration, frames],
  zlib-compressed into a binary attribute when large, because a whole item must stay under
  DynamoDB's 400 KB (a long video cut into short segments has a long plan).
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from stereospot.adapters.aws.dynamodb_items import (
    ITEM_MAX_BYTES,
    Item,
    from_item,
    iso,
    parse_iso,
    to_item,
)
from stereospot.domain.model import Job, SegmentPlanEntry

PLAN_COMPRESS_ABOVE = 32 * 1024  # bytes of JSON; smaller plans stay readable in the console
_TIME_FIELDS = (
    "created_at",
    "uploaded_at",
    "chunked_at",
    "completed_at",
    "failed_at",
    "notified_at",
)
_SPECIAL_FIELDS = {"id", "settings", "segment_plan", *_TIME_FIELDS}


class ItemTooLarge(ValueError):
    """A record would exceed DynamoDB's 400 KB item limit."""


def _decimal(number: float) -> Decimal:
    if not math.isfinite(number):
        raise ValueError(f"{number} cannot be stored in DynamoDB")
    return Decimal(repr(number))


def _numbers_to_decimal(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: _decimal(v) if isinstance(v, float) else v
        for name, v in values.items()
        if v is not None
    }


def encode_plan(plan: tuple[SegmentPlanEntry, ...]) -> str | bytes | None:
    if not plan:
        return None
    rows = [[e.index, e.start_s, e.duration_s, e.frame_count] for e in plan]
    text = json.dumps(rows, separators=(",", ":"))
    if len(text) <= PLAN_COMPRESS_ABOVE:
        return text
    return zlib.compress(text.encode(), 9)


def decode_plan(attribute: Mapping[str, Any] | None) -> tuple[SegmentPlanEntry, ...]:
    """From the stored attribute: {"S": json} or {"B": zlib(json)}; absent is no plan."""
    if attribute is None:
        return ()
    if "B" in attribute:
        stored = zlib.decompress(attribute["B"]).decode()
    elif "S" in attribute:
        stored = attribute["S"]
    else:
        raise ValueError(f"unreadable segment plan attribute {sorted(attribute)}")
    return tuple(
        SegmentPlanEntry(index=index, start_s=start, duration_s=duration, frame_count=frames)
        for index, start, duration, frames in json.loads(stored)
    )


def item_size(item: Mapping[str, Any]) -> int:
    """DynamoDB's item size, close enough to enforce the limit: names plus values."""
    return sum(len(name.encode()) + _value_size(v) for name, v in item.items())


def _value_size(attribute: Mapping[str, Any]) -> int:
    (kind, raw), *_ = attribute.items()
    if kind == "S":
        return len(str(raw).encode())
    if kind == "N":
        return len(str(raw))
    if kind == "B":
        return len(raw)
    if kind == "M":
        return 3 + item_size(raw)
    if kind == "L":
        return 3 + sum(_value_size(v) for v in raw)
    return 1


def job_to_item(job: Job) -> Item:
    scalars = job.model_dump(mode="json", exclude=_SPECIAL_FIELDS)
    values: dict[str, Any] = {
        "job_id": str(job.id),
        **_numbers_to_decimal(scalars),
        "settings": _numbers_to_decimal(job.settings.model_dump(mode="json")),
        "segment_plan": encode_plan(job.segment_plan),
    }
    for name in _TIME_FIELDS:
        moment = getattr(job, name)
        values[name] = iso(moment) if moment is not None else None
    item = to_item(values)
    size = item_size(item)
    if size > ITEM_MAX_BYTES:
        raise ItemTooLarge(
            f"job {job.id} would take {size} bytes in DynamoDB, over its 400 KB item limit "
            f"(the segment plan has {len(job.segment_plan)} segments); use longer segments"
        )
    return item


def job_from_item(item: Mapping[str, Any]) -> Job:
    data = from_item({name: v for name, v in item.items() if name != "segment_plan"})
    fields: dict[str, Any] = {
        name: data[name] for name in Job.model_fields if name in data and name not in _TIME_FIELDS
    }
    fields["id"] = data["job_id"]
    fields["segment_plan"] = decode_plan(item.get("segment_plan"))
    for name in _TIME_FIELDS:
        if name in data:
            fields[name] = parse_iso(data[name])
    return Job.model_validate(fields)
