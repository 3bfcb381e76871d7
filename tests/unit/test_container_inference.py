"""The container picks the inference backend by STEREOSPOT_INFERENCE_BACKEND, and says
plainly when the chosen one's module or client library is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from stereospot.adapters.inference.local import LocalInferenceBackend
from stereospot.config import InferenceBackendKind, Settings
from stereospot.container import MissingComponent, build_container, inference_backend


def test_the_local_backend_is_the_default(tmp_path: Path) -> None:
    container = build_container(Settings(platform="memory", data_dir=tmp_path))
    assert isinstance(container.inference(), LocalInferenceBackend)


def test_a_missing_backend_module_is_named_in_a_sentence(tmp_path: Path) -> None:
    def absent() -> LocalInferenceBackend:
        raise ModuleNotFoundError("No module named 'tritonclient'", name="tritonclient")

    container = build_container(Settings(platform="memory", data_dir=tmp_path))
    with pytest.raises(MissingComponent, match="=triton needs tritonclient, which this"):
        inference_backend(
            InferenceBackendKind.TRITON,
            absent,  # type: ignore[arg-type]
            container.settings(),
            container.platform.storage(),
            container.platform.scratch(),
        )
