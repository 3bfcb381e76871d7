"""URL ingest: download, then the same flow as an upload; failures are readable."""

from __future__ import annotations

from pathlib import Path

import pytest

from stereospot.domain import keys
from stereospot.domain.formats import ConversionSettings, StereoFormat
from stereospot.domain.model import JobStatus
from stereospot.domain.services import jobs
from tests.unit.fakes import Crash, CrashOnce, World, drain, make_world


def _from_url(world: World, url: str = "https://cdn.example/v/clip.mp4", title: str = "") -> object:
    return jobs.create_job_from_url(
        world.deps,
        url=url,
        output_format=StereoFormat.HALF_SBS,
        settings=ConversionSettings(),
        title=title,
    ).id


def test_ingest_then_convert(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    job_id = _from_url(world)
    assert drain(world).errors == []
    job = world.deps.jobs.get(job_id)  # type: ignore[arg-type]
    assert job is not None and job.status is JobStatus.COMPLETED
    assert job.title == "Fetched clip"  # the page's title replaces the one made from the URL
    assert job.total_segments == 2
    statuses = [e.status for e in world.events.all()]
    assert statuses[:3] == ["created", "ingesting", "created"]


def test_a_given_title_is_kept(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    job_id = _from_url(world, title="Mine")
    drain(world)
    assert world.deps.jobs.get(job_id).title == "Mine"  # type: ignore[arg-type,union-attr]


def test_fetch_error_fails_the_job_readably(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    world.fetcher.error = "The server answered 404 Not Found for that link."
    job_id = _from_url(world)
    report = drain(world)
    job = world.deps.jobs.get(job_id)  # type: ignore[arg-type]
    assert job is not None and job.status is JobStatus.FAILED
    assert job.failure_reason == "The server answered 404 Not Found for that link."
    assert job.status_before_failure is JobStatus.INGESTING
    assert report.errors == []


def test_duplicate_ingest_downloads_once(tmp_path: Path) -> None:
    world = make_world(tmp_path, duplicate_events=True)
    job_id = _from_url(world)
    drain(world)
    assert world.fetcher.calls == 1
    assert world.deps.jobs.get(job_id).status is JobStatus.COMPLETED  # type: ignore[arg-type,union-attr]


@pytest.mark.parametrize(
    ("port", "method", "after"),
    [
        ("fetcher", "fetch", False),  # ingesting saved, download died
        ("jobs", "save", True),  # a status saved, worker died right after
        ("storage", "put_file", False),  # created saved, source not stored
        ("storage", "put_file", True),  # source stored, message not deleted
    ],
)
def test_ingest_crash_then_redelivery_completes(
    tmp_path: Path, port: str, method: str, after: bool
) -> None:
    world = make_world(tmp_path)
    proxy = CrashOnce(getattr(world.deps, port), method, after=after)
    world.replace(**{port: proxy})
    job_id = _from_url(world)
    report = drain(world)
    assert proxy.fired and any(isinstance(e, Crash) for e in report.errors)
    job = world.deps.jobs.get(job_id)  # type: ignore[arg-type]
    assert job is not None and job.status is JobStatus.COMPLETED
    assert world.storage.exists(keys.final_key(job.id))
    assert world.toolkit.concat_calls == 1
