"""Job ids are UUIDs, validated at every boundary so no key can escape its prefix."""

from __future__ import annotations

import uuid
from uuid import UUID

from stereospot.domain.errors import InvalidJobId


def new_job_id() -> UUID:
    return uuid.uuid4()


def parse_job_id(value: object) -> UUID:
    """Accept a UUID or its canonical string form (any case); reject everything else."""
    if isinstance(value, UUID):
        return value
    if not isinstance(value, str) or len(value) != 36:
        raise InvalidJobId(f"{value!r} is not a job id")
    try:
        parsed = UUID(value)
    except ValueError as exc:
        raise InvalidJobId(f"{value!r} is not a job id") from exc
    if str(parsed) != value.lower():
        raise InvalidJobId(f"{value!r} is not a job id")
    return parsed
