"""The web process's one event feed: broadcast to subscribers, and the poller that stands
in where the platform has no event source."""

from __future__ import annotations

import asyncio
from pathlib import Path

from stereospot.domain.formats import ConversionSettings, StereoFormat
from stereospot.domain.model import JobStatus
from stereospot.domain.ports import JobEvent
from stereospot.domain.services import jobs
from stereospot.entrypoints.web.feed import EventFeed, JobPoller
from tests.unit.fakes import make_world


def test_every_subscriber_of_a_job_gets_its_events_and_only_those(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    feed = EventFeed.from_events(world.events, interval_s=0.01)
    job, other = (
        jobs.create_job(
            world.deps, output_format=StereoFormat.HALF_SBS, settings=ConversionSettings()
        )
        for _ in range(2)
    )

    async def scenario() -> tuple[bool, bool, bool, bool]:
        async with (
            feed.subscribe(job.id) as first,
            feed.subscribe(job.id) as second,
            feed.subscribe(None) as everything,
        ):
            world.events.publish(JobEvent(job_id=other.id, status="created"))
            quiet = not await first.next(0.2)
            world.events.publish(JobEvent(job_id=job.id, status="created"))
            return quiet, await first.next(1), await second.next(1), await everything.next(1)

    assert asyncio.run(scenario()) == (True, True, True, True)


def test_the_poller_reports_changed_and_finished_jobs_once(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    job = jobs.create_job(
        world.deps, output_format=StereoFormat.HALF_SBS, settings=ConversionSettings()
    )
    poller = JobPoller(world.deps)
    assert [e.job_id for e in poller.poll()] == [job.id]
    assert poller.poll() == []  # nothing changed
    jobs.fail_job(world.deps, job.id, "gave up")
    [finished] = poller.poll()
    assert (finished.job_id, finished.status) == (job.id, JobStatus.FAILED.value)
    assert poller.poll() == []
