"""The Triton model's handler (shared by the stock repository and the PyTriton binding)
with the real engine, and the triton backend's start-up checks. A real Triton server
converting through the backend: tests/e2e/test_triton_inference.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from inference_server.service import InferenceService, ServiceOptions
from inference_server.triton_model import handle
from stereospot.config import InferenceBackendKind, Settings
from stereospot.container import engine_storage
from stereospot.domain.errors import BackendMisconfigured
from tests.media_clips import decoded_frame_count, make_clip

pytest.importorskip("tritonclient.http")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> tuple[InferenceService, Path]:
    root = tmp_path_factory.mktemp("triton-root")
    make_clip(root / "in.mp4", seconds=1.0, fps=12, width=96, height=64, audio=False)
    options = ServiceOptions(depth_model="builtin", device="cpu", file_root=root)
    made = InferenceService(options, engine_storage(options))
    made.load()
    return made, root


def request(root: Path, name: str) -> bytes:
    return json.dumps(
        {
            "input_uri": (root / name).as_uri(),
            "output_uri": (root / "out.mp4").as_uri(),
            "output_format": "half-sbs",
        }
    ).encode()


def test_the_model_converts_and_answers_a_status_with_code_200(
    service: tuple[InferenceService, Path],
) -> None:
    engine, root = service
    status = json.loads(handle(engine, request(root, "in.mp4")))
    assert status["code"] == 200 and status["status"] == "ok"
    assert status["frames"] == 12
    assert decoded_frame_count(root / "out.mp4") == 12


def test_bad_bodies_and_media_errors_answer_400_with_the_reason(
    service: tuple[InferenceService, Path],
) -> None:
    engine, root = service
    assert json.loads(handle(engine, b"nope"))["code"] == 400
    (root / "junk.mp4").write_bytes(b"junk" * 100)
    status = json.loads(handle(engine, request(root, "junk.mp4")))
    assert status["code"] == 400
    assert "not a video file we can read" in status["reason"]


def test_every_backend_kind_is_built_by_the_container(tmp_path: Path) -> None:
    from stereospot.adapters.inference.http import HttpInferenceBackend
    from stereospot.adapters.inference.local import LocalInferenceBackend
    from stereospot.adapters.inference.sagemaker import SageMakerBackend
    from stereospot.adapters.inference.triton import TritonInferenceBackend
    from stereospot.config import AwsSettings
    from stereospot.container import build_container

    expected = {
        InferenceBackendKind.LOCAL: LocalInferenceBackend,
        InferenceBackendKind.HTTP: HttpInferenceBackend,
        InferenceBackendKind.TRITON: TritonInferenceBackend,
        InferenceBackendKind.SAGEMAKER: SageMakerBackend,
    }
    assert set(expected) == set(InferenceBackendKind)
    for kind, cls in expected.items():
        settings = Settings(
            data_dir=tmp_path, inference_backend=kind, aws=AwsSettings(sagemaker_endpoint="e")
        )
        assert isinstance(build_container(settings).inference(), cls)


def test_the_triton_backend_refuses_a_bad_url_and_a_missing_server(tmp_path: Path) -> None:
    from stereospot.adapters.inference.remote import RemoteOptions
    from stereospot.adapters.inference.triton import TritonInferenceBackend
    from stereospot.container import build_container

    storage = build_container(Settings(data_dir=tmp_path)).platform.storage()
    with pytest.raises(BackendMisconfigured, match="http:// URL"):
        TritonInferenceBackend(storage, "127.0.0.1:8000")
    backend = TritonInferenceBackend(
        storage, "http://127.0.0.1:9", RemoteOptions(ready_timeout_s=0)
    )
    with pytest.raises(BackendMisconfigured, match="was not ready within 0 s"):
        backend.wait_ready()


def test_the_sagemaker_backend_needs_an_endpoint(tmp_path: Path) -> None:
    pytest.importorskip("boto3")
    from stereospot.adapters.inference.sagemaker import SageMakerBackend
    from stereospot.container import build_container

    settings = Settings(data_dir=tmp_path)
    storage = build_container(settings).platform.storage()
    with pytest.raises(BackendMisconfigured, match="SAGEMAKER_ENDPOINT is not set"):
        SageMakerBackend.from_settings(settings, storage=storage, scratch=None)  # type: ignore[arg-type]


def test_stereospot_inference_triton_refuses_numpy_2_with_one_reason(tmp_path: Path) -> None:
    """Under numpy 2 Triton's Python-backend stub misreads tensors: the binding refuses to
    start (before loading a model or importing PyTriton) instead of answering garbage."""
    import numpy as np

    if int(np.__version__.split(".")[0]) < 2:
        pytest.skip("this venv has numpy 1")
    env = {**os.environ, "STEREOSPOT_DATA_DIR": str(tmp_path), "STEREOSPOT_DEPTH_MODEL": "builtin"}
    result = subprocess.run(
        [sys.executable, "-m", "stereospot.entrypoints.cli.main", "inference", "triton"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "Triton's Python backend needs numpy<2" in result.stdout + result.stderr
    assert "ready in" not in result.stdout + result.stderr  # no model was loaded
