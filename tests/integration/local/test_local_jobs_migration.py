"""A jobs table made before failed_us existed is migrated in place on first open."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

from stereospot.adapters.local.jobs import SqliteJobStore
from stereospot.adapters.local.sqlite import Database
from stereospot.domain.model import Job, JobStatus

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

# The schema as data directories made before failed jobs were listed hold it.
_OLD_SCHEMA = (
    """CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        version INTEGER NOT NULL,
        created_us INTEGER NOT NULL,
        completed_us INTEGER,
        body TEXT NOT NULL
    )""",
    "CREATE INDEX jobs_by_status_created ON jobs (status, created_us, id)",
    "CREATE INDEX jobs_by_status_completed ON jobs (status, completed_us, id)",
)


def _micros(moment: datetime) -> int:
    return round(moment.timestamp() * 1_000_000)


def _old_database(path: Path, jobs: list[Job]) -> None:
    with sqlite3.connect(path) as db:
        for statement in _OLD_SCHEMA:
            db.execute(statement)
        for job in jobs:
            # The old code stored bodies without failed_at.
            body = job.model_dump_json(exclude={"failed_at"})
            completed = _micros(job.completed_at or job.created_at)
            db.execute(
                "INSERT INTO jobs VALUES (?, ?, ?, ?, ?, ?)",
                (
                    str(job.id),
                    job.status.value,
                    job.version,
                    _micros(job.created_at),
                    completed,
                    body,
                ),
            )
    db.close()


def _columns(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(jobs)")]
    db.close()
    return columns


def test_an_old_table_gets_the_column_and_lists_its_failed_jobs(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    old_failed = [
        Job(id=uuid4(), created_at=T0 + timedelta(minutes=i)).fail(f"bad file {i}")
        for i in range(3)
    ]
    completed = Job(id=uuid4(), created_at=T0).transition(JobStatus.CHUNKING_IN_PROGRESS)
    waiting = Job(id=uuid4(), created_at=T0)
    _old_database(path, [*old_failed, completed, waiting])
    assert "failed_us" not in _columns(path)

    store = SqliteJobStore(Database(path))
    assert "failed_us" in _columns(path)
    # Old failures have no time of their own: they sort at their creation, newest first.
    listed = store.list_failed(limit=2)
    assert [j.failure_reason for j in listed.jobs] == ["bad file 2", "bad file 1"]
    rest = store.list_failed(limit=2, cursor=listed.next_cursor)
    assert [j.failure_reason for j in rest.jobs] == ["bad file 0"] and rest.next_cursor is None

    # A failure recorded now carries its time and comes first.
    current = store.get(waiting.id)
    assert current is not None
    store.save(current.fail("Cancelled before the upload.", at=T0 + timedelta(hours=1)))
    newest_first = [waiting.id, *(j.id for j in reversed(old_failed))]
    assert [j.id for j in store.list_failed().jobs] == newest_first
    assert [j.id for j in store.list_in_progress()] == [completed.id]


def test_opening_again_and_from_other_handles_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    legacy = Job(id=uuid4(), created_at=T0).fail("bad file")
    _old_database(path, [legacy])
    first = SqliteJobStore(Database(path))
    second = SqliteJobStore(Database(path))  # another process opening the same data dir
    assert _columns(path).count("failed_us") == 1
    assert [j.id for j in second.list_failed().jobs] == [legacy.id]
    assert first.get(legacy.id) == legacy


def test_a_fresh_table_has_the_column_and_its_index(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    SqliteJobStore(Database(path))
    assert "failed_us" in _columns(path)
    with sqlite3.connect(path) as db:
        plan = db.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM jobs WHERE status = 'failed'"
            " ORDER BY failed_us DESC, id DESC LIMIT 5"
        ).fetchall()
    db.close()
    assert any("jobs_by_status_failed" in str(row) for row in plan)
