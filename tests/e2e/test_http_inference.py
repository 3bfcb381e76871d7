"""The whole pipeline through `stereospot serve` with STEREOSPOT_INFERENCE_BACKEND=http
against a running `stereospot inference serve`: real processes, real HTTP."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import pytest

from tests.e2e.inference_process import (
    running_inference_server,
    start_inference_server,
    wait_ready,
)
from tests.e2e.pipeline_harness import video_facts
from tests.e2e.serve_process import free_port, running_serve, stop_gracefully
from tests.e2e.test_serve import convert_over_http
from tests.fault_plugin import fault_env
from tests.media_clips import decoded_frame_count, make_clip

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(400)]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clips") / "holiday.mp4"
    return make_clip(path, seconds=3.0, fps=12, width=160, height=96, gop=12)


def http_env(url: str) -> dict[str, str]:
    return {
        "STEREOSPOT_INFERENCE_BACKEND": "http",
        "STEREOSPOT_INFERENCE_URL": url,
        "STEREOSPOT_INFERENCE_RETRIES": "8",
        "STEREOSPOT_INFERENCE_RETRY_BASE_S": "0.5",
        "STEREOSPOT_INFERENCE_READY_TIMEOUT_S": "120",
    }


def test_a_job_converts_through_the_inference_server(tmp_path: Path, clip: Path) -> None:
    data = tmp_path / "data"
    with (
        running_inference_server(data) as inference,
        running_serve(tmp_path, extra_env=http_env(inference.url)) as served,
    ):
        job = convert_over_http(served.url, clip, timeout_s=180)
        assert job["status"] == "completed", (job, served.log_path.read_text())
        converted = [e for e in inference.log_entries() if e["message"].startswith("converted")]
        assert {e["job_id"] for e in converted} == {job["id"]}
        assert sorted(e["segment_index"] for e in converted) == [0, 1, 2]
        final = data / "objects" / "jobs" / str(job["id"]) / "final.mp4"
        facts = video_facts(final)
        assert facts.frames == decoded_frame_count(clip)
        assert (facts.width, facts.height) == (160, 96)
        assert facts.audio_codec == "aac"


def test_the_server_killed_mid_request_is_retried_and_the_job_completes_once(
    tmp_path: Path, clip: Path
) -> None:
    data = tmp_path / "data"
    port = free_port()
    slow = start_inference_server(data, port=port, extra_env=fault_env(convert_delay_s=4))
    replacement = None
    try:
        wait_ready(slow)
        with running_serve(tmp_path, extra_env=http_env(slow.url)) as served:
            result: dict[str, object] = {}
            submit = threading.Thread(
                target=lambda: result.update(convert_over_http(served.url, clip, 240))
            )
            submit.start()
            deadline = time.monotonic() + 120
            while not any(e["message"].startswith("converting") for e in slow.log_entries()):
                assert time.monotonic() < deadline, slow.log()
                time.sleep(0.1)
            slow.process.send_signal(signal.SIGKILL)  # in the middle of a conversion
            slow.process.wait()
            replacement = start_inference_server(data, port=port)
            submit.join(260)
            assert result.get("status") == "completed", (result, served.log_path.read_text())
            log = served.log_path.read_text()
            assert "inference attempt failed" in log
            assert log.count("job completed") == 1
            final = data / "objects" / "jobs" / str(result["id"]) / "final.mp4"
            assert video_facts(final).frames == decoded_frame_count(clip)
    finally:
        stop_gracefully([p.process for p in (slow, replacement) if p is not None])
