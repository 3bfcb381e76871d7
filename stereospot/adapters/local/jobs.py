"""JobStore on SQLite: the job as JSON, plus the columns its queries sort and filter on."""

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
        body TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS jobs_by_status_created ON jobs (status, created_us, id)",
    "CREATE INDEX IF NOT EXISTS jobs_by_status_completed ON jobs (status, completed_us, id)",
)


def _micros(moment: datetime) -> int:
    """Epoch microseconds: sorts correctly whatever the time zone of the datetime."""
    return round(moment.timestamp() * 1_000_000)


def _encode_cursor(completed_us: int, job_id: str) -> str:
    return base64.urlsafe_b64encode(f"{completed_us}:{job_id}".encode()).decode("ascii")


def _decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        decoded = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
        completed, _, job_id = decoded.partition(":")
        return int(completed), str(UUID(job_id))
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise ValueError(f"{cursor!r} is not a valid page cursor") from exc


class SqliteJobStore:
    def __init__(self, database: Database) -> None:
        self._db = database
        self._db.ensure_schema(_SCHEMA)

    @staticmethod
    def _row(job: Job) -> tuple[str, str, int, int, int, str]:
        return (
            str(job.id),
            job.status.value,
            job.version,
            _micros(job.created_at),
            # A completed job always has completed_at; the fallback keeps the sort total.
            _micros(job.completed_at or job.created_at),
            job.model_dump_json(),
        )

    def create(self, job: Job) -> None:
        try:
            with self._db.write() as db:
                db.execute(
                    "INSERT INTO jobs (id, status, version, created_us, completed_us, body)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    self._row(job),
                )
        except sqlite3.IntegrityError:
            raise AlreadyExists(f"job {job.id} already exists") from None

    def save(self, job: Job) -> Job:
        saved = job.model_copy(update={"version": job.version + 1})
        job_id, status, version, created_us, completed_us, body = self._row(saved)
        with self._db.write() as db:
            updated = db.execute(
                "UPDATE jobs SET status = ?, version = ?, created_us = ?, completed_us = ?,"
                " body = ? WHERE id = ? AND version = ?",
                (status, version, created_us, completed_us, body, job_id, job.version),
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
        if limit < 1:
            raise ValueError("limit must be at least 1")
        query = "SELECT completed_us, id, body FROM jobs WHERE status = ?"
        params: list[object] = [JobStatus.COMPLETED.value]
        if cursor is not None:
            after_us, after_id = _decode_cursor(cursor)
            query += " AND (completed_us < ? OR (completed_us = ? AND id < ?))"
            params += [after_us, after_us, after_id]
        query += " ORDER BY completed_us DESC, id DESC LIMIT ?"
        params.append(limit + 1)  # one more tells whether another page exists
        rows = self._db.connection().execute(query, params).fetchall()
        page, more = rows[:limit], len(rows) > limit
        next_cursor = _encode_cursor(page[-1][0], page[-1][1]) if more else None
        return Page(jobs=[Job.model_validate_json(r[2]) for r in page], next_cursor=next_cursor)

    def delete(self, job_id: UUID) -> None:
        with self._db.write() as db:
            db.execute("DELETE FROM jobs WHERE id = ?", (str(job_id),))
