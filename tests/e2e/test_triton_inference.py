"""The `triton` backend against a real Triton server: `stereospot inference triton`
(PyTriton, CPU) started from .venv-triton (scripts/triton.sh), real HTTP with tritonclient.

Model readiness at worker start, a segment converted through the backend and recorded by
the use case, a bad segment failing the job with the server's reason, and the whole
pipeline through `stereospot serve` with STEREOSPOT_INFERENCE_BACKEND=triton.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from uuid import uuid4

import pytest

from stereospot.adapters.inference.remote import RemoteOptions
from stereospot.adapters.inference.triton import TritonInferenceBackend
from stereospot.config import Platform, Settings
from stereospot.container import build_container
from stereospot.domain import keys
from stereospot.domain.errors import BackendMisconfigured, MediaError
from stereospot.domain.formats import StereoFormat
from stereospot.domain.model import Job, JobStatus
from stereospot.domain.ports import ConversionRequest
from stereospot.domain.services.conversion import handle_segment_ready
from stereospot.domain.services.deps import Deps
from tests.e2e.pipeline_harness import video_facts
from tests.e2e.serve_process import running_serve
from tests.e2e.test_serve import convert_over_http
from tests.e2e.triton_process import TritonServer, running_triton
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


def segment(deps: Deps, content: Path | bytes) -> tuple[Job, ConversionRequest]:
    job = Job(
        id=uuid4(),
        status=JobStatus.CHUNKING_COMPLETE,
        created_at=deps.clock.now(),
        total_segments=1,
    )
    deps.jobs.create(job)
    key = keys.segment_key(job.id, 0, 1, StereoFormat.HALF_SBS)
    if isinstance(content, Path):
        deps.storage.put_file(key, content)
    else:
        deps.storage.put_bytes(key, content)
    request = ConversionRequest(
        job_id=job.id,
        segment_index=0,
        input_key=key,
        output_key=keys.output_segment_key(job.id, 0),
        output_format=job.output_format,
        settings=job.settings,
    )
    return job, request


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
    deps: Deps, triton: TritonServer
) -> None:
    remote = backend(deps, triton)
    remote.wait_ready()
    job, request = segment(deps, b"not a video" * 100)
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
