"""ReassemblyLock on SQLite: created once per job, claimed under a lease, expiring by TTL."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from stereospot.adapters.local.sqlite import Database

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS reassembly_locks (
        job_id TEXT PRIMARY KEY,
        expires_at REAL NOT NULL,
        claimant TEXT,
        lease_until REAL
    )""",
)


class SqliteReassemblyLock:
    def __init__(self, database: Database) -> None:
        self._db = database
        self._db.ensure_schema(_SCHEMA)

    def create(self, job_id: UUID, now: datetime, ttl_s: int) -> bool:
        at = now.timestamp()
        with self._db.write() as db:
            # An expired lock counts as absent (as DynamoDB TTL deletes it, eventually).
            db.execute(
                "DELETE FROM reassembly_locks WHERE job_id = ? AND expires_at <= ?",
                (str(job_id), at),
            )
            created = db.execute(
                "INSERT OR IGNORE INTO reassembly_locks (job_id, expires_at) VALUES (?, ?)",
                (str(job_id), at + ttl_s),
            ).rowcount
        return created == 1

    def claim(self, job_id: UUID, claimant: str, now: datetime, lease_s: int) -> bool:
        at = now.timestamp()
        with self._db.write() as db:
            claimed = db.execute(
                "UPDATE reassembly_locks SET claimant = ?, lease_until = ?"
                " WHERE job_id = ? AND expires_at > ?"
                " AND (claimant IS NULL OR claimant = ? OR lease_until <= ?)",
                (claimant, at + lease_s, str(job_id), at, claimant, at),
            ).rowcount
        return claimed == 1

    def delete(self, job_id: UUID) -> None:
        with self._db.write() as db:
            db.execute("DELETE FROM reassembly_locks WHERE job_id = ?", (str(job_id),))
