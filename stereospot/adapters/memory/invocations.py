"""Async inference output locations -> (job, segment), with a TTL."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from stereospot.domain.ports import Invocation


class MemoryInvocationStore:
    def __init__(self) -> None:
        self._records: dict[str, tuple[Invocation, datetime]] = {}
        self._slots: dict[int, tuple[str, datetime]] = {}
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

    def acquire_slot(self, holder: str, now: datetime, ttl_s: int, capacity: int) -> int | None:
        expires_at = now + timedelta(seconds=ttl_s)
        with self._lock:
            for slot, (owner, until) in self._slots.items():
                if owner == holder and until > now:
                    self._slots[slot] = (holder, expires_at)
                    return slot
            for slot in range(capacity):
                record = self._slots.get(slot)
                if record is None or record[1] <= now:
                    self._slots[slot] = (holder, expires_at)
                    return slot
            return None

    def release_slot(self, holder: str) -> None:
        with self._lock:
            for slot in [s for s, (owner, _) in self._slots.items() if owner == holder]:
                del self._slots[slot]

    def live_slots(self, now: datetime, capacity: int) -> int:
        with self._lock:
            return sum(
                1 for slot, (_, until) in self._slots.items() if slot < capacity and until > now
            )
