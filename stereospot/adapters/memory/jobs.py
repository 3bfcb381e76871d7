"""Jobs in a dict, written conditionally on their version like DynamoDB's."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from stereospot.domain.errors import AlreadyExists, ConditionFailed
from stereospot.domain.model import IN_PROGRESS_STATUSES, Job, JobStatus
from stereospot.domain.ports import Page

Order = Callable[[Job], tuple[datetime, str]]


def _completed_order(job: Job) -> tuple[datetime, str]:
    assert job.completed_at is not None
    return (job.completed_at, str(job.id))


def _failed_order(job: Job) -> tuple[datetime, str]:
    # Jobs failed before failed_at existed sort at their creation, like SQLite's backfill.
    return (job.failed_at or job.created_at, str(job.id))


def _encode_cursor(job: Job, order: Order) -> str:
    moment, job_id = order(job)
    return f"{moment.isoformat()}|{job_id}"


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        moment, job_id = cursor.split("|", 1)
        return datetime.fromisoformat(moment), str(UUID(job_id))
    except ValueError as exc:
        raise ValueError(f"{cursor!r} is not a page cursor") from exc


def _page(jobs: list[Job], order: Order, limit: int, cursor: str | None) -> Page:
    """Newest first by `order`, the page after `cursor`."""
    jobs = sorted(jobs, key=order, reverse=True)
    if cursor is not None:
        after = _decode_cursor(cursor)
        jobs = [j for j in jobs if order(j) < after]
    page = jobs[:limit]
    more = len(jobs) > limit
    return Page(jobs=page, next_cursor=_encode_cursor(page[-1], order) if more and page else None)


class MemoryJobStore:
    def __init__(self) -> None:
        self._jobs: dict[UUID, Job] = {}
        self._lock = threading.Lock()

    def create(self, job: Job) -> None:
        with self._lock:
            if job.id in self._jobs:
                raise AlreadyExists(f"job {job.id} already exists")
            self._jobs[job.id] = job

    def save(self, job: Job) -> Job:
        with self._lock:
            stored = self._jobs.get(job.id)
            if stored is None:
                raise ConditionFailed(f"job {job.id} does not exist")
            if stored.version != job.version:
                raise ConditionFailed(
                    f"job {job.id} changed (version {stored.version}, expected {job.version})"
                )
            saved = job.model_copy(update={"version": job.version + 1})
            self._jobs[job.id] = saved
            return saved

    def get(self, job_id: UUID) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def list_in_progress(self, limit: int = 100) -> list[Job]:
        with self._lock:
            jobs = [j for j in self._jobs.values() if j.status in IN_PROGRESS_STATUSES]
        jobs.sort(key=lambda j: (j.created_at, str(j.id)), reverse=True)
        return jobs[:limit]

    def list_completed(self, limit: int = 20, cursor: str | None = None) -> Page:
        with self._lock:
            jobs = [
                j
                for j in self._jobs.values()
                if j.status is JobStatus.COMPLETED and j.completed_at is not None
            ]
        return _page(jobs, _completed_order, limit, cursor)

    def list_failed(self, limit: int = 20, cursor: str | None = None) -> Page:
        with self._lock:
            jobs = [j for j in self._jobs.values() if j.status is JobStatus.FAILED]
        return _page(jobs, _failed_order, limit, cursor)

    def delete(self, job_id: UUID) -> None:
        with self._lock:
            self._jobs.pop(job_id, None)
