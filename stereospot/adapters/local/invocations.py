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
