"""JobEvents on SQLite: a change log with an autoincrement cursor, read by the web app's SSE.

Several processes publish (the workers) and read (the web app); the cursor is the log's
sequence number, so a reader resumes exactly after the last event it saw. Only the most
recent `retain` events are kept: readers follow the log closely, old events have no use.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from stereospot.adapters.local.sqlite import Database
from stereospot.domain.ports import JobEvent

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS job_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id TEXT NOT NULL,
        status TEXT NOT NULL,
        segments_done INTEGER,
        at TEXT,
        detail TEXT NOT NULL
    )""",
)
_PRUNE_EVERY = 500


def _parse_cursor(cursor: str) -> int | None:
    return int(cursor) if cursor.isdigit() else None


class SqliteJobEvents:
    def __init__(self, database: Database, retain: int = 10_000) -> None:
        self._db = database
        self._retain = retain
        self._db.ensure_schema(_SCHEMA)

    def open(self) -> None:
        """Nothing to set up: every reader reads the same log."""

    def close(self) -> None:
        """Nothing to tear down."""

    def publish(self, event: JobEvent) -> None:
        with self._db.write() as db:
            seq = db.execute(
                "INSERT INTO job_events (job_id, status, segments_done, at, detail)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    str(event.job_id),
                    event.status,
                    event.segments_done,
                    event.at.isoformat() if event.at else None,
                    json.dumps(event.detail),
                ),
            ).lastrowid
            if seq is not None and seq % _PRUNE_EVERY == 0:
                db.execute("DELETE FROM job_events WHERE seq <= ?", (seq - self._retain,))

    def _last_seq(self) -> int:
        row = (
            self._db.connection()
            .execute("SELECT seq FROM sqlite_sequence WHERE name = 'job_events'")
            .fetchone()
        )
        return int(row[0]) if row else 0

    def read_after(self, cursor: str | None, limit: int = 100) -> tuple[list[JobEvent], str]:
        """Events after `cursor`. None, or a cursor this log never gave out (another data
        directory, a reset database), means "from now on"."""
        last = self._last_seq()
        after = _parse_cursor(cursor) if cursor is not None else None
        if after is None or after > last:
            return [], str(last)
        rows = (
            self._db.connection()
            .execute(
                "SELECT seq, job_id, status, segments_done, at, detail FROM job_events"
                " WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, limit),
            )
            .fetchall()
        )
        events = [self._event(row) for row in rows]
        return events, str(rows[-1][0] if rows else after)

    @staticmethod
    def _event(row: tuple[Any, ...]) -> JobEvent:
        _seq, job_id, status, segments_done, at, detail = row
        return JobEvent(
            job_id=UUID(job_id),
            status=status,
            segments_done=segments_done,
            at=datetime.fromisoformat(at) if at else None,
            detail=json.loads(detail),
        )
