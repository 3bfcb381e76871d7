"""`stereospot submit` against the real app served over HTTP on loopback (hypercorn).

A helper thread stands in for the workers: once the upload lands it walks the job through
the pipeline's states and stores a real final video (or fails the job), so the client's
upload, progress, failure and download paths all run over real HTTP.
"""

from __future__ import annotations

import asyncio
import io
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import UUID

import pytest
from hypercorn.asyncio import serve
from hypercorn.config import Config

from stereospot.domain import keys
from stereospot.domain.model import JobStatus
from stereospot.domain.services.jobs import fail_job
from stereospot.entrypoints.cli.main import build_parser
from stereospot.entrypoints.cli.submit import ProgressLine, run
from tests.integration.web.conftest import Site, build_site


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Site, str]]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    site = build_site(tmp_path, public_url=url)
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    def run_server() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(serve(site.app, config, shutdown_trigger=stop.wait))

    thread = threading.Thread(target=run_server, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    yield site, url
    loop.call_soon_threadsafe(stop.set)
    thread.join(10)


def _pipeline_stand_in(site: Site, finish: Callable[[UUID], None]) -> threading.Thread:
    """Waits for the uploaded source, then converts 'instantly' with `finish`."""

    def work() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for job in site.deps.jobs.list_in_progress():
                if site.deps.storage.exists(keys.source_key(job.id)):
                    site.start_converting(job.id, total=2)
                    time.sleep(1.2)  # the client sees a converting state
                    finish(job.id)
                    return
            time.sleep(0.05)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def _args(*argv: str) -> object:
    return build_parser().parse_args(["submit", *argv])


def test_submit_uploads_and_prints_the_job_page(live: tuple[Site, str], tmp_path: Path) -> None:
    site, url = live
    clip = tmp_path / "Beach Day.mp4"
    clip.write_bytes(b"not really a video, but the upload does not care" * 1000)
    out, err = io.StringIO(), io.StringIO()
    status = run(_args(str(clip), "--server", url, "--format", "full-sbs"), out, err)  # type: ignore[arg-type]
    assert status == 0, err.getvalue()
    [job] = site.deps.jobs.list_in_progress()
    assert job.title == "Beach Day"
    assert job.output_format.value == "full-sbs"
    assert site.deps.storage.get_bytes(keys.source_key(job.id)) == clip.read_bytes()
    assert f"{url}/jobs/{job.id}" in out.getvalue()
    assert "Uploading" in err.getvalue() and "100.0%" in err.getvalue()


def test_submit_waits_and_downloads_the_result(
    live: tuple[Site, str], tmp_path: Path, tiny_video: bytes
) -> None:
    site, url = live
    clip = tmp_path / "holiday.mp4"
    clip.write_bytes(tiny_video)

    def finish(job_id: UUID) -> None:
        site.complete_segment(job_id, 0)
        site.complete_segment(job_id, 1)
        site.complete(job_id, tiny_video[::-1])  # distinguishable from the source

    worker = _pipeline_stand_in(site, finish)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    out, err = io.StringIO(), io.StringIO()
    args = _args(str(clip), "--server", url, "--format", "full-sbs", "--output", str(downloads))
    status = run(args, out, err)  # type: ignore[arg-type]
    worker.join(5)
    assert status == 0, err.getvalue()
    result = downloads / "holiday_LRF_Full_SBS.mp4"
    assert result.read_bytes() == tiny_video[::-1]
    assert f"Saved {result.resolve()}" in out.getvalue()
    log = err.getvalue()
    assert "Converting to 3D" in log and "Completed" in log and "Downloading" in log
    assert [p.name for p in downloads.iterdir()] == [result.name]  # no partial file left


def test_submit_output_ending_in_a_slash_is_a_new_directory(
    live: tuple[Site, str], tmp_path: Path, tiny_video: bytes
) -> None:
    # A trailing '/' names a directory even before it exists: the result keeps the
    # server's file name instead of becoming a file called like the directory.
    site, url = live
    clip = tmp_path / "holiday.mp4"
    clip.write_bytes(tiny_video)

    def finish(job_id: UUID) -> None:
        site.complete_segment(job_id, 0)
        site.complete_segment(job_id, 1)
        site.complete(job_id, tiny_video[::-1])

    worker = _pipeline_stand_in(site, finish)
    downloads = tmp_path / "not" / "yet"
    args = _args(str(clip), "--server", url, "--output", f"{downloads}/")
    status = run(args, io.StringIO(), io.StringIO())  # type: ignore[arg-type]
    worker.join(5)
    assert status == 0
    assert [p.name for p in downloads.iterdir()] == ["holiday_LR_Half_SBS.mp4"]


def test_submit_reports_a_failed_conversion(live: tuple[Site, str], tmp_path: Path) -> None:
    site, url = live
    clip = tmp_path / "broken.mp4"
    clip.write_bytes(b"garbage" * 100)

    def fail(job_id: UUID) -> None:
        fail_job(site.deps, job_id, "The file is not a video we can read.")

    worker = _pipeline_stand_in(site, fail)
    out, err = io.StringIO(), io.StringIO()
    status = run(_args(str(clip), "--server", url, "--wait"), out, err)  # type: ignore[arg-type]
    worker.join(5)
    assert status == 1
    assert "the conversion failed: The file is not a video we can read." in err.getvalue()
    job = site.deps.jobs.get(UUID(out.getvalue().split()[1].rstrip(":")))
    assert job is not None and job.status is JobStatus.FAILED


def test_submit_explains_bad_input_and_server_trouble(
    live: tuple[Site, str], tmp_path: Path
) -> None:
    _site, url = live
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"x" * 100)
    cases = [
        ((str(tmp_path / "missing.mp4"), "--server", url), 2, "does not exist"),
        ((str(tmp_path), "--server", url), 2, "is not a file"),
        (
            (str(clip), "--server", url, "--output", str(tmp_path / "no" / "x.mp4")),
            2,
            "is not a directory",
        ),
        ((str(clip), "--server", url, "--divergence", "99"), 3, "divergence"),
        ((str(clip), "--server", f"http://127.0.0.1:{_free_port()}"), 3, "cannot reach"),
    ]
    for argv, expected, message in cases:
        err = io.StringIO()
        assert run(_args(*argv), io.StringIO(), err) == expected, argv  # type: ignore[arg-type]
        assert message in err.getvalue(), err.getvalue()


def test_progress_line_on_a_pipe_logs_only_changes() -> None:
    stream = io.StringIO()
    line = ProgressLine(stream)
    for _ in range(3):
        line.show("Converting", 0.5, "1/2 segments", key="a")
    line.show("Converting", 1.0, "2/2 segments", key="b")
    line.done()
    logged = stream.getvalue().splitlines()
    assert len(logged) == 2, logged
    assert logged[0].startswith("Converting ") and logged[0].endswith(" 50.0% 1/2 segments")
    assert logged[1].startswith("Converting ") and logged[1].endswith("100.0% 2/2 segments")
    assert logged[0].count("━") == 12 and logged[1].count("━") == 24  # the bar: half, whole
