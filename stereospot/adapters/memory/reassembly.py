"""The per-job reassembly lock: created once, claimed once (with a lease), expiring."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID


@dataclass
class _LockRecord:
    expires_at: datetime
    claimant: str | None = None
    lease_until: datetime | None = None


class MemoryReassemblyLock:
    def __init__(self) -> None:
        self._records: dict[UUID, _LockRecord] = {}
        self._lock = threading.Lock()

    def _live(self, job_id: UUID, now: datetime) -> _LockRecord | None:
        record = self._records.get(job_id)
        if record is not None and record.expires_at <= now:
            del self._records[job_id]  # TTL: an expired record counts as absent
            return None
        return record

    def create(self, job_id: UUID, now: datetime, ttl_s: int) -> bool:
        with self._lock:
            if self._live(job_id, now) is not None:
                return False
            self._records[job_id] = _LockRecord(expires_at=now + timedelta(seconds=ttl_s))
            return True

    def claim(self, job_id: UUID, claimant: str, now: datetime, lease_s: int) -> bool:
        with self._lock:
            record = self._live(job_id, now)
            if record is None:
                return False
            free = (
                record.claimant is None
                or record.claimant == claimant
                or (record.lease_until is not None and record.lease_until <= now)
            )
            if not free:
                return False
            record.claimant = claimant
            record.lease_until = now + timedelta(seconds=lease_s)
            return True

    def delete(self, job_id: UUID) -> None:
        with self._lock:
            self._records.pop(job_id, None)

    def claimant(self, job_id: UUID) -> str | None:
        """Who holds the lock (tests)."""
        with self._lock:
            record = self._records.get(job_id)
            return record.claimant if record else None
