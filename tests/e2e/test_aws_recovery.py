"""Recovery on the aws platform (moto's server over HTTP): a video worker kill -9'd in the
middle of a segment. AWS has no claims to release (nothing outlives the task), so the
message it held comes back when its visibility timeout runs out: the product's short
visibility, kept up by the heartbeat only while the worker lives. The visibility here is
set through Settings (STEREOSPOT_QUEUE_TIMEOUTS__*), as a deployment sets it, shorter than
the 150 s default to keep the test short; nothing else is changed."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from stereospot.domain import keys
from tests.aws_server import MOTO_AVAILABLE
from tests.e2e.aws_stack import AwsStack
from tests.e2e.pipeline_harness import video_facts
from tests.media_clips import decoded_frame_count, make_clip

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.aws,
    pytest.mark.slow,
    pytest.mark.skipif(not MOTO_AVAILABLE, reason="moto[server] is not installed"),
]

VISIBILITY_S = 12
VIDEO_TYPE = {"Content-Type": "video/mp4"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsStack]:
    stack = AwsStack(
        tmp_path_factory.mktemp("aws-recovery"), visibility_s=VISIBILITY_S, segment_seconds=2.0
    )
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


def _converting(stack: AwsStack, pid: int) -> bool:
    """The video worker has a segment in hand: its scratch folder exists (named by pid)."""
    return any(stack.scratch_dir.glob(f"stereospot-{pid}-*"))


def test_a_killed_video_workers_message_comes_back_within_the_visibility_and_completes_once(
    stack: AwsStack, tmp_path: Path
) -> None:
    clip = make_clip(tmp_path / "walk.mp4", seconds=6.0, fps=24, width=320, height=192, gop=24)
    doomed = next(p for p in stack.processes if p.name == "video-worker")
    with httpx.Client(base_url=stack.url, timeout=30) as api:
        job = api.post("/api/jobs", json={"output_format": "half-sbs"}).json()
        job_id = UUID(job["id"])
        grant = api.post(f"/api/jobs/{job_id}/upload-url", json={"filename": "walk.mp4"})
        put = httpx.put(grant.json()["url"], content=clip.read_bytes(), headers=VIDEO_TYPE)
        assert put.status_code == 200, put.text

        stack.wait(lambda: _converting(stack, doomed.process.pid) or None, 120, "a segment in hand")
        os.kill(doomed.process.pid, signal.SIGKILL)
        doomed.process.wait(10)
        killed_at = time.monotonic()
        replacement = stack.start_video_worker("video-worker-2")

        def finished() -> dict[str, object] | None:
            current: dict[str, object] = api.get(f"/api/jobs/{job_id}").json()
            return current if current["status"] in ("completed", "failed") else None

        done = stack.wait(finished, 300, f"job {job_id} to finish")
        took = time.monotonic() - killed_at
        assert done["status"] == "completed", (done, stack.logs_text())
        # Back through the visibility timeout (nothing released it early), well within
        # minutes: the dead worker's heartbeat stopped extending it.
        assert VISIBILITY_S / 3 < took < VISIBILITY_S + 90, f"{took:.0f} s after the kill"
        result = tmp_path / "result.mp4"
        links = done["links"]
        assert isinstance(links, dict)
        result.write_bytes(httpx.get(links["download"], timeout=30).content)

    # Once: one completion per segment, one reassembly, every frame, no dead letter.
    total = done["progress"]["segments_total"]  # type: ignore[index]
    assert [c.segment_index for c in stack.deps.completions.list(job_id)] == list(range(total))
    assert stack.deps.storage.exists(keys.reassembly_done_key(job_id))
    assert video_facts(result).frames == decoded_frame_count(clip)
    assert set(stack.dead_letter_counts().values()) == {0}
    assert "handled" in replacement.log()  # the replacement converted the returned segment
