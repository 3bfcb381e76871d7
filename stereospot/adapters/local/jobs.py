"""JobStore on SQLite: the job as JSON, plus the columns its queries sort and filter on.

failed_us came later than the table: data directories made before it get the column on
first open (ALTER TABLE ADD COLUMN), with failed jobs placed at their creation time.
"""

from __future__ import annotations

import base64
import binascii
import sqlite3
from datetime import datetime
from uuid import UUID

from stereospot.adapters.local.sqlite import Database
from stereospot.domain.errors import AlreadyExists, ConditionFailed
from stereospot.domain.model import IN_PROGRESS_STATUSES, Job, JobStatus
from stereospot.domain.ports import Page

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS jobs (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        version INTEGER NOT NULL,
        created_us INTEGER NOT NULL,
        completed_us INTEGER,
        body TEXT NOT NULL,
        failed_us INTEGER
    )""",
    "CREATE INDEX IF NOT EXISTS jobs_by_status_created ON jobs (status, created_us, id)",
    "CREATE INDEX IF NOT EXISTS jobs_by_status_completed ON jobs (status, completed_us, id)",
)
# After the column exists (in a fresh table, or added by _add_failed_column).
_FAILED_INDEX = "CREATE INDEX IF NOT EXISTS jobs_by_status_failed ON jobs (status, failed_us, id)"


def _micros(moment: datetime) -> int:
    """Epoch microseconds: sorts correctly whatever the time zone of the datetime."""
    return round(moment.timestamp() * 1_000_000)


def _encode_cursor(moment_us: int, job_id: str) -> str:
    return base64.urlsafe_b64encode(f"{moment_us}:{job_id}".encode()).decode("ascii")


def _decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        decoded = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
        moment, _, job_id = decoded.partition(":")
        return int(moment), str(UUID(job_id))
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise ValueError(f"{cursor!r} is not a valid page cursor") from exc


class SqliteJobStore:
    def __init__(self, database: Database) -> None:
        self._db = database
        self._db.ensure_schema(_SCHEMA)
        self._add_failed_column()

    def _add_failed_column(self) -> None:
        """Idempotent migration of a table made before failed_us existed."""

        def has_column(db: sqlite3.Connection) -> bool:
            return any(row[1] == "failed_us" for row in db.execute("PRAGMA table_info(jobs)"))

        if not has_column(self._db.connection()):
            with self._db.write() as db:
                if not has_column(db):  # another process may have added it meanwhile
                    db.execute("ALTER TABLE jobs ADD COLUMN failed_us INTEGER")
                    db.execute("UPDATE jobs SET failed_us = created_us")
        self._db.ensure_schema((_FAILED_INDEX,))

    @staticmethod
    def _row(job: Job) -> tuple[str, str, int, int, int, int, str]:
        return (
            str(job.id),
            job.status.value,
            job.version,
            _micros(job.created_at),
            # Completed and failed jobs have their times; the fallbacks keep sorts total.
            _micros(job.completed_at or job.created_at),
            _micros(job.failed_at or job.created_at),
            job.model_dump_json(),
        )

    def create(self, job: Job) -> None:
        try:
            with self._db.write() as db:
                db.execute(
                    "INSERT INTO jobs"
                    " (id, status, version, created_us, completed_us, failed_us, body)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    self._row(job),
                )
        except sqlite3.IntegrityError:
            raise AlreadyExists(f"job {job.id} already exists") from None

    def save(self, job: Job) -> Job:
        saved = job.model_copy(update={"version": job.version + 1})
        job_id, status, version, created_us, completed_us, failed_us, body = self._row(saved)
        with self._db.write() as db:
            updated = db.execute(
                "UPDATE jobs SET status = ?, version = ?, created_us = ?, completed_us = ?,"
                " failed_us = ?, body = ? WHERE id = ? AND version = ?",
                (status, version, created_us, completed_us, failed_us, body, job_id, job.version),
            ).rowcount
        if updated != 1:
            raise ConditionFailed(f"job {job.id} changed since version {job.version} was read")
        return saved

    def get(self, job_id: UUID) -> Job | None:
        row = (
            self._db.connection()
            .execute("SELECT body FROM jobs WHERE id = ?", (str(job_id),))
            .fetchone()
        )
        return Job.model_validate_json(row[0]) if row else None

    def list_in_progress(self, limit: int = 100) -> list[Job]:
        statuses = sorted(status.value for status in IN_PROGRESS_STATUSES)
        marks = ", ".join("?" for _ in statuses)
        rows = (
            self._db.connection()
            .execute(
                f"SELECT body FROM jobs WHERE status IN ({marks})"  # noqa: S608 - only marks
                " ORDER BY created_us DESC, id DESC LIMIT ?",
                (*statuses, limit),
            )
            .fetchall()
        )
        return [Job.model_validate_json(body) for (body,) in rows]

    def list_completed(self, limit: int = 20, cursor: str | None = None) -> Page:
        return self._page(JobStatus.COMPLETED, "completed_us", limit, cursor)

    def list_failed(self, limit: int = 20, cursor: str | None = None) -> Page:
        return self._page(JobStatus.FAILED, "failed_us", limit, cursor)

    def _page(self, status: JobStatus, column: str, limit: int, cursor: str | None) -> Page:
        """Jobs of `status`, newest `column` first, after `cursor` (column: ours, not input)."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        query = f"SELECT {column}, id, body FROM jobs WHERE status = ?"  # noqa: S608
        params: list[object] = [status.value]
        if cursor is not None:
            after_us, after_id = _decode_cursor(cursor)
            query += f" AND ({column} < ? OR ({column} = ? AND id < ?))"
            params += [after_us, after_us, after_id]
        query += f" ORDER BY {column} DESC, id DESC LIMIT ?"
        params.append(limit + 1)  # one more tells whether another page exists
        rows = self._db.connection().execute(query, params).fetchall()
        page, more = rows[:limit], len(rows) > limit
        next_cursor = _encode_cursor(page[-1][0], page[-1][1]) if more else None
        return Page(jobs=[Job.model_validate_json(r[2]) for r in page], next_cursor=next_cursor)

    def delete(self, job_id: UUID) -> None:
        with self._db.write() as db:
            db.execute("DELETE FROM jobs WHERE id = ?", (str(job_id),))
