"""`stereospot serve | config | demo` as a user runs them: real processes, real HTTP."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.pipeline_harness import pipeline_env, video_facts
from tests.media_clips import decoded_frame_count, make_clip

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CLI = [sys.executable, "-m", "stereospot.entrypoints.cli.main"]
STARTED = re.compile(r"started (?P<name>\S+) \(pid (?P<pid>\d+)\)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@dataclass
class Served:
    process: subprocess.Popen[str]
    url: str
    stdout: list[str]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def worker_pids(self, name: str) -> list[int]:
        return [int(m["pid"]) for m in STARTED.finditer(self.log()) if m["name"] == name]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    env = {**os.environ, **pipeline_env(tmp_path / "data")}
    env.pop("STEREOSPOT_PUBLIC_URL", None)
    log_path = tmp_path / "serve.log"
    port = free_port()
    command = [
        *CLI, "serve", "--data-dir", str(tmp_path / "data"), "--host", "127.0.0.1",
        "--port", str(port), "--media-workers", "1", "--video-workers", "1",
    ]  # fmt: skip
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=log, text=True, bufsize=1
        )
    lines: list[str] = []
    ready = threading.Event()

    def read_stdout() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if "running at" in line:
                ready.set()

    threading.Thread(target=read_stdout, daemon=True).start()
    try:
        assert ready.wait(60), f"serve did not start: {lines}\n{log_path.read_text()}"
        url = lines[0].split("running at ", 1)[1].strip().rstrip("/")
        yield Served(process, url, lines, log_path)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(40)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def convert_over_http(base: str, clip: Path, timeout_s: float = 120) -> dict[str, object]:
    """What the web page does: create a job, PUT the file to its upload URL, follow it."""
    with httpx.Client(base_url=base, timeout=30) as http:
        created = http.post("/api/jobs", json={"output_format": "half-sbs"})
        assert created.status_code == 201, created.text
        job_id = created.json()["id"]
        upload = http.post(f"/api/jobs/{job_id}/upload-url", json={"filename": "holiday.mp4"})
        assert upload.status_code == 200, upload.text
        put = http.put(upload.json()["url"], content=clip.read_bytes())
        assert put.status_code in (200, 201, 204), put.text
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            job: dict[str, object] = http.get(f"/api/jobs/{job_id}").json()
            if job["status"] in ("completed", "failed"):
                return job
            time.sleep(0.3)
    raise AssertionError(f"job {job_id} did not finish in {timeout_s} s")


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clips") / "holiday.mp4"
    return make_clip(path, seconds=3.0, fps=12, width=160, height=96, gop=12)


def test_serve_converts_an_upload_restarts_a_dead_worker_and_stops_on_ctrl_c(
    served: Served, clip: Path, tmp_path: Path
) -> None:
    assert served.url.startswith("http://127.0.0.1:")
    assert httpx.get(served.url + "/").status_code == 200

    # A worker that dies is started again by serve.
    (first_video,) = served.worker_pids("video-worker-1")
    os.kill(first_video, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while len(served.worker_pids("video-worker-1")) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    restarted = served.worker_pids("video-worker-1")
    assert len(restarted) == 2 and restarted[1] != first_video, served.log()

    job = convert_over_http(served.url, clip)
    assert job["status"] == "completed", job
    links = job["links"]
    assert isinstance(links, dict)
    result = tmp_path / "result.mp4"
    download = httpx.get(links["download"], timeout=30)
    assert download.status_code == 200
    assert "holiday_LR_Half_SBS.mp4" in download.headers["content-disposition"]
    result.write_bytes(download.content)
    facts, source = video_facts(result), video_facts(clip)
    assert facts.frames == decoded_frame_count(clip)
    assert abs(facts.duration_s - source.duration_s) < 0.15
    assert facts.audio_codec == "aac"

    media_pid = served.worker_pids("media-worker-1")[-1]
    served.process.send_signal(signal.SIGINT)
    assert served.process.wait(40) == 0
    time.sleep(0.2)  # let the stdout reader catch the last line
    assert "StereoSpot stopped." in served.stdout
    assert not alive(media_pid) and not alive(restarted[1])


def test_workers_stop_by_themselves_when_serve_is_killed(served: Served) -> None:
    pids = served.worker_pids("media-worker-1") + served.worker_pids("video-worker-1")
    assert len(pids) == 2 and all(alive(pid) for pid in pids)

    served.process.kill()  # no chance to stop its children
    served.process.wait(10)

    deadline = time.monotonic() + 20
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(pid) for pid in pids), "orphaned workers kept running"


def test_serve_says_so_when_the_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*CLI, "serve", "--data-dir", str(tmp_path), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_prints_the_effective_settings_with_secrets_masked(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "STEREOSPOT_SECRET_KEY": "very-secret-value",
        "STEREOSPOT_SEGMENT_SECONDS": "4.5",
    }
    result = subprocess.run(
        [*CLI, "config", "--data-dir", str(tmp_path / "d")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    settings = json.loads(result.stdout)
    assert "very-secret-value" not in result.stdout
    assert settings["secret_key"] == "**********"
    assert settings["segment_seconds"] == 4.5
    assert settings["data_dir"] == str((tmp_path / "d").resolve())
    assert settings["queue_timeouts"]["video_worker"] > 0


def test_demo_converts_a_sample_clip_and_prints_the_result_path(tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [*CLI, "demo", "--data-dir", str(tmp_path / "demo"), "--seconds", "3"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.strip())
    assert path.is_absolute() and path.is_file()
    assert path.name == "StereoSpot_demo_LR_Half_SBS.mp4"
    facts = video_facts(path)
    assert facts.frames == 72  # 3 s at 24 fps
    assert facts.audio_codec == "aac"
    assert "2 of 2 segments converted" in result.stderr  # 2-second segments


def test_demo_honours_the_data_dir_variable_and_otherwise_cleans_up(tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "STEREOSPOT_DATA_DIR": str(tmp_path / "mine")}
    demo = [*CLI, "demo", "--seconds", "1"]
    kept = subprocess.run(demo, capture_output=True, text=True, env=env, timeout=300)
    assert kept.returncode == 0, kept.stderr
    assert Path(kept.stdout.strip()).parent == (tmp_path / "mine").resolve()
    assert (tmp_path / "mine" / "stereospot.db").is_file()  # the job is kept there

    env.pop("STEREOSPOT_DATA_DIR")
    scratch, here = tmp_path / "tmp", tmp_path / "here"
    scratch.mkdir()
    here.mkdir()
    env["TMPDIR"] = str(scratch)
    gone = subprocess.run(demo, capture_output=True, text=True, env=env, timeout=300, cwd=here)
    assert gone.returncode == 0, gone.stderr
    assert Path(gone.stdout.strip()) == (here / "StereoSpot_demo_LR_Half_SBS.mp4").resolve()
    assert Path(gone.stdout.strip()).is_file()
    assert list(scratch.iterdir()) == [], "the temporary data directory is removed"


def test_demo_rejects_an_unknown_format_readably(tmp_path: Path) -> None:
    result = subprocess.run(
        [*CLI, "demo", "--data-dir", str(tmp_path), "--format", "hologram"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "unknown format 'hologram'" in result.stderr
    assert "half-sbs" in result.stderr
