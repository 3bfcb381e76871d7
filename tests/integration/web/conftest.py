"""The web app on a REAL local platform (SQLite, filesystem, signed URLs) in a tmp data dir,
driven through Quart's test client. Jobs reach later states through the real use cases
and stores; a completed job's final.mp4 is a real (tiny) PyAV-encoded video."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit
from uuid import UUID

import pytest
from quart import Quart
from quart.testing.connections import TestHTTPConnection
from quart.typing import TestClientProtocol

from stereospot.config import Settings
from stereospot.container import Application, build_container
from stereospot.domain import keys
from stereospot.domain.model import Job, JobStatus, SegmentCompletion, SegmentPlanEntry
from stereospot.domain.ports import JobEvent
from stereospot.domain.routing import QueueName
from stereospot.domain.services.deps import Deps
from stereospot.entrypoints.web.app import create_app
from tests.media_clips import make_clip

PUBLIC_URL = "http://localhost"


@pytest.fixture(scope="session")
def tiny_video(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = make_clip(
        tmp_path_factory.mktemp("clips") / "tiny.mp4", seconds=1.0, fps=12, width=64, height=48
    )
    return path.read_bytes()


@dataclass
class Site:
    app: Quart
    client: TestClientProtocol
    container: Application
    deps: Deps
    settings: Settings
    data_dir: Path

    async def csrf(self) -> str:
        html = await (await self.client.get("/")).get_data(as_text=True)
        match = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert match, "the dashboard form carries a CSRF token"
        return match.group(1)

    async def create_job(self, **body: Any) -> UUID:
        response = await self.client.post("/api/jobs", json=body)
        assert response.status_code == 201, await response.get_data(as_text=True)
        return UUID((await response.get_json())["id"])

    async def upload_url(self, job_id: UUID, filename: str = "holiday.mp4") -> str:
        response = await self.client.post(
            f"/api/jobs/{job_id}/upload-url", json={"filename": filename}
        )
        assert response.status_code == 200, await response.get_data(as_text=True)
        return str((await response.get_json())["url"])

    def store_source(self, job_id: UUID, body: bytes = b"not yet read") -> None:
        """The job's file has arrived (as the browser's PUT leaves it); no worker runs."""
        self.deps.storage.put_bytes(keys.source_key(job_id), body)
        self.notify(job_id)

    def stream(self, path: str, method: str = "GET") -> TestHTTPConnection:
        """A connection that sends and receives the body in pieces."""
        return cast(TestHTTPConnection, self.client.request(path, method=method))

    def queue_count(self, name: QueueName) -> int:
        return self.deps.queues[name].approximate_count()

    def advance(self, job_id: UUID, *statuses: JobStatus, **changes: Any) -> Job:
        """Walk the job through `statuses` with real conditional saves."""
        job = self.deps.jobs.get(job_id)
        assert job is not None
        for status in statuses:
            job = self.deps.jobs.save(job.transition(status))
        if changes:
            job = self.deps.jobs.save(job.with_changes(**changes))
        self.notify(job_id)
        return job

    def notify(self, job_id: UUID) -> None:
        """Publish a job event, as every real writer does after its change (the web
        app's live streams wake on events, not by polling)."""
        job = self.deps.jobs.get(job_id)
        status = job.status.value if job is not None else "gone"
        self.deps.events.publish(JobEvent(job_id=job_id, status=status))

    def start_converting(self, job_id: UUID, total: int = 4, size: int = 2_000_000) -> Job:
        now = self.deps.clock.now()
        plan = tuple(
            SegmentPlanEntry(index=i, start_s=i * 2.0, duration_s=2.0, frame_count=48)
            for i in range(total)
        )
        return self.advance(
            job_id,
            JobStatus.CHUNKING_IN_PROGRESS,
            JobStatus.CHUNKING_COMPLETE,
            uploaded_at=now - timedelta(seconds=5),
            source_size=size,
            total_segments=total,
            segment_plan=plan,
            source_duration_s=total * 2.0,
        )

    def complete_segment(self, job_id: UUID, index: int) -> None:
        self.deps.completions.put(
            SegmentCompletion(
                job_id=job_id,
                segment_index=index,
                output_key=keys.output_segment_key(job_id, index),
                completed_at=self.deps.clock.now(),
            )
        )
        self.notify(job_id)

    def complete(self, job_id: UUID, video: bytes, title: str | None = None) -> Job:
        """A finished job with a real final.mp4, as reassembly leaves it."""
        job = self.deps.jobs.get(job_id)
        assert job is not None
        if job.status is JobStatus.CREATED:
            self.start_converting(job_id, total=1, size=len(video) * 10)
        self.deps.storage.put_bytes(keys.final_key(job_id), video)
        now = self.deps.clock.now()
        changes: dict[str, Any] = {"completed_at": now}
        if title is not None:
            changes["title"] = title
        job = self.advance(job_id, JobStatus.REASSEMBLING, JobStatus.COMPLETED)
        job = self.deps.jobs.save(job.with_changes(**changes))
        self.notify(job_id)
        return job

    def signed_path(self, url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.path}?{parts.query}"


def build_site(tmp_path: Path, **settings: Any) -> Site:
    data_dir = tmp_path / "data"
    settings.setdefault("public_url", PUBLIC_URL)
    config = Settings(platform="local", data_dir=data_dir, **settings)
    container = build_container(config)
    app = create_app(container)
    app.config.update(SSE_POLL_SECONDS=0.05, SSE_HEARTBEAT_SECONDS=15.0)
    return Site(
        app=app,
        client=app.test_client(),
        container=container,
        deps=container.deps(),
        settings=config,
        data_dir=data_dir,
    )


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    yield build_site(tmp_path)
