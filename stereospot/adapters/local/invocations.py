"""InferenceInvocationStore on SQLite: output location -> (job, segment), with a TTL."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from stereospot.adapters.local.sqlite import Database
from stereospot.domain.ports import Invocation

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS inference_invocations (
        output_location TEXT PRIMARY KEY,
        job_id TEXT NOT NULL,
        segment_index INTEGER NOT NULL,
        expires_at REAL NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS inference_slots (
        slot INTEGER PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at REAL NOT NULL
    )""",
)


class SqliteInvocationStore:
    def __init__(self, database: Database) -> None:
        self._db = database
        self._db.ensure_schema(_SCHEMA)

    def put(self, invocation: Invocation, now: datetime, ttl_s: int) -> None:
        with self._db.write() as db:
            db.execute(
                "INSERT OR REPLACE INTO inference_invocations"
                " (output_location, job_id, segment_index, expires_at) VALUES (?, ?, ?, ?)",
                (
                    invocation.output_location,
                    str(invocation.job_id),
                    invocation.segment_index,
                    now.timestamp() + ttl_s,
                ),
            )
            # Expired rows are dead weight; drop them while the write lock is held anyway.
            db.execute(
                "DELETE FROM inference_invocations WHERE expires_at <= ?", (now.timestamp(),)
            )

    def get(self, output_location: str, now: datetime) -> Invocation | None:
        row = (
            self._db.connection()
            .execute(
                "SELECT job_id, segment_index FROM inference_invocations"
                " WHERE output_location = ? AND expires_at > ?",
                (output_location, now.timestamp()),
            )
            .fetchone()
        )
        if row is None:
            return None
        return Invocation(
            output_location=output_location, job_id=UUID(row[0]), segment_index=row[1]
        )

    def delete(self, output_location: str) -> None:
        with self._db.write() as db:
            db.execute(
                "DELETE FROM inference_invocations WHERE output_location = ?", (output_location,)
            )

    def acquire_slot(self, holder: str, now: datetime, ttl_s: int, capacity: int) -> int | None:
        at, until = now.timestamp(), now.timestamp() + ttl_s
        with self._db.write() as db:  # one writer at a time: the check and the claim are one
            row = db.execute(
                "SELECT slot FROM inference_slots WHERE holder = ? AND expires_at > ?",
                (holder, at),
            ).fetchone()
            if row is not None:
                db.execute(
                    "UPDATE inference_slots SET expires_at = ? WHERE slot = ?", (until, row[0])
                )
                return int(row[0])
            live = {
                int(r[0])
                for r in db.execute(
                    "SELECT slot FROM inference_slots WHERE expires_at > ?", (at,)
                ).fetchall()
            }
            free = next((slot for slot in range(capacity) if slot not in live), None)
            if free is None:
                return None
            db.execute(
                "INSERT OR REPLACE INTO inference_slots (slot, holder, expires_at)"
                " VALUES (?, ?, ?)",
                (free, holder, until),
            )
            return free

    def release_slot(self, holder: str) -> None:
        with self._db.write() as db:
            db.execute("DELETE FROM inference_slots WHERE holder = ?", (holder,))

    def live_slots(self, now: datetime, capacity: int) -> int:
        row = (
            self._db.connection()
            .execute(
                "SELECT COUNT(*) FROM inference_slots WHERE slot < ? AND expires_at > ?",
                (capacity, now.timestamp()),
            )
            .fetchone()
        )
        return int(row[0])
