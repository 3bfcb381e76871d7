"""Pure policies: reassembly readiness, progress and ETA, in-flight backpressure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from stereospot.domain.model import Job, JobStatus, SegmentProgress
from stereospot.domain.wording import STATUS_WORDING


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
_STAGE_SPAN: dict[JobStatus, tuple[float, float]] = {
    JobStatus.CREATED: (0.0, 0.0),
    JobStatus.INGESTING: (0.0, 2.0),
    JobStatus.CHUNKING_IN_PROGRESS: (2.0, 5.0),
    JobStatus.CHUNKING_COMPLETE: (5.0, 95.0),
    JobStatus.REASSEMBLING: (95.0, 99.0),
    JobStatus.COMPLETED: (100.0, 100.0),
    JobStatus.FAILED: (0.0, 0.0),
    JobStatus.DELETED: (0.0, 0.0),
}


@dataclass(frozen=True)
class Progress:
    percent: float
    stage: str
    segments_done: int
    segments_total: int | None
    eta_seconds: float | None
    frames_done: int = 0
    frames_total: int = 0


# Before this share of the frames, or this many seconds of measured work, a job's own
# rate says too little: the ETA falls back to the platform's history (or stays unknown).
MIN_MEASURED_FRACTION = 0.03
MIN_MEASURED_SECONDS = 2.0


@dataclass(frozen=True)
class FrameCount:
    """The conversion stage of one job in frames: how many, how many done, and the span
    of time the done ones took (first start to last report, over every segment)."""

    done: float
    total: float
    measured_s: float
    last_report: datetime | None
    recent_rate: float = 0.0  # frames/s the running segments' workers report together

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total > 0 else 0.0


def frame_count(
    job: Job, completed: frozenset[int], reports: Sequence[SegmentProgress]
) -> FrameCount:
    """Frames of every segment: the plan's count (else the worker's), a completed segment
    counts whole, a running one as far as its worker reported. Without any frame count a
    segment weighs 1 (then progress moves by segments)."""
    total_segments = job.total_segments or 0
    planned = {entry.index: entry.frame_count for entry in job.segment_plan}
    by_index = {r.segment_index: r for r in reports if 0 <= r.segment_index < total_segments}
    done = total = 0.0
    for index in range(total_segments):
        report = by_index.get(index)
        weight = float(planned.get(index) or (report.frames_total if report else 0))
        if weight <= 0:
            weight = 1.0
        total += weight
        if index in completed:
            done += weight
        elif report is not None and report.frames_total > 0:
            done += weight * min(1.0, report.frames_done / report.frames_total)
    measured_s = 0.0
    last: datetime | None = None
    recent = sum(r.frames_per_second for i, r in by_index.items() if i not in completed)
    if by_index:
        first = min(r.started_at for r in by_index.values())
        last = max(r.updated_at for r in by_index.values())
        measured_s = max(0.0, (last - first).total_seconds())
    return FrameCount(
        done=done, total=total, measured_s=measured_s, last_report=last, recent_rate=recent
    )


def progress(
    job: Job,
    completed: Iterable[int],
    seconds_per_mb: float | None = None,
    now: datetime | None = None,
    reports: Sequence[SegmentProgress] = (),
) -> Progress:
    """Percent (0..100), stage label and ETA.

    Converting moves with the frames of all segments (`reports`, the workers' progress),
    so a one-segment job moves smoothly too. Segments may finish while chunking is still
    in progress; they count as soon as the total is known.
    """
    total = job.total_segments
    if job.status is JobStatus.COMPLETED and total:
        completed = range(total)  # joined, so every segment was done
    finished = completed_indices(completed, total) if total else frozenset()
    done = len(finished)
    start, end = _STAGE_SPAN[job.status]
    frames = frame_count(job, finished, reports)
    if job.status is JobStatus.CHUNKING_COMPLETE and total:
        percent = start + (end - start) * frames.fraction
    else:
        percent = start
    if job.status is JobStatus.FAILED:
        percent = 0.0
    return Progress(
        percent=round(percent, 1),
        stage=STATUS_WORDING[job.status].stage,
        segments_done=done,
        segments_total=total,
        eta_seconds=eta_seconds(job, seconds_per_mb, now, frames),
        frames_done=round(frames.done) if reports else 0,
        frames_total=round(frames.total) if reports else 0,
    )


def measured_eta(frames: FrameCount, now: datetime) -> float | None:
    """Remaining frames at this job's own rate (the workers' recent rates, else the
    average since the first segment started), less the time since the last report (so
    the figure keeps falling between reports); None until enough work was measured."""
    if (
        frames.last_report is None
        or frames.total <= 0
        or frames.measured_s < MIN_MEASURED_SECONDS
        or frames.fraction < MIN_MEASURED_FRACTION
    ):
        return None
    # The workers' recent rate (over several seconds, warm-up excluded) is the rate the
    # remaining frames will go at; the average since the start includes the warm-up, so
    # it only stands in until a worker has measured a rate.
    average = frames.done / frames.measured_s
    rate = frames.recent_rate if frames.recent_rate > 0 else average
    remaining = (frames.total - frames.done) / rate
    since = max(0.0, (now - frames.last_report).total_seconds())
    return max(0.0, remaining - since)


def eta_seconds(
    job: Job,
    seconds_per_mb: float | None,
    now: datetime | None,
    frames: FrameCount | None = None,
) -> float | None:
    """Remaining seconds: from this job's measured frame rate while it converts, else the
    expected total (size x the platform's recent s/MB) minus the time since upload."""
    if now is None or not job.status.in_progress:
        return None
    if job.status in (JobStatus.CREATED, JobStatus.INGESTING):
        return None
    if job.status is JobStatus.CHUNKING_COMPLETE and frames is not None:
        measured = measured_eta(frames, now)
        if measured is not None:
            return measured
    if seconds_per_mb is None or job.source_size is None or job.uploaded_at is None:
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
