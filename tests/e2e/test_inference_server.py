"""`stereospot inference serve` as a real process on loopback: the SageMaker contract."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.aws_server import MOTO_AVAILABLE, moto_endpoint
from tests.e2e.inference_process import (
    InferenceServer,
    invoke,
    moto_env,
    ping,
    running_inference_server,
)
from tests.fault_plugin import fault_env
from tests.media_clips import decoded_frame_count, make_clip

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

JOB = "6b1d2b8e-3c1a-4b8e-9a51-1d2b8e3c1a4b"
CONVERT_DELAY_S = 1.5


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("inference-root")
    make_clip(root / "in.mp4", seconds=1.0, fps=12, width=96, height=64, audio=False)
    (root / "junk.mp4").write_bytes(b"this is not a video" * 100)
    return root


@pytest.fixture(scope="module")
def endpoint() -> str:
    if not MOTO_AVAILABLE:
        pytest.skip("moto[server] is not installed")
    return moto_endpoint()


@pytest.fixture(scope="module")
def server(root: Path, endpoint: str) -> Iterator[InferenceServer]:
    env = {
        **moto_env(endpoint),
        **fault_env(load_delay_s=1, convert_delay_s=CONVERT_DELAY_S),
    }
    with running_inference_server(root, ready=False, extra_env=env) as server:
        yield server


def body(root: Path, name: str, out: str, **extra: Any) -> dict[str, Any]:
    return {
        "input_uri": (root / name).as_uri(),
        "output_uri": (root / out).as_uri(),
        "output_format": "half-sbs",
        **extra,
    }


def test_ping_answers_503_until_the_model_is_loaded_then_200(server: InferenceServer) -> None:
    assert server.first_ping == 503
    deadline = time.monotonic() + 90
    while (answer := ping(server.url))[0] != 200:
        assert answer == (503, {"status": "loading"})
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.1)
    assert answer[1] == {"status": "ready", "depth_model": "builtin"}


@pytest.fixture
def ready(server: InferenceServer) -> InferenceServer:
    deadline = time.monotonic() + 90
    while ping(server.url)[0] != 200:
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.1)
    return server


def test_converts_from_file_uris_and_logs_json_with_job_and_segment(
    ready: InferenceServer, root: Path
) -> None:
    status, (answer, _) = invoke(
        ready.url, body(root, "in.mp4", "out/file.mp4", job_id=JOB, segment_index=3)
    )
    assert status == 200, answer
    assert answer["status"] == "ok"
    assert answer["frames"] == 12
    assert answer["depth_model"] == "builtin"
    assert answer["device"] == "cpu"
    assert answer["seconds"] > 0
    assert decoded_frame_count(root / "out" / "file.mp4") == 12
    lines = [e for e in ready.log_entries() if e.get("job_id") == JOB]
    assert lines and all(e["segment_index"] == 3 for e in lines)
    assert any("converted 12 frames" in e["message"] for e in lines)


def test_converts_from_and_to_s3_on_moto(ready: InferenceServer, root: Path, endpoint: str) -> None:
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    bucket = f"in-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(root / "in.mp4"), bucket, "segments/a.mp4")
    request = {
        "input_uri": f"s3://{bucket}/segments/a.mp4",
        "output_uri": f"s3://{bucket}/jobs/a/out.mp4",
        "previous_input_uri": f"s3://{bucket}/segments/a.mp4",
        "output_format": "anaglyph",
        "settings": {"divergence": 3.0},
    }
    status, (answer, _) = invoke(ready.url, request)
    assert status == 200, answer
    s3.download_file(bucket, "jobs/a/out.mp4", str(root / "from-s3.mp4"))
    assert decoded_frame_count(root / "from-s3.mp4") == 12


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"input_uri": "file:///x.mp4"}', "output_uri: Field required"),
        (
            b'{"input_uri": "http://e.com/a.mp4", "output_uri": "file:///o.mp4",'
            b' "output_format": "half-sbs"}',
            "input_uri",
        ),
        (
            b'{"input_uri": "file:///a.mp4", "output_uri": "file:///o.mp4",'
            b' "output_format": "stereo-5000"}',
            "output_format",
        ),
        (
            b'{"input_uri": "file:///a.mp4", "output_uri": "file:///o.mp4",'
            b' "output_format": "half-sbs", "settings": {"divergence": 99}}',
            "settings.divergence",
        ),
    ],
)
def test_a_bad_body_gets_400_with_a_readable_reason(
    ready: InferenceServer, payload: bytes, words: str
) -> None:
    status, (answer, _) = invoke(ready.url, payload)
    assert status == 400
    assert answer["status"] == "error"
    assert words in answer["reason"]


def test_files_outside_the_root_and_missing_inputs_get_400(
    ready: InferenceServer, root: Path
) -> None:
    outside = {**body(root, "in.mp4", "o.mp4"), "input_uri": "file:///etc/passwd"}
    status, (answer, _) = invoke(ready.url, outside)
    assert (status, "outside this server's file root" in answer["reason"]) == (400, True)
    status, (answer, _) = invoke(ready.url, body(root, "absent.mp4", "o.mp4"))
    assert status == 400
    assert "does not exist" in answer["reason"]


def test_a_media_error_gets_400_with_the_engine_sentence(
    ready: InferenceServer, root: Path
) -> None:
    status, (answer, _) = invoke(ready.url, body(root, "junk.mp4", "o.mp4"))
    assert status == 400
    assert "not a video file we can read" in answer["reason"]


def test_a_storage_fault_gets_500(ready: InferenceServer, root: Path) -> None:
    request = {**body(root, "in.mp4", "o.mp4"), "output_uri": "s3://no-such-bucket-x1/o.mp4"}
    status, (answer, _) = invoke(ready.url, request)
    assert status == 500
    assert answer["reason"].startswith("The engine failed")
    assert "no-such-bucket" not in answer["reason"]  # the detail is for the log only
    assert "no-such-bucket-x1" in ready.log()


def test_a_second_concurrent_request_gets_503_with_retry_after(
    ready: InferenceServer, root: Path
) -> None:
    results: list[tuple[int, Any]] = []

    def call(name: str) -> None:
        results.append(invoke(ready.url, body(root, "in.mp4", f"out/{name}.mp4")))

    first = threading.Thread(target=call, args=("first",))
    first.start()
    time.sleep(CONVERT_DELAY_S / 2)  # the first is converting now
    call("second")
    first.join()
    busy, done = results
    assert busy[0] == 503
    assert busy[1][1]["retry-after"] == "5"
    assert "one segment at a time" in busy[1][0]["reason"]
    assert done[0] == 200


def test_stub_mode_is_ready_at_once_and_converts_nothing(tmp_path: Path) -> None:
    with running_inference_server(tmp_path, ready=False, args=("--stub",)) as stub:
        assert stub.first_ping == 200
        status, (answer, _) = invoke(stub.url, body(tmp_path, "in.mp4", "o.mp4"))
        assert status == 200
        assert answer == {
            "status": "ok", "frames": 0, "seconds": 0.0, "depth_model": "stub", "device": "none"
        }  # fmt: skip
        assert not (tmp_path / "o.mp4").exists()


def test_a_model_that_cannot_load_stops_the_server_with_the_reason(tmp_path: Path) -> None:
    env = {"STEREOSPOT_DEPTH_MODEL": str(tmp_path / "no-such-model-dir") + "/x"}
    with running_inference_server(tmp_path, ready=False, extra_env=env) as server:
        assert server.process.wait(120) == 1
        failed = [e for e in server.log_entries() if e["level"] == "ERROR"]
        assert any("could not be loaded" in e["message"] for e in failed), server.log()
