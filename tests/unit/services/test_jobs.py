"""Job use cases the web app calls."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from stereospot.domain import keys
from stereospot.domain.errors import (
    FetchError,
    IllegalTransition,
    JobNotFound,
    SignatureExpired,
)
from stereospot.domain.formats import ConversionSettings, StereoFormat
from stereospot.domain.messages import IngestRequested, PlatformSource, UrlSource, parse_message
from stereospot.domain.model import JobStatus
from stereospot.domain.ports import PushSubscription
from stereospot.domain.routing import QueueName
from stereospot.domain.services import jobs
from tests.unit.fakes import (
    DrainReport,
    World,
    drain,
    fake_video,
    make_world,
    new_job,
    process_one,
    upload,
)

SUB = PushSubscription(endpoint="https://push.example/a", p256dh="k", auth="s")


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


def _completed_job(world: World, segments: int = 2) -> object:
    job_id = new_job(world)
    upload(world, job_id, segments)
    drain(world)
    return job_id


def test_create_job_stores_it_and_publishes(world: World) -> None:
    job = jobs.create_job(
        world.deps,
        output_format=StereoFormat.ANAGLYPH,
        settings=ConversionSettings(divergence=3.0),
        title="  My   holiday ",
    )
    stored = world.deps.jobs.get(job.id)
    assert stored == job
    assert job.status is JobStatus.CREATED and job.title == "My holiday"
    assert job.created_at == world.clock.now()
    assert [e.status for e in world.events.all()] == ["created"]


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://cdn.example/videos/Clip%201.MP4", UrlSource),
        ("http://cdn.example/a.webm", UrlSource),
        ("https://www.youtube.com/watch?v=abc", PlatformSource),
    ],
)
def test_create_job_from_url_sends_ingest(world: World, url: str, kind: type) -> None:
    job = jobs.create_job_from_url(
        world.deps, url=url, output_format=StereoFormat.HALF_SBS, settings=ConversionSettings()
    )
    assert job.source_url == url and job.title
    [body] = world.queues[QueueName.INGEST].bodies()
    message = parse_message(body)
    assert isinstance(message, IngestRequested) and message.job_id == job.id
    assert isinstance(message.source, kind) and message.source.url == url


def test_title_from_url() -> None:
    assert jobs.title_from_url("https://cdn.example/v/My%20Clip.mp4") == "My Clip"
    assert jobs.title_from_url("https://cdn.example/") == "cdn.example"


@pytest.mark.parametrize("url", ["ftp://x.example/a.mp4", "not a url", "file:///etc/passwd", ""])
def test_create_job_from_bad_url_is_refused_readably(world: World, url: str) -> None:
    with pytest.raises(FetchError, match="http"):
        jobs.create_job_from_url(
            world.deps, url=url, output_format=StereoFormat.HALF_SBS, settings=ConversionSettings()
        )
    assert world.deps.jobs.list_in_progress() == []


def test_get_visible_job_hides_missing_and_deleted(world: World) -> None:
    with pytest.raises(JobNotFound):
        jobs.get_visible_job(world.deps, uuid4())
    job_id = new_job(world)
    jobs.fail_job(world.deps, job_id, "boom")
    jobs.request_deletion(world.deps, job_id)
    with pytest.raises(JobNotFound):
        jobs.get_visible_job(world.deps, job_id)


def test_upload_url_names_the_job_and_is_signed(world: World) -> None:
    job = jobs.create_job(
        world.deps, output_format=StereoFormat.FULL_TB, settings=ConversionSettings()
    )
    url = jobs.request_upload_url(world.deps, job.id, "C:\\videos\\Summer Trip.MOV")
    assert jobs.get_visible_job(world.deps, job.id).title == "Summer Trip"
    signed = world.storage.check_url(url, "PUT")
    assert signed.key == keys.source_key(job.id)
    assert signed.max_bytes == world.deps.policy.max_upload_bytes
    world.clock.advance(world.deps.policy.upload_url_expiry_s + 1)
    with pytest.raises(SignatureExpired, match="expired"):
        world.storage.put_via_url(url, fake_video(1))


def test_upload_url_keeps_a_given_title(world: World) -> None:
    job_id = new_job(world)  # titled "Clip"
    jobs.request_upload_url(world.deps, job_id, "other.mp4")
    assert jobs.get_visible_job(world.deps, job_id).title == "Clip"


def test_upload_url_only_before_the_upload(world: World) -> None:
    job_id = new_job(world)
    upload(world, job_id, 1)
    drain(world)
    with pytest.raises(IllegalTransition, match="already has its video"):
        jobs.request_upload_url(world.deps, job_id, "again.mp4")


def test_progress_and_eta_from_recent_jobs(world: World) -> None:
    done_id = _completed_job(world)  # completes at the same instant: 0 s/MB
    job_id = new_job(world)
    assert jobs.job_progress(world.deps, jobs.get_visible_job(world.deps, job_id)).percent == 0
    # Make the finished job look like it took 100 s for its source size.
    done = world.deps.jobs.get(done_id)  # type: ignore[arg-type]
    assert done is not None and done.completed_at is not None and done.source_size
    world.deps.jobs.save(done.with_changes(completed_at=done.completed_at + timedelta(seconds=100)))
    upload(world, job_id, 3)
    assert process_one(world, QueueName.CHUNKING, DrainReport())
    world.clock.advance(10)
    job = jobs.get_visible_job(world.deps, job_id)
    progress = jobs.job_progress(world.deps, job)
    assert job.status is JobStatus.CHUNKING_COMPLETE
    assert progress.segments_done == 0 and progress.segments_total == 3
    assert progress.stage == "Converting to 3D"
    # Same source size as the finished job, 10 s elapsed of an expected 100 s.
    assert progress.eta_seconds == pytest.approx(90.0)


def test_lists(world: World) -> None:
    finished = [_completed_job(world) for _ in range(3)]
    waiting = new_job(world)
    assert jobs.list_in_progress(world.deps) == []  # no file yet: listed nowhere
    upload(world, waiting)
    assert [j.id for j in jobs.list_in_progress(world.deps)] == [waiting]
    first = jobs.list_completed(world.deps, limit=2)
    assert len(first.jobs) == 2 and first.next_cursor is not None
    rest = jobs.list_completed(world.deps, limit=2, cursor=first.next_cursor)
    assert rest.next_cursor is None
    assert {j.id for j in first.jobs + rest.jobs} == set(finished)


def test_download_url_only_for_completed_jobs(world: World) -> None:
    job_id = new_job(world)
    with pytest.raises(JobNotFound, match="no result"):
        jobs.download_url(world.deps, job_id, attachment=True)
    upload(world, job_id, 2)
    drain(world)
    attachment = jobs.download_url(world.deps, job_id, attachment=True)
    signed = world.storage.check_url(attachment, "GET")
    assert signed.key == keys.final_key(job_id)
    assert signed.filename == "Clip_LR_Half_SBS.mp4"
    inline = jobs.download_url(world.deps, job_id, attachment=False, expires_s=5)
    assert world.storage.check_url(inline, "GET").filename is None
    assert world.storage.get_via_url(inline).endswith(b"+audio")
    world.clock.advance(6)
    with pytest.raises(SignatureExpired):
        world.storage.get_via_url(inline)


def test_fail_job_is_a_no_op_when_missing_or_finished(world: World) -> None:
    assert jobs.fail_job(world.deps, uuid4(), "x") is None
    job_id = new_job(world)
    jobs.subscribe_push(world.deps, job_id, SUB)
    failed = jobs.fail_job(world.deps, job_id, "  The   file is broken. ")
    assert failed is not None and failed.failure_reason == "The file is broken."
    assert failed.status_before_failure is JobStatus.CREATED
    assert jobs.fail_job(world.deps, job_id, "again") is None
    assert world.deps.jobs.get(job_id).failure_reason == "The file is broken."  # type: ignore[union-attr]
    [push] = world.push.sent
    assert push.payload["type"] == "job_failed" and push.payload["job_id"] == str(job_id)


def test_push_failures_never_fail_completion(world: World) -> None:
    job_id = new_job(world)
    gone = PushSubscription(endpoint="https://push.example/gone", p256dh="k", auth="s")
    jobs.subscribe_push(world.deps, job_id, gone)
    jobs.subscribe_push(world.deps, job_id, SUB)
    world.push.gone.add(gone.endpoint)
    upload(world, job_id, 1)
    drain(world)
    assert world.deps.jobs.get(job_id).status is JobStatus.COMPLETED  # type: ignore[union-attr]
    assert [p.subscription for p in world.push.sent] == [SUB]
    assert world.deps.push_subscriptions.list(job_id) == [SUB]  # the gone one is removed

    other = new_job(world)
    jobs.subscribe_push(world.deps, other, SUB)
    world.push.failure = OSError("push service down")
    upload(world, other, 1)
    report = drain(world)
    assert report.errors == []
    assert world.deps.jobs.get(other).status is JobStatus.COMPLETED  # type: ignore[union-attr]


def test_publish_failures_never_fail_a_use_case(world: World) -> None:
    class Broken:
        def publish(self, event: object) -> None:
            raise OSError("event log unavailable")

    world.replace(events=Broken())
    job_id = new_job(world)
    upload(world, job_id, 2)
    assert drain(world).errors == []
    assert world.deps.jobs.get(job_id).status is JobStatus.COMPLETED  # type: ignore[union-attr]


def test_subscribe_push_needs_a_visible_job(world: World) -> None:
    with pytest.raises(JobNotFound):
        jobs.subscribe_push(world.deps, uuid4(), SUB)


def test_the_video_worker_records_frames_about_once_a_second(tmp_path: Path) -> None:
    from stereospot.domain.model import SegmentPlanEntry
    from stereospot.domain.services.conversion import ProgressReporter

    world = make_world(tmp_path)
    job = jobs.create_job(
        world.deps, output_format=StereoFormat.HALF_SBS, settings=ConversionSettings()
    )
    plan = (SegmentPlanEntry(index=0, start_s=0, duration_s=12, frame_count=360),)
    job = world.deps.jobs.save(
        job.transition(JobStatus.CHUNKING_IN_PROGRESS).with_changes(
            total_segments=1, segment_plan=plan
        )
    )
    logged: list[tuple[int, int]] = []
    reporter = ProgressReporter(world.deps, job, 0, lambda d, t: logged.append((d, t)))
    reporter.start()
    for frame in range(1, 361):
        world.clock.advance(0.1)  # 10 frames/s
        reporter(frame, 360)
    assert len(logged) == 360  # the worker's own callback sees every frame
    [stored] = world.deps.progress.list(job.id)
    assert (stored.frames_done, stored.frames_total) == (360, 360)
    assert stored.updated_at - stored.started_at == timedelta(seconds=36)
    writes = [e for e in world.events.all() if "frames_done" in e.detail]
    assert 34 <= len(writes) <= 40  # about one a second over 36 s, plus the start and the end
    assert writes[-1].detail["frames_done"] == 360


def test_the_workers_rate_leaves_out_the_warm_up_before_the_first_frames(
    tmp_path: Path,
) -> None:
    from stereospot.domain.model import SegmentPlanEntry
    from stereospot.domain.services.conversion import ProgressReporter

    world = make_world(tmp_path)
    job = jobs.create_job(
        world.deps, output_format=StereoFormat.HALF_SBS, settings=ConversionSettings()
    )
    plan = (SegmentPlanEntry(index=0, start_s=0, duration_s=12, frame_count=360),)
    job = world.deps.jobs.save(
        job.transition(JobStatus.CHUNKING_IN_PROGRESS).with_changes(
            total_segments=1, segment_plan=plan
        )
    )
    reporter = ProgressReporter(world.deps, job, 0, None)
    reporter.start()
    world.clock.advance(6.0)  # loading the model and the first batch: no frames yet
    for frame in range(8, 121, 8):  # then batches of 8 frames at 20 frames/s
        reporter(frame, 360)
        world.clock.advance(0.4)
    [stored] = world.deps.progress.list(job.id)
    # The rate the remaining frames will go at, not diluted by the six idle seconds.
    assert 19.0 <= stored.frames_per_second <= 21.0, stored.frames_per_second
