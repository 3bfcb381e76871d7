"""SegmentCompletionStore on SQLite: one row per (job, segment), the first write wins."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from stereospot.adapters.local.sqlite import Database
from stereospot.domain.model import SegmentCompletion

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS segment_completions (
        job_id TEXT NOT NULL,
        segment_index INTEGER NOT NULL,
        output_key TEXT NOT NULL,
        completed_at TEXT NOT NULL,
        PRIMARY KEY (job_id, segment_index)
    )""",
)


class SqliteSegmentCompletionStore:
    def __init__(self, database: Database) -> None:
        self._db = database
        self._db.ensure_schema(_SCHEMA)

    def put(self, completion: SegmentCompletion) -> bool:
        with self._db.write() as db:
            inserted = db.execute(
                "INSERT OR IGNORE INTO segment_completions"
                " (job_id, segment_index, output_key, completed_at) VALUES (?, ?, ?, ?)",
                (
                    str(completion.job_id),
                    completion.segment_index,
                    completion.output_key,
                    completion.completed_at.isoformat(),
                ),
            ).rowcount
        return inserted == 1

    def list(self, job_id: UUID) -> list[SegmentCompletion]:
        rows = (
            self._db.connection()
            .execute(
                "SELECT segment_index, output_key, completed_at FROM segment_completions"
                " WHERE job_id = ? ORDER BY segment_index",
                (str(job_id),),
            )
            .fetchall()
        )
        return [
            SegmentCompletion(
                job_id=job_id,
                segment_index=index,
                output_key=output_key,
                completed_at=datetime.fromisoformat(completed_at),
            )
            for index, output_key, completed_at in rows
        ]

    def delete_job(self, job_id: UUID) -> None:
        with self._db.write() as db:
            db.execute("DELETE FROM segment_completions WHERE job_id = ?", (str(job_id),))
