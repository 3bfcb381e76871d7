"""Dispatch: a decoded message reaches its use case; strays are ignored, not retried."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import pytest

from stereospot.domain import keys
from stereospot.domain.formats import StereoFormat
from stereospot.domain.messages import (
    DeletionRequested,
    IngestRequested,
    Message,
    ObjectCreated,
    ReassemblyRequested,
    SegmentReady,
    UrlSource,
    parse_message,
)
from stereospot.domain.model import JobStatus
from stereospot.domain.routing import QueueName
from stereospot.domain.services import dispatch
from tests.unit.fakes import drain, make_world, new_job, upload

JOB = uuid4()


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (ObjectCreated(bucket="input", key=keys.source_key(JOB)), JOB),
        (ObjectCreated(bucket="output", key=keys.final_key(JOB)), JOB),
        (ObjectCreated(bucket="output", key="jobs/not-a-uuid/final.mp4"), None),
        (ObjectCreated(bucket="output", key="sagemaker-async-responses/x.out"), None),
        (SegmentReady(job_id=JOB, segment_index=0, total_segments=1, key="k"), JOB),
        (ReassemblyRequested(job_id=JOB), JOB),
        (DeletionRequested(job_id=JOB), JOB),
        (IngestRequested(job_id=JOB, source=UrlSource(url="https://a.example/v.mp4")), JOB),
    ],
)
def test_job_id_of(message: Message, expected: object) -> None:
    assert dispatch.job_id_of(message) == expected


@pytest.mark.parametrize(
    ("queue", "key"),
    [
        (QueueName.CHUNKING, "input/../etc/source.mp4"),
        (QueueName.CHUNKING, "input/not-a-uuid/source.mp4"),
        (QueueName.VIDEO_WORKER, keys.source_key(JOB)),  # routed elsewhere
        (QueueName.CHUNKING, keys.final_key(JOB)),
        (QueueName.OUTPUT_EVENTS, "jobs/whatever.mp4"),
        (QueueName.DELETION, keys.source_key(JOB)),
    ],
)
def test_stray_object_events_are_ignored(tmp_path: Path, queue: QueueName, key: str) -> None:
    world = make_world(tmp_path)
    message = ObjectCreated(bucket="input", key=key)
    dispatch.handle_message(world.deps, queue, message, "m-1")  # does not raise
    assert world.events.all() == []
    assert all(world.queues[n].approximate_count() == 0 for n in QueueName)


def test_segment_ready_message_converts(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    job_id = new_job(world)
    upload(world, job_id, 2)
    [m] = world.queues[QueueName.CHUNKING].receive()  # chunk only
    dispatch.handle_message(world.deps, QueueName.CHUNKING, parse_message(m.body), m.message_id)
    key = keys.segment_key(job_id, 1, 2, StereoFormat.HALF_SBS)
    message = SegmentReady(job_id=job_id, segment_index=1, total_segments=2, key=key)
    progress: list[tuple[int, int]] = []
    dispatch.handle_message(
        world.deps, QueueName.VIDEO_WORKER, message, "m-2", lambda d, t: progress.append((d, t))
    )
    assert world.storage.exists(keys.output_segment_key(job_id, 1))
    assert progress == [(50, 50)]


def test_dead_letter_fails_the_job_with_a_reason(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    job_id = new_job(world)
    upload(world, job_id, 1)
    message = ObjectCreated(bucket="input", key=keys.source_key(job_id))
    dispatch.handle_dead_letter(world.deps, message, 5)
    job = world.deps.jobs.get(job_id)
    assert job is not None and job.status is JobStatus.FAILED
    assert job.failure_reason == (
        "Processing stopped after repeated errors while splitting the video into segments"
        " (5 attempts)."
    )
    drain(world)  # the chunking event that follows finds the job failed
    assert world.deps.jobs.get(job_id).status is JobStatus.FAILED  # type: ignore[union-attr]


def test_dead_letter_without_a_job_is_only_logged(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    message = ObjectCreated(bucket="output", key="sagemaker-async-responses/x.out")
    dispatch.handle_dead_letter(world.deps, message, 3)
    dispatch.handle_dead_letter(world.deps, ReassemblyRequested(job_id=uuid4()), 1)
    assert world.events.all() == []


def test_segment_message_with_a_key_of_another_segment_is_ignored(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    job_id = new_job(world)
    other_job = keys.segment_key(uuid4(), 0, 2, StereoFormat.HALF_SBS)
    other_index = keys.segment_key(job_id, 1, 2, StereoFormat.HALF_SBS)
    for key in (other_job, "input/../secret.mp4", other_index):
        message = SegmentReady(job_id=job_id, segment_index=0, total_segments=2, key=key)
        dispatch.handle_message(world.deps, QueueName.VIDEO_WORKER, message, "m")
    assert world.inference.requests == []


@pytest.mark.parametrize(
    ("message", "step"),
    [
        (SegmentReady(job_id=JOB, segment_index=1, total_segments=3, key="k"), "segment 2 of 3"),
        (
            ObjectCreated(bucket="input", key=keys.segment_key(JOB, 0, 2, StereoFormat.ANAGLYPH)),
            "converting segment 1 of 2",
        ),
        (
            ObjectCreated(bucket="output", key=keys.output_segment_key(JOB, 4)),
            "recording converted segment 5",
        ),
        (ObjectCreated(bucket="output", key=keys.final_key(JOB)), "finishing the job"),
        (ReassemblyRequested(job_id=JOB), "joining the converted segments"),
        (DeletionRequested(job_id=JOB), "removing the job"),
    ],
)
def test_a_dead_letter_names_the_step_that_kept_failing(message: Message, step: str) -> None:
    assert step in dispatch.step_of(message)
