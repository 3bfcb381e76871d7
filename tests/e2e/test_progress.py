"""Progress inside a segment, end to end: a one-segment 12 s 720p job converted by real
worker processes moves smoothly through the API and the page's event stream, and its ETA
is close to the real remaining time once a third of the work is done."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from stereospot.config import Settings
from stereospot.container import build_container
from stereospot.entrypoints.web.app import create_app
from tests.e2e.pipeline_harness import Pipeline
from tests.media_clips import make_clip

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CONVERTING = (5.0, 95.0)
ETA_TOLERANCE = 0.30


@pytest.fixture(scope="module")
def clip_720p(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 s of 1280x720 at 30 fps (360 frames), a keyframe every 2 s: one segment."""
    path = tmp_path_factory.mktemp("clips") / "720p.mp4"
    return make_clip(path, seconds=12.0, fps=30, width=1280, height=720, gop=60, audio=False)


@pytest.fixture
def pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    pipeline = Pipeline(tmp_path, monkeypatch)
    monkeypatch.setenv("STEREOSPOT_SEGMENT_SECONDS", "60")  # the whole clip is one segment
    monkeypatch.setenv("STEREOSPOT_QUEUE_TIMEOUTS__VIDEO_WORKER", "60")
    yield pipeline
    pipeline.stop_all()


async def _read_page_stream(app: Any, job_id: str, seen: list[dict[str, Any]]) -> None:
    """What the job page's script receives: every `progress` event of the stream."""
    async with app.test_client().request(f"/jobs/{job_id}/events") as connection:
        await connection.send_complete()
        buffer = ""
        while True:
            chunk = await connection.receive()
            if chunk == b"":
                return
            buffer += chunk.decode()
            while "\n\n" in buffer:
                block, buffer = buffer.split("\n\n", 1)
                lines = block.splitlines()
                if "event: progress" in lines:
                    data = next(line[6:] for line in lines if line.startswith("data: "))
                    seen.append(json.loads(data))
                    if seen[-1]["status"] in ("completed", "failed"):
                        return


async def _follow(app: Any, job_id: str) -> tuple[list[tuple[float, dict[str, Any]]], float]:
    """Poll the API every 0.25 s until the job is done; the samples and the end time."""
    client = app.test_client()
    samples: list[tuple[float, dict[str, Any]]] = []
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        body = await (await client.get(f"/api/jobs/{job_id}")).get_json()
        now = time.monotonic()
        if body["status"] in ("completed", "failed"):
            assert body["status"] == "completed", body
            return samples, now
        samples.append((now, body["progress"]))
        await asyncio.sleep(0.25)
    raise AssertionError("the job did not finish in time")


def test_one_segment_moves_smoothly_with_an_honest_eta(pipeline: Pipeline, clip_720p: Path) -> None:
    pipeline.start_worker("media")
    pipeline.start_worker("video")
    app = create_app(build_container(Settings()))
    job_id = str(pipeline.submit(clip_720p))

    async def watch() -> tuple[list[tuple[float, dict[str, Any]]], float, list[dict[str, Any]]]:
        page: list[dict[str, Any]] = []
        stream = asyncio.create_task(_read_page_stream(app, job_id, page))
        samples, ended = await _follow(app, job_id)
        await asyncio.wait_for(stream, 10)
        return samples, ended, page

    samples, ended, page = asyncio.run(watch())
    assert pipeline.job(UUID(job_id)).total_segments == 1

    def inside(percent: float) -> bool:
        return CONVERTING[0] < percent < CONVERTING[1]

    api_values = {p["percent"] for _t, p in samples if inside(p["percent"])}
    page_values = {p["percent"] for p in page if inside(p["percent"])}
    assert len(api_values) >= 10, sorted(api_values)
    assert len(page_values) >= 10, sorted(page_values)
    percents = [p["percent"] for _t, p in samples]
    assert percents == sorted(percents), "progress never goes back"

    third = CONVERTING[0] + (CONVERTING[1] - CONVERTING[0]) / 3
    at, state = next((t, p) for t, p in samples if p["percent"] >= third)
    remaining = ended - at
    assert state["eta_seconds"] is not None
    error = abs(state["eta_seconds"] - remaining) / remaining
    print(f"ETA {state['eta_seconds']:.1f} s at {state['percent']}%, real {remaining:.1f} s")
    assert error <= ETA_TOLERANCE, (state, remaining, pipeline.logs_text())
    etas = [p["eta_seconds"] for t, p in samples if t >= at and p["eta_seconds"] is not None]
    assert etas[-1] < etas[0]
