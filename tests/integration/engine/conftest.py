"""Small generated clips shared by the engine's integration tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.media_clips import make_clip


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("engine-clips")


@pytest.fixture(scope="session")
def tricky_clip(clips: Path) -> Path:
    """VFR, B-frames, rotated 90 degrees, odd width, 4:4:4, with audio."""
    return make_clip(
        clips / "tricky.mp4", seconds=1.0, fps=24, width=97, height=64, bframes=2, vfr=True,
        rotation=90, pix_fmt="yuv444p",
    )  # fmt: skip


@pytest.fixture(scope="session")
def small_clip(clips: Path) -> Path:
    return make_clip(clips / "small.mp4", seconds=0.5, fps=24, width=96, height=64, audio=False)
