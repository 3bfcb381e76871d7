"""The whole local pipeline in real worker processes: jobs, crashes, poison, shutdown.

Each test starts `stereospot worker media|video` processes on one data directory, submits
jobs by writing their sources to storage (which queues the chunking, as an upload does),
and checks the outcome in the stores and in the final video.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from stereospot.config import QueueTimeouts
from stereospot.domain import keys
from stereospot.domain.formats import ConversionSettings, StereoFormat
from stereospot.domain.messages import SegmentReady, parse_message
from stereospot.domain.model import JobStatus
from stereospot.domain.routing import QueueName
from stereospot.domain.services import jobs
from tests.e2e.pipeline_harness import MAX_RECEIVES, Pipeline, video_facts
from tests.media_clips import decoded_frame_count, make_clip

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DONE = {JobStatus.COMPLETED, JobStatus.FAILED}


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """160x96, 3 s at 12 fps with audio, a keyframe a second: three 1-second segments."""
    path = tmp_path_factory.mktemp("clips") / "source.mp4"
    return make_clip(path, seconds=3.0, fps=12, width=160, height=96, gop=12)


@pytest.fixture(scope="module")
def short_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clips") / "short.mp4"
    return make_clip(path, seconds=2.0, fps=12, width=96, height=64, gop=12)


@pytest.fixture
def pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    pipeline = Pipeline(tmp_path, monkeypatch)
    yield pipeline
    pipeline.stop_all()


def assert_completed_once(pipeline: Pipeline, job_id: UUID, source: Path) -> None:
    job = pipeline.wait_for_status(job_id, DONE)
    assert job.status is JobStatus.COMPLETED, (job.failure_reason, pipeline.logs_text())
    assert job.total_segments is not None and job.total_segments >= 2
    completions = pipeline.deps.completions.list(job_id)
    assert [c.segment_index for c in completions] == list(range(job.total_segments))
    assert pipeline.deps.storage.list_keys(f"jobs/{job_id}/") == sorted(
        [keys.final_key(job_id), keys.poster_key(job_id), keys.reassembly_done_key(job_id)]
        + [keys.output_segment_key(job_id, i) for i in range(job.total_segments)]
    )
    facts, expected = video_facts(pipeline.final_video(job_id)), video_facts(source)
    assert facts.frames == decoded_frame_count(source)
    assert abs(facts.duration_s - expected.duration_s) < 0.15
    assert (facts.width, facts.height) == (expected.width, expected.height)  # half-sbs
    assert facts.audio_codec == "aac"


def test_a_job_goes_from_upload_to_final_video(pipeline: Pipeline, clip: Path) -> None:
    pipeline.start_worker("media")
    pipeline.start_worker("video")
    job_id = pipeline.submit(clip)

    assert_completed_once(pipeline, job_id, clip)
    job = pipeline.job(job_id)
    assert job.total_segments == 3
    assert job.completed_at is not None and job.chunked_at is not None
    # every worker log line about this job carries its id, segment lines their index
    lines = [ln for w in pipeline.workers for ln in w.log().splitlines() if "handled" in ln]
    assert any(f"[job={job_id} seg=2]" in ln for ln in lines), pipeline.logs_text()
    assert any(f"[job={job_id} seg=-]" in ln and "reassembly" in ln for ln in lines)


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 s at 24 fps, 320x192: six 1-second segments, long enough to be caught mid-way."""
    path = tmp_path_factory.mktemp("clips") / "long.mp4"
    return make_clip(path, seconds=6.0, fps=24, width=320, height=192, gop=24)


@pytest.fixture
def default_pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    """Workers with the product's own visibility timeouts (150 s), no short ones."""
    pipeline = Pipeline(tmp_path, monkeypatch, short_visibility=False)
    assert pipeline.settings.queue_timeouts == QueueTimeouts()  # the defaults, nothing set
    yield pipeline
    pipeline.stop_all()


def test_a_video_worker_killed_mid_segment_is_replaced_and_the_job_completes(
    default_pipeline: Pipeline, long_clip: Path
) -> None:
    """kill -9 with the default 150 s visibility and no stall hook: the next video worker
    to start releases the dead process's claim, so the job completes in seconds, once."""
    pipeline = default_pipeline
    pipeline.start_worker("media")
    doomed = pipeline.start_worker("video")
    job_id = pipeline.submit(long_clip)

    pipeline.wait_until_handling(doomed, "video-worker")
    pipeline.kill(doomed)
    killed_at = time.monotonic()
    replacement = pipeline.start_worker("video")

    assert_completed_once(pipeline, job_id, long_clip)
    took = time.monotonic() - killed_at
    assert took < 60, f"{took:.0f} s after the kill"  # not the 150 s visibility
    assert f"released the message process {doomed.pid} held" in replacement.log()


def test_a_media_worker_killed_mid_reassembly_is_replaced_and_the_job_completes(
    default_pipeline: Pipeline, long_clip: Path
) -> None:
    pipeline = default_pipeline
    doomed = pipeline.start_worker("media")
    pipeline.start_worker("video")
    job_id = pipeline.submit(long_clip)

    pipeline.wait_until_handling(doomed, "reassembly", timeout_s=120)
    pipeline.kill(doomed)
    killed_at = time.monotonic()
    assert not pipeline.deps.storage.exists(keys.final_key(job_id))
    replacement = pipeline.start_worker("media")

    assert_completed_once(pipeline, job_id, long_clip)
    took = time.monotonic() - killed_at
    assert took < 60, f"{took:.0f} s after the kill"
    assert f"released the message process {doomed.pid} held" in replacement.log()


def test_a_poison_message_ends_in_the_dead_letter_queue_and_fails_its_job(
    pipeline: Pipeline,
) -> None:
    # A segment whose source object does not exist: every attempt raises (not a user
    # error, so it is retried), until the queue gives up on it.
    job = jobs.create_job(
        pipeline.deps, output_format=StereoFormat.HALF_SBS, settings=ConversionSettings()
    )
    missing = keys.segment_key(job.id, 0, 1, StereoFormat.HALF_SBS)
    poison = SegmentReady(job_id=job.id, segment_index=0, total_segments=1, key=missing)
    queue = pipeline.deps.queues[QueueName.VIDEO_WORKER]
    queue.send(poison.to_body())
    worker = pipeline.start_worker("video")

    failed = pipeline.wait_for_status(job.id, {JobStatus.FAILED}, timeout_s=60)
    assert failed.failure_reason is not None
    assert "repeated errors" in failed.failure_reason
    assert f"{MAX_RECEIVES} attempts" in failed.failure_reason
    dead = pipeline.wait(lambda: queue.dead_letters().receive(1, 0.5) or None, 30, "the DLQ")
    assert [parse_message(d.body) for d in dead] == [poison]
    assert queue.approximate_count() == 0
    assert worker.process.poll() is None  # the worker lives on
    assert worker.log().count("failed (attempt") == MAX_RECEIVES - 1


def test_ten_jobs_submitted_at_once_all_complete(pipeline: Pipeline, short_clip: Path) -> None:
    pipeline.start_worker("media")
    pipeline.start_worker("video")
    pipeline.start_worker("video")
    job_ids = [pipeline.submit(short_clip) for _ in range(10)]

    for job_id in job_ids:
        pipeline.wait_for_status(job_id, DONE, timeout_s=180)
    for job_id in job_ids:
        assert_completed_once(pipeline, job_id, short_clip)


def test_sigterm_lets_a_worker_finish_its_message_and_exit_cleanly(
    pipeline: Pipeline, clip: Path
) -> None:
    pipeline.start_worker("media")
    worker = pipeline.start_worker("video", stall="convert:3", grace_s=30)
    job_id = pipeline.submit(clip)
    pipeline.wait_for_marker("convert")

    worker.process.send_signal(signal.SIGTERM)

    assert worker.process.wait(30) == 0
    log = worker.log()
    assert "received SIGTERM" in log
    assert "worker stopped" in log
    # It finished the segment it had (output written, message deleted) and took no other.
    assert len(pipeline.deps.storage.list_keys(f"jobs/{job_id}/segments/")) == 1
    assert pipeline.deps.queues[QueueName.VIDEO_WORKER].approximate_count() == 2


def test_sigterm_releases_a_message_that_cannot_finish_in_the_grace_period(
    pipeline: Pipeline, clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A long visibility timeout: only an explicit release makes the segment come back soon.
    monkeypatch.setenv("STEREOSPOT_QUEUE_TIMEOUTS__VIDEO_WORKER", "600")
    pipeline.start_worker("media")
    worker = pipeline.start_worker("video", stall="convert:600", grace_s=1)
    job_id = pipeline.submit(clip)
    pipeline.wait_for_marker("convert")

    stopped_at = time.monotonic()
    worker.process.send_signal(signal.SIGTERM)
    assert worker.process.wait(15) == 0
    assert time.monotonic() - stopped_at < 10
    assert "released it for another worker" in worker.log()
    pipeline.start_worker("video")

    job = pipeline.wait_for_status(job_id, DONE, timeout_s=90)  # well before 600 s
    assert job.status is JobStatus.COMPLETED
