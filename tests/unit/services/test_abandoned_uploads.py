"""Jobs that never get their file: listed nowhere, removed after policy.abandoned_upload_s."""

from __future__ import annotations

from pathlib import Path

import pytest

from stereospot.domain.model import JobStatus
from stereospot.domain.routing import QueueName
from stereospot.domain.services import jobs
from stereospot.entrypoints.workers import housekeeping
from tests.unit.fakes import World, drain, make_world, new_job, upload

DAY_S = 24 * 3600


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


def test_a_job_waiting_for_its_file_is_not_listed(world: World) -> None:
    waiting = new_job(world)
    uploaded = new_job(world)
    upload(world, uploaded)
    listed = [job.id for job in jobs.list_in_progress(world.deps)]
    assert waiting not in listed and uploaded in listed
    assert jobs.get_visible_job(world.deps, waiting).status is JobStatus.CREATED  # still there


def test_abandoned_uploads_are_removed_after_the_allowance(world: World) -> None:
    assert world.deps.policy.abandoned_upload_s == DAY_S
    old = new_job(world)
    world.clock.advance(DAY_S - 60)
    recent = new_job(world)
    uploaded = new_job(world)
    upload(world, uploaded)
    world.clock.advance(120)

    assert jobs.remove_abandoned_uploads(world.deps) == 1
    assert world.deps.jobs.get(old).status is JobStatus.DELETED  # type: ignore[union-attr]
    assert world.queues[QueueName.DELETION].approximate_count() == 1
    assert world.deps.jobs.get(recent).status is JobStatus.CREATED  # type: ignore[union-attr]
    assert jobs.remove_abandoned_uploads(world.deps) == 0  # idempotent
    drain(world)
    assert world.deps.jobs.get(old) is None  # the cleanup removed every record
    assert world.deps.jobs.get(uploaded).status is JobStatus.COMPLETED  # type: ignore[union-attr]


def test_link_jobs_are_not_abandoned_uploads(world: World) -> None:
    from stereospot.domain.formats import ConversionSettings, StereoFormat

    job = jobs.create_job_from_url(
        world.deps,
        url="https://cdn.example/v/clip.mp4",
        output_format=StereoFormat.HALF_SBS,
        settings=ConversionSettings(),
    )
    world.clock.advance(2 * DAY_S)
    assert jobs.remove_abandoned_uploads(world.deps) == 0
    assert job.id in [j.id for j in jobs.list_in_progress(world.deps)]


def test_the_media_worker_sweeps_a_quarter_of_the_allowance_at_most_every_10_min(
    world: World,
) -> None:
    assert housekeeping.interval_s(world.deps) == 600
    new_job(world)
    world.clock.advance(DAY_S + 1)
    assert housekeeping.run_once(world.deps) == 1
