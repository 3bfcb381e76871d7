"""Convert from a link: `stereospot serve` fetches a video from a loopback HTTP server."""

from __future__ import annotations

import functools
import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import av
import pytest

from tests.e2e.serve_process import Server, running_serve
from tests.media_clips import make_clip


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("site")
    make_clip(root / "beach.webm", seconds=2.0, fps=12, width=160, height=96,
              codec="libvpx-vp9", audio_codec="libopus")  # fmt: skip
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # The site is on loopback, which the outbound guard refuses unless told otherwise.
    allow = {"STEREOSPOT_FETCH_ALLOW_PRIVATE": "true"}
    with running_serve(tmp_path_factory.mktemp("serve"), extra_env=allow) as running:
        yield running


def _api(server: Server, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        server.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _finished(server: Server, job_id: str, timeout_s: float = 120) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = _api(server, "GET", f"/api/jobs/{job_id}")
        if job["status"] in ("completed", "failed"):
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def test_a_link_is_fetched_converted_and_downloadable(
    server: Server, site: str, tmp_path: Path
) -> None:
    job = _api(server, "POST", "/api/jobs",
               {"output_format": "anaglyph", "source_url": f"{site}/beach.webm"})  # fmt: skip
    done = _finished(server, job["id"])
    assert done["status"] == "completed", done["failure_reason"]
    assert done["title"] == "beach"
    result = tmp_path / "result.mp4"
    with urllib.request.urlopen(
        urljoin(server.url, done["links"]["download"]), timeout=30
    ) as response:
        result.write_bytes(response.read())
    with av.open(str(result)) as container:
        video = container.streams.video[0]
        assert (video.codec_context.width, video.codec_context.height) == (160, 96)
        assert sum(1 for _ in container.decode(video)) == 24
    with av.open(str(result)) as container:
        assert container.streams.audio[0].codec_context.name == "opus"


def test_a_dead_link_fails_the_job_with_the_reason(server: Server, site: str) -> None:
    job = _api(server, "POST", "/api/jobs",
               {"output_format": "half-sbs", "source_url": f"{site}/nothing-here.mp4"})  # fmt: skip
    done = _finished(server, job["id"])
    assert done["status"] == "failed"
    assert "404" in done["failure_reason"]
