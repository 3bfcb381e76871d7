"""kill -9 with the real default timeouts (no test hook, no short visibility): a video
worker killed in the middle of a segment under `stereospot serve` is replaced, the message
it held comes back at once (released by the supervisor), its scratch folder is swept, and
the job completes well within 5 minutes, once."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from stereospot.config import QueueTimeouts
from tests.e2e.pipeline_harness import video_facts
from tests.e2e.serve_process import Server, running_serve
from tests.media_clips import decoded_frame_count, make_clip

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

STARTED = re.compile(r"started video-worker-1 \(pid (\d+)\)")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("recovery")


@pytest.fixture(scope="module")
def server(root: Path) -> Iterator[Server]:
    env = {"STEREOSPOT_SEGMENT_SECONDS": "2"}  # nothing about queues: the defaults
    with running_serve(root, extra_env=env) as running:
        yield running


def _video_pids(server: Server) -> list[int]:
    return [int(pid) for pid in STARTED.findall(server.log_path.read_text())]


def _converting(tmp: Path, pid: int) -> bool:
    """The worker holds a video-worker message and has a scratch folder: mid-segment."""
    try:
        claim = json.loads((tmp / "claims" / f"{pid}.json").read_text())
    except (FileNotFoundError, ValueError):
        return False
    return claim["queue"] == "video-worker" and any(tmp.glob(f"stereospot-{pid}-*"))


def test_a_video_worker_killed_mid_segment_costs_seconds_not_the_timeout(
    server: Server, root: Path
) -> None:
    assert QueueTimeouts().video_worker <= 180  # the short default this relies on elsewhere
    clip = make_clip(root / "walk.mp4", seconds=6.0, fps=24, width=320, height=192, gop=24)
    tmp = root / "data" / "tmp"
    with httpx.Client(base_url=server.url, timeout=30) as http:
        job_id = http.post("/api/jobs", json={"output_format": "half-sbs"}).json()["id"]
        grant = http.post(f"/api/jobs/{job_id}/upload-url", json={"filename": "walk.mp4"})
        assert http.put(grant.json()["url"], content=clip.read_bytes()).status_code == 200
        (doomed,) = _video_pids(server)
        deadline = time.monotonic() + 120
        while not _converting(tmp, doomed):
            assert time.monotonic() < deadline, server.log_path.read_text()[-3000:]
            time.sleep(0.005)
        os.kill(doomed, signal.SIGKILL)
        killed_at = time.monotonic()
        while True:
            job = http.get(f"/api/jobs/{job_id}").json()
            if job["status"] in ("completed", "failed"):
                break
            assert time.monotonic() - killed_at < 300, job
            time.sleep(0.3)
        took = time.monotonic() - killed_at
        assert job["status"] == "completed", job
        assert took < 60, f"{took:.0f} s after the kill"  # the released message, not 150 s
        log = server.log_path.read_text()
        assert f"released the message process {doomed} held" in log
        assert not list(tmp.glob(f"stereospot-{doomed}-*"))  # its scratch folder is gone
        assert len(_video_pids(server)) == 2
        result = root / "result.mp4"
        result.write_bytes(http.get(job["links"]["download"]).content)
    assert video_facts(result).frames == decoded_frame_count(clip)
    assert log.count(f"job={job_id}") > 0 and log.count("reassembled") == 1  # once
