"""Async inference output locations -> (job, segment), with a TTL."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from stereospot.domain.ports import Invocation


class MemoryInvocationStore:
    def __init__(self) -> None:
        self._records: dict[str, tuple[Invocation, datetime]] = {}
        self._lock = threading.Lock()

    def put(self, invocation: Invocation, now: datetime, ttl_s: int) -> None:
        with self._lock:
            expires_at = now + timedelta(seconds=ttl_s)
            self._records[invocation.output_location] = (invocation, expires_at)

    def get(self, output_location: str, now: datetime) -> Invocation | None:
        with self._lock:
            record = self._records.get(output_location)
            if record is None or record[1] <= now:
                return None
            return record[0]

    def delete(self, output_location: str) -> None:
        with self._lock:
            self._records.pop(output_location, None)
