"""Pure policies: reassembly readiness, progress and ETA, in-flight backpressure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from stereospot.domain.model import Job, JobStatus


def completed_indices(indices: Iterable[int], total: int) -> frozenset[int]:
    """Distinct indices within [0, total) — duplicates and strays count once or not at all."""
    return frozenset(i for i in indices if 0 <= i < total)


def is_ready_for_reassembly(job: Job, indices: Iterable[int]) -> bool:
    """Ready iff chunking is complete and the completed indices are exactly {0..n-1}."""
    if job.status is not JobStatus.CHUNKING_COMPLETE or job.total_segments is None:
        return False
    distinct = frozenset(indices)
    return distinct == frozenset(range(job.total_segments))


# Share of the progress bar each stage owns; conversion dominates the work.
_STAGE_SPAN: dict[JobStatus, tuple[float, float, str]] = {
    JobStatus.CREATED: (0.0, 0.0, "Waiting for upload"),
    JobStatus.INGESTING: (0.0, 2.0, "Downloading source"),
    JobStatus.CHUNKING_IN_PROGRESS: (2.0, 5.0, "Splitting into segments"),
    JobStatus.CHUNKING_COMPLETE: (5.0, 95.0, "Converting to 3D"),
    JobStatus.REASSEMBLING: (95.0, 99.0, "Joining segments"),
    JobStatus.COMPLETED: (100.0, 100.0, "Completed"),
    JobStatus.FAILED: (0.0, 0.0, "Failed"),
    JobStatus.DELETED: (0.0, 0.0, "Removed"),
}


@dataclass(frozen=True)
class Progress:
    percent: float
    stage: str
    segments_done: int
    segments_total: int | None
    eta_seconds: float | None


def progress(
    job: Job,
    completed: Iterable[int],
    seconds_per_mb: float | None = None,
    now: datetime | None = None,
) -> Progress:
    """Percent (0..100) and stage label; ETA from the average seconds per MB, if known.

    Segments may finish while chunking is still in progress; they count as soon as the
    total is known.
    """
    total = job.total_segments
    done = len(completed_indices(completed, total)) if total else 0
    start, end, label = _STAGE_SPAN[job.status]
    if job.status is JobStatus.CHUNKING_COMPLETE and total:
        percent = start + (end - start) * done / total
    else:
        percent = start
    if job.status is JobStatus.FAILED:
        percent = 0.0
    return Progress(
        percent=round(percent, 1),
        stage=label,
        segments_done=done,
        segments_total=total,
        eta_seconds=eta_seconds(job, seconds_per_mb, now),
    )


def eta_seconds(job: Job, seconds_per_mb: float | None, now: datetime | None) -> float | None:
    """Remaining seconds: expected total (size x s/MB) minus time since upload."""
    if (
        seconds_per_mb is None
        or now is None
        or job.source_size is None
        or job.uploaded_at is None
        or not job.status.in_progress
        or job.status in (JobStatus.CREATED, JobStatus.INGESTING)
    ):
        return None
    expected = seconds_per_mb * job.source_size / 1_000_000
    elapsed = (now - job.uploaded_at).total_seconds()
    return max(0.0, expected - elapsed)


def conversion_seconds(job: Job) -> float | None:
    if job.completed_at is None or job.uploaded_at is None:
        return None
    return max(0.0, (job.completed_at - job.uploaded_at).total_seconds())


def seconds_per_mb(job: Job) -> float | None:
    """How long this completed job took per MB of source."""
    seconds = conversion_seconds(job)
    if seconds is None or not job.source_size:
        return None
    return seconds / (job.source_size / 1_000_000)


def average_seconds_per_mb(recent_completed: Iterable[Job]) -> float | None:
    """Mean s/MB over recent completed jobs (the caller picks and caches them)."""
    rates = [r for job in recent_completed if (r := seconds_per_mb(job)) is not None]
    return sum(rates) / len(rates) if rates else None


class InFlightLimiter:
    """Caps in-flight work (e.g. async inference invocations). Never below 0 nor above capacity."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._in_flight = 0

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def available(self) -> int:
        return self._capacity - self._in_flight

    def try_acquire(self) -> bool:
        if self._in_flight >= self._capacity:
            return False
        self._in_flight += 1
        return True

    def release(self) -> None:
        """Release one slot; releasing more than was acquired is ignored (at-least-once events)."""
        if self._in_flight > 0:
            self._in_flight -= 1

    def release_on_failure(self) -> None:
        """A failed acquisition's work is given back the same way as a completed one."""
        self.release()
