"""Clips for the media tests, generated once per session with tests.media_clips."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stereospot.adapters.media.pyav_toolkit import PyAVToolkit
from tests.media_clips import make_clip

# name -> make_clip arguments; every clip is 2 s or less, small, generated on first use.
CLIPS: dict[str, dict[str, Any]] = {
    "h264.mp4": {},
    "no_audio.mp4": {"audio": False},
    "bframes_long_gop.mp4": {"seconds": 4.0, "gop": 60, "bframes": 3},
    "vfr.mp4": {"vfr": True},
    "vfr_bframes.mp4": {"vfr": True, "bframes": 3, "gop": 7, "seconds": 3.0},
    "rotated.mp4": {"rotation": 90},
    "odd_size.mp4": {"width": 321, "height": 241, "pix_fmt": "yuv444p"},
    "hevc10.mp4": {"codec": "libx265", "pix_fmt": "yuv420p10le", "bframes": 2},
    "vp9_opus.webm": {"codec": "libvpx-vp9"},
    "h264_pcm.mov": {"audio_codec": "pcm_s16le"},
    "h264_mp3.mkv": {"audio_codec": "libmp3lame"},
    "hevc_open_gop.mp4": {"codec": "libx265", "bframes": 3, "open_gop": True, "gop": 12},
    "h264_open_gop.mp4": {"bframes": 3, "open_gop": True, "gop": 12},
    "ffv1.mkv": {"codec": "ffv1", "seconds": 0.5},
}


@pytest.fixture(scope="session")
def toolkit() -> PyAVToolkit:
    return PyAVToolkit()


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    folder = tmp_path_factory.mktemp("clips")

    def get(name: str) -> Path:
        path = folder / name
        if not path.exists():
            make_clip(path, **CLIPS[name])
        return path

    return get
