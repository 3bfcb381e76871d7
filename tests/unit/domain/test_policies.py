"""Readiness, progress and ETA, and the in-flight limiter."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stereospot.domain import policies
from stereospot.domain.model import Job, JobStatus, SegmentPlanEntry, SegmentProgress

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _job(status: JobStatus, total: int | None = None, **changes: object) -> Job:
    return Job(id=uuid4(), status=status, created_at=T0, total_segments=total, **changes)


@given(st.integers(1, 12), st.lists(st.integers(-3, 15), max_size=40))
def test_ready_iff_chunked_and_indices_exactly_cover(total: int, indices: list[int]) -> None:
    job = _job(JobStatus.CHUNKING_COMPLETE, total)
    expected = set(indices) == set(range(total))
    assert policies.is_ready_for_reassembly(job, indices) == expected


@given(st.integers(1, 8), st.randoms())
def test_duplicates_and_order_do_not_matter(total: int, rnd: object) -> None:
    indices = list(range(total)) * 2
    rnd.shuffle(indices)  # type: ignore[attr-defined]
    assert policies.is_ready_for_reassembly(_job(JobStatus.CHUNKING_COMPLETE, total), indices)


@pytest.mark.parametrize("status", [s for s in JobStatus if s is not JobStatus.CHUNKING_COMPLETE])
def test_not_ready_in_any_other_status(status: JobStatus) -> None:
    assert not policies.is_ready_for_reassembly(_job(status, 2), [0, 1])


def test_not_ready_without_a_total() -> None:
    assert not policies.is_ready_for_reassembly(_job(JobStatus.CHUNKING_COMPLETE), [])


def test_progress_stages_and_percent() -> None:
    assert policies.progress(_job(JobStatus.CREATED), []).stage == "Waiting for upload"
    converting = policies.progress(_job(JobStatus.CHUNKING_COMPLETE, 4), [0, 2, 2, 9])
    assert converting.segments_done == 2 and converting.segments_total == 4
    assert converting.percent == pytest.approx(50.0)
    assert policies.progress(_job(JobStatus.COMPLETED, 4), [0, 1, 2, 3]).percent == 100.0
    assert policies.progress(_job(JobStatus.FAILED, 4), [0, 1]).percent == 0.0
    # Segments finishing while chunking is still in progress: counted once the total is known.
    early = policies.progress(_job(JobStatus.CHUNKING_IN_PROGRESS), [0, 1])
    assert early.segments_done == 0 and early.stage == "Splitting into segments"


@given(st.sampled_from(list(JobStatus)), st.integers(1, 20), st.lists(st.integers(0, 30)))
def test_percent_stays_within_0_and_100(status: JobStatus, total: int, done: list[int]) -> None:
    assert 0.0 <= policies.progress(_job(status, total), done).percent <= 100.0


def test_eta_from_average_seconds_per_mb() -> None:
    finished = [
        _job(
            JobStatus.COMPLETED,
            1,
            uploaded_at=T0,
            completed_at=T0 + timedelta(seconds=s),
            source_size=2_000_000,
        )
        for s in (20, 40)
    ]  # 10 and 20 s/MB
    rate = policies.average_seconds_per_mb(finished)
    assert rate == pytest.approx(15.0)
    running = _job(JobStatus.CHUNKING_COMPLETE, 2, uploaded_at=T0, source_size=4_000_000)
    p = policies.progress(running, [0], seconds_per_mb=rate, now=T0 + timedelta(seconds=10))
    assert p.eta_seconds == pytest.approx(50.0)
    late = policies.progress(running, [0], seconds_per_mb=rate, now=T0 + timedelta(hours=1))
    assert late.eta_seconds == 0.0
    assert policies.average_seconds_per_mb([]) is None
    assert policies.progress(running, [0]).eta_seconds is None
    assert policies.progress(_job(JobStatus.CREATED), [], rate, T0).eta_seconds is None


def test_limiter_bounds() -> None:
    limiter = policies.InFlightLimiter(2)
    assert limiter.try_acquire() and limiter.try_acquire()
    assert not limiter.try_acquire()
    assert limiter.in_flight == 2 and limiter.available == 0
    limiter.release()
    limiter.release_on_failure()
    limiter.release()  # more releases than acquisitions: ignored
    assert limiter.in_flight == 0 and limiter.available == 2
    with pytest.raises(ValueError):
        policies.InFlightLimiter(0)


@given(st.integers(1, 5), st.lists(st.sampled_from(["acquire", "release", "fail"]), max_size=50))
def test_limiter_never_leaves_its_bounds(capacity: int, ops: list[str]) -> None:
    limiter = policies.InFlightLimiter(capacity)
    for op in ops:
        if op == "acquire":
            limiter.try_acquire()
        elif op == "release":
            limiter.release()
        else:
            limiter.release_on_failure()
        assert 0 <= limiter.in_flight <= capacity


# ---------------------------------------------------------------- frames inside segments


def _converting(total: int, frames: int = 100) -> Job:
    plan = tuple(
        SegmentPlanEntry(index=i, start_s=i * 4.0, duration_s=4.0, frame_count=frames)
        for i in range(total)
    )
    return _job(
        JobStatus.CHUNKING_COMPLETE,
        total,
        segment_plan=plan,
        uploaded_at=T0,
        source_size=5_000_000,
    )


def _report(job: Job, index: int, done: int, at_s: float, total: int = 100) -> SegmentProgress:
    return SegmentProgress(
        job_id=job.id,
        segment_index=index,
        frames_done=done,
        frames_total=total,
        started_at=T0,
        updated_at=T0 + timedelta(seconds=at_s),
    )


def test_a_single_segment_moves_with_its_frames() -> None:
    job = _converting(1)
    seen = []
    for done in range(0, 101, 10):
        reports = [_report(job, 0, done, done / 10)]
        seen.append(policies.progress(job, [], reports=reports).percent)
    assert seen == sorted(seen)
    assert seen[0] == 5.0 and seen[-1] == 95.0
    assert len(set(seen)) == 11


def test_completed_segments_count_whole_and_running_ones_by_their_frames() -> None:
    job = _converting(4)
    reports = [_report(job, 0, 10, 2), _report(job, 1, 50, 2)]
    p = policies.progress(job, [0], reports=reports)
    assert p.percent == pytest.approx(5 + 90 * (100 + 50) / 400, abs=0.1)
    assert (p.frames_done, p.frames_total, p.segments_done) == (150, 400, 1)


def test_measured_eta_is_remaining_frames_at_this_jobs_rate() -> None:
    job = _converting(1)
    now = T0 + timedelta(seconds=10)
    reports = [_report(job, 0, 25, 10)]  # 2.5 frames/s; 75 frames left
    eta = policies.progress(job, [], 99.0, now, reports).eta_seconds
    assert eta == pytest.approx(30.0)
    later = policies.progress(  # no new report for 4 s: still counting down
        job, [], 99.0, now + timedelta(seconds=4), reports
    )
    assert later.eta_seconds == pytest.approx(26.0)


def test_no_measured_eta_before_enough_work_then_history_or_nothing() -> None:
    job = _converting(1)
    early = [_report(job, 0, 1, 0.5)]
    now = T0 + timedelta(seconds=1)
    assert policies.progress(job, [], None, now, early).eta_seconds is None
    # With history: 2 s/MB x 5 MB = 10 s expected, 1 s elapsed since upload.
    fallback = policies.progress(job, [], 2.0, now, early).eta_seconds
    assert fallback == pytest.approx(9.0)


def test_measured_eta_decreases_steadily_at_a_constant_rate() -> None:
    job = _converting(2)
    etas = []
    for second in range(3, 60):
        done = second * 3
        reports = [
            _report(job, 0, min(done, 100), second),
            _report(job, 1, max(0, done - 100), second),
        ]
        now = T0 + timedelta(seconds=second)
        eta = policies.progress(job, [], None, now, reports).eta_seconds
        if done < 200:
            assert eta is not None
            etas.append(eta)
    assert all(b < a for a, b in itertools.pairwise(etas))
