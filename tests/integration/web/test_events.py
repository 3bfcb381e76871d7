"""Server-Sent Events: progress on change, heartbeats, the end of a stream, the dashboard."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from stereospot.domain.model import JobStatus
from stereospot.domain.services.jobs import fail_job
from tests.integration.web.conftest import Site

READ_TIMEOUT_S = 5.0


@dataclass
class SseReader:
    """Parses what an event stream sends, chunk by chunk."""

    connection: Any
    buffer: str = ""
    ended: bool = False
    comments: list[str] = field(default_factory=list)
    retry: int | None = None

    async def next_event(self) -> tuple[str, int, dict[str, Any]] | None:
        """The next event (name, id, data); comments and retry lines are recorded."""
        while True:
            while "\n\n" in self.buffer:
                block, self.buffer = self.buffer.split("\n\n", 1)
                parsed = self._parse(block)
                if parsed is not None:
                    return parsed
            if self.ended:
                return None
            chunk = await asyncio.wait_for(self.connection.receive(), READ_TIMEOUT_S)
            if chunk == b"":
                self.ended = True
            self.buffer += chunk.decode()

    def _parse(self, block: str) -> tuple[str, int, dict[str, Any]] | None:
        name, event_id, data = "message", 0, None
        for line in block.splitlines():
            if line.startswith(":"):
                self.comments.append(line)
            elif line.startswith("retry: "):
                self.retry = int(line[7:])
            elif line.startswith("event: "):
                name = line[7:]
            elif line.startswith("id: "):
                event_id = int(line[4:])
            elif line.startswith("data: "):
                data = json.loads(line[6:])
        return None if data is None else (name, event_id, data)

    async def wait_for_end(self) -> None:
        await asyncio.wait_for(self.connection._task, READ_TIMEOUT_S)


async def test_job_stream_sends_progress_as_segments_finish_then_ends(site: Site) -> None:
    job_id = await site.create_job(title="Trip")
    site.start_converting(job_id, total=3)
    async with site.stream(f"/jobs/{job_id}/events") as connection:
        await connection.send_complete()
        reader = SseReader(connection)
        name, first_id, first = await reader.next_event()  # type: ignore[misc]
        assert connection.status_code == 200 and connection.headers is not None
        assert connection.headers["Content-Type"].startswith("text/event-stream")
        assert connection.headers["Cache-Control"] == "no-cache"
        assert reader.retry == 3000
        assert name == "progress"
        assert (first["status"], first["percent"], first["segments_done"]) == (
            "chunking_complete",
            5.0,
            0,
        )
        assert first["segments_total"] == 3 and first["stage"] == "Converting to 3D"
        seen = []
        for index in range(3):
            site.complete_segment(job_id, index)
            _name, event_id, data = await reader.next_event()  # type: ignore[misc]
            seen.append((event_id, data["segments_done"], data["percent"]))
        assert seen == [(first_id + 1, 1, 35.0), (first_id + 2, 2, 65.0), (first_id + 3, 3, 95.0)]
        site.advance(job_id, JobStatus.REASSEMBLING)
        assert (await reader.next_event())[2]["stage"] == "Joining segments"  # type: ignore[index]
        site.advance(job_id, JobStatus.COMPLETED)
        _name, _id, final = await reader.next_event()  # type: ignore[misc]
        assert (final["status"], final["percent"]) == ("completed", 100.0)
        await reader.wait_for_end()  # the stream closes after the final state
        assert await reader.next_event() is None


async def test_nothing_new_means_only_heartbeats(site: Site, tiny_video: bytes) -> None:
    site.app.config["SSE_HEARTBEAT_SECONDS"] = 0.2
    earlier = await site.create_job()
    site.complete(earlier, tiny_video)  # gives an average s/MB, so the ETA is known
    job_id = await site.create_job()
    site.start_converting(job_id, total=2)
    async with site.stream(f"/jobs/{job_id}/events") as connection:
        await connection.send_complete()
        reader = SseReader(connection)
        _name, _id, first = await reader.next_event()  # type: ignore[misc]
        assert first["eta_seconds"] is not None
        events_before = reader.buffer
        deadline = asyncio.get_running_loop().time() + 1.3  # the ETA ticks, nothing else
        while asyncio.get_running_loop().time() < deadline:
            chunk = await asyncio.wait_for(connection.receive(), READ_TIMEOUT_S)
            reader.buffer += chunk.decode()
        assert "event:" not in reader.buffer[len(events_before) :]
        assert reader.buffer.count(": keep-alive") >= 3
        await connection.disconnect()


async def test_a_failure_is_sent_with_its_reason(site: Site) -> None:
    job_id = await site.create_job()
    site.start_converting(job_id)
    async with site.stream(f"/jobs/{job_id}/events") as connection:
        await connection.send_complete()
        reader = SseReader(connection)
        await reader.next_event()
        fail_job(site.deps, job_id, "The file has no video stream.")
        _name, _id, data = await reader.next_event()  # type: ignore[misc]
        assert data["status"] == "failed"
        assert data["failure_reason"] == "The file has no video stream."
        await reader.wait_for_end()


async def test_a_vanished_job_gets_a_gone_event(site: Site) -> None:
    job_id = await site.create_job()
    site.start_converting(job_id)
    async with site.stream(f"/jobs/{job_id}/events") as connection:
        await connection.send_complete()
        reader = SseReader(connection)
        await reader.next_event()
        site.deps.jobs.delete(job_id)
        site.notify(job_id)
        name, _id, _data = await reader.next_event()  # type: ignore[misc]
        assert name == "gone"
        await reader.wait_for_end()


async def test_unknown_job_stream_is_404_before_streaming(site: Site) -> None:
    response = await site.client.get(f"/jobs/{uuid.uuid4()}/events")
    assert response.status_code == 404


async def test_dashboard_stream_follows_running_jobs(site: Site) -> None:
    first_job = await site.create_job(title="one")
    site.store_source(first_job)
    await site.create_job(title="no file yet")  # listed nowhere
    async with site.stream("/events") as connection:
        await connection.send_complete()
        reader = SseReader(connection)
        name, _id, summary = await reader.next_event()  # type: ignore[misc]
        assert name == "jobs"
        assert [job["id"] for job in summary["in_progress"]] == [str(first_job)]
        assert summary["newest_completed"] is None
        second_job = await site.create_job(title="two")
        site.store_source(second_job)
        _name, _id, summary = await reader.next_event()  # type: ignore[misc]
        assert {job["id"] for job in summary["in_progress"]} == {str(first_job), str(second_job)}
        site.start_converting(second_job, total=2)
        site.complete_segment(second_job, 0)
        _name, _id, summary = await reader.next_event()  # type: ignore[misc]
        running = {job["id"]: job for job in summary["in_progress"]}
        assert running[str(second_job)]["segments_done"] == 1
        await connection.disconnect()
