"""SegmentProgressStore on SQLite: one row per (job, segment), the furthest count wins."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from stereospot.adapters.local.sqlite import Database
from stereospot.domain.model import SegmentProgress

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS segment_progress (
        job_id TEXT NOT NULL,
        segment_index INTEGER NOT NULL,
        frames_done INTEGER NOT NULL,
        frames_total INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        frames_per_second REAL NOT NULL DEFAULT 0,
        PRIMARY KEY (job_id, segment_index)
    )""",
)


class SqliteSegmentProgressStore:
    def __init__(self, database: Database) -> None:
        self._db = database
        self._db.ensure_schema(_SCHEMA)

    def put(self, report: SegmentProgress) -> None:
        with self._db.write() as db:
            db.execute(
                "INSERT INTO segment_progress (job_id, segment_index, frames_done,"
                " frames_total, started_at, updated_at, frames_per_second)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (job_id, segment_index) DO UPDATE SET"
                " frames_done = excluded.frames_done, frames_total = excluded.frames_total,"
                " updated_at = excluded.updated_at,"
                " frames_per_second = excluded.frames_per_second"
                " WHERE excluded.frames_done >= segment_progress.frames_done",
                (
                    str(report.job_id),
                    report.segment_index,
                    report.frames_done,
                    report.frames_total,
                    report.started_at.isoformat(),
                    report.updated_at.isoformat(),
                    report.frames_per_second,
                ),
            )

    def list(self, job_id: UUID) -> list[SegmentProgress]:
        rows = (
            self._db.connection()
            .execute(
                "SELECT segment_index, frames_done, frames_total, started_at, updated_at,"
                " frames_per_second"
                " FROM segment_progress WHERE job_id = ? ORDER BY segment_index",
                (str(job_id),),
            )
            .fetchall()
        )
        return [
            SegmentProgress(
                job_id=job_id,
                segment_index=index,
                frames_done=done,
                frames_total=total,
                started_at=datetime.fromisoformat(started),
                updated_at=datetime.fromisoformat(updated),
                frames_per_second=fps,
            )
            for index, done, total, started, updated, fps in rows
        ]

    def delete_job(self, job_id: UUID) -> None:
        with self._db.write() as db:
            db.execute("DELETE FROM segment_progress WHERE job_id = ?", (str(job_id),))
