"""The `triton` backend against a real Triton server: `stereospot inference triton`
(PyTriton, CPU) started from .venv-triton (scripts/triton.sh), real HTTP with tritonclient.

Model readiness at worker start, a segment converted through the backend and recorded by
the use case, a bad segment failing the job with the server's reason, and the whole
pipeline through `stereospot serve` with STEREOSPOT_INFERENCE_BACKEND=triton.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from stereospot.adapters.inference.remote import RemoteOptions
from stereospot.adapters.inference.triton import TritonInferenceBackend
from stereospot.config import Platform, Settings
from stereospot.container import build_container
from stereospot.domain.errors import BackendMisconfigured, MediaError
from stereospot.domain.model import Job, JobStatus
from stereospot.domain.ports import ConversionRequest
from stereospot.domain.services.conversion import handle_segment_ready
from stereospot.domain.services.deps import Deps
from tests.e2e.pipeline_harness import video_facts
from tests.e2e.serve_process import running_serve
from tests.e2e.test_serve import convert_over_http
from tests.e2e.triton_process import (
    TritonServer,
    running_stock_triton,
    running_triton,
    stock_triton,
)
from tests.integration.workers.test_http_inference_backend import new_job, request_for
from tests.media_clips import decoded_frame_count, make_clip

pytest.importorskip("tritonclient.http")

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(400)]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`stereospot serve --data-dir root/data`; the Triton server reads and writes there."""
    return tmp_path_factory.mktemp("triton-e2e")


@pytest.fixture(scope="module")
def triton(root: Path) -> Iterator[TritonServer]:
    with running_triton(root / "data") as server:
        yield server


@pytest.fixture
def deps(root: Path) -> Deps:
    return build_container(Settings(platform=Platform.LOCAL, data_dir=root / "data")).deps()


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clips") / "holiday.mp4"
    return make_clip(path, seconds=3.0, fps=12, width=160, height=96, gop=12)


def backend(deps: Deps, triton: TritonServer, **options: float) -> TritonInferenceBackend:
    return TritonInferenceBackend(
        deps.storage, triton.url, RemoteOptions(retry_base_s=0.01, **options)
    )


def segment(deps: Deps, clip: Path) -> tuple[Job, ConversionRequest]:
    job, key = new_job(deps, clip)
    return job, request_for(job, key)


def test_worker_start_waits_for_the_model_and_refuses_an_unknown_one(
    deps: Deps, triton: TritonServer
) -> None:
    backend(deps, triton, ready_timeout_s=30).wait_ready()
    unknown = TritonInferenceBackend(
        deps.storage, triton.url, RemoteOptions(ready_timeout_s=0), model="nope"
    )
    with pytest.raises(BackendMisconfigured, match="was not ready within 0 s"):
        unknown.wait_ready()


def test_a_segment_converts_through_triton_and_the_use_case_records_it(
    deps: Deps, triton: TritonServer, clip: Path, tmp_path: Path
) -> None:
    remote = backend(deps, triton)
    remote.wait_ready()
    job, request = segment(deps, clip)
    result = remote.convert(request)
    assert (result.completed, result.output_event) == (True, False)
    out = tmp_path / "out.mp4"
    deps.storage.get_file(request.output_key, out)
    assert decoded_frame_count(out) == decoded_frame_count(clip)
    assert (video_facts(out).width, video_facts(out).height) == (160, 96)

    job, request = segment(deps, clip)
    handle_segment_ready(replace(deps, inference=remote), job.id, 0, 1, request.input_key)
    assert [c.segment_index for c in deps.completions.list(job.id)] == [0]


def test_a_bad_segment_fails_the_job_with_the_servers_reason(
    deps: Deps, triton: TritonServer, tmp_path: Path
) -> None:
    remote = backend(deps, triton)
    remote.wait_ready()
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video" * 100)
    job, request = segment(deps, junk)
    with pytest.raises(MediaError, match="is not a video file we can read"):
        remote.convert(request)
    handle_segment_ready(replace(deps, inference=remote), job.id, 0, 1, request.input_key)
    failed = deps.jobs.get(job.id)
    assert failed is not None and failed.status is JobStatus.FAILED
    assert failed.failure_reason is not None
    assert "is not a video file we can read" in failed.failure_reason
    assert deps.completions.list(job.id) == []


def test_a_job_converts_through_serve_with_the_triton_backend(
    root: Path, triton: TritonServer, clip: Path
) -> None:
    env = {
        "STEREOSPOT_INFERENCE_BACKEND": "triton",
        "STEREOSPOT_INFERENCE_URL": triton.url,
        "STEREOSPOT_INFERENCE_READY_TIMEOUT_S": "60",
    }
    with running_serve(root, extra_env=env) as served:
        job = convert_over_http(served.url, clip, timeout_s=180)
        assert job["status"] == "completed", (job, served.log_path.read_text(), triton.log())
        final = root / "data" / "objects" / "jobs" / str(job["id"]) / "final.mp4"
        facts = video_facts(final)
        assert facts.frames == decoded_frame_count(clip)
        assert (facts.width, facts.height) == (160, 96)
        assert facts.audio_codec == "aac"
        assert f'"job_id": "{job["id"]}"' in triton.log()  # the server did the converting


def test_the_stock_model_repository_converts_and_rejects_like_the_binding(
    root: Path, deps: Deps, clip: Path, tmp_path: Path
) -> None:
    """triton_repository/stereo (Python backend, its model.py) on the tritonserver binary."""
    with running_stock_triton(root / "data", tmp_path) as stock:
        remote = backend(deps, stock, ready_timeout_s=30)
        remote.wait_ready()
        request = segment(deps, clip)[1]
        assert remote.convert(request).completed
        out = tmp_path / "out.mp4"
        deps.storage.get_file(request.output_key, out)
        assert decoded_frame_count(out) == decoded_frame_count(clip)
        junk = tmp_path / "junk.mp4"
        junk.write_bytes(b"not a video" * 100)
        with pytest.raises(MediaError, match="is not a video file we can read"):
            remote.convert(segment(deps, junk)[1])
        assert "TRITONBACKEND_ModelInstanceInitialize: stereo_0_0 (CPU device 0)" in stock.log()


def test_the_stock_model_refuses_to_load_under_numpy_2(root: Path, tmp_path: Path) -> None:
    """The stub's environment is the main venv's (numpy 2): the model does not load, with
    the reason, instead of answering garbage."""
    import numpy as np

    if int(np.__version__.split(".")[0]) < 2:
        pytest.skip("the main venv has numpy 1")
    stock = stock_triton(root / "data", tmp_path, stub_python=Path(sys.executable))
    result = subprocess.run(stock.command, env=stock.env, capture_output=True, timeout=120)
    log = (result.stdout + result.stderr).decode(errors="replace")
    assert result.returncode != 0
    assert "Triton's Python backend needs numpy<2" in log
    assert "failed to load 'stereo'" in log
