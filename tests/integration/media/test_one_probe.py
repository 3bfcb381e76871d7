"""One probe: the media toolkit (what users are told, how segments are planned) and the
engine (how frames are decoded, rotated and encoded) read every file the same way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from inference_server.probe import display_rotation
from inference_server.video_io import probe_source
from stereospot.adapters.media.pyav_toolkit import PyAVToolkit
from stereospot.domain.errors import MediaError
from tests.media_clips import make_audio_only, make_clip, truncate

# name -> make_clip arguments, and what both probes must find.
CLIPS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "rotated90.mp4": ({"rotation": 90}, {"rotation": 90}),
    "rotated180.mp4": ({"rotation": 180}, {"rotation": 180}),
    "rotated270.mp4": ({"rotation": 270}, {"rotation": 270}),
    "rotated_minus90.mp4": ({"rotation": -90}, {"rotation": 270}),
    # A phone held upright: a landscape picture with a quarter-turn display matrix, .mov,
    # AAC audio, B-frames.
    "phone_portrait.mov": (
        {"width": 160, "height": 90, "rotation": 90, "bframes": 2, "fps": 30, "seconds": 1.0},
        {"rotation": 90, "size": (160, 90), "frames": 30},
    ),
    # A portrait picture stored upright (no matrix).
    "upright_portrait.mov": ({"width": 90, "height": 160, "seconds": 1.0}, {"size": (90, 160)}),
    "vfr.mp4": ({"vfr": True, "bframes": 2}, {"vfr": True, "frames": 48}),
    "vp9.webm": ({"codec": "libvpx-vp9", "seconds": 1.0}, {"frames": 24, "bits": 8}),
    "hevc10.mp4": (
        {"codec": "libx265", "pix_fmt": "yuv420p10le", "bframes": 2, "seconds": 1.0},
        {"bits": 10, "frames": 24},
    ),
}


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    folder = tmp_path_factory.mktemp("one_probe")

    def get(name: str) -> Path:
        path = folder / name
        if not path.exists():
            make_clip(path, **{"width": 96, "height": 64, "audio": True, **CLIPS[name][0]})
        return path

    return get


@pytest.mark.parametrize("name", sorted(CLIPS))
def test_the_toolkit_and_the_engine_agree(
    toolkit: PyAVToolkit, clips: Callable[[str], Path], name: str
) -> None:
    path = clips(name)
    info = toolkit.probe(path)
    source = probe_source(path)
    assert info.rotation == source.rotation
    assert info.frame_count == source.total_frames
    assert info.variable_frame_rate == source.variable_rate
    assert info.bit_depth == source.bits
    assert (info.width - info.width % 2, info.height - info.height % 2) == (
        source.width,
        source.height,
    )
    expected = CLIPS[name][1]
    assert info.rotation == expected.get("rotation", 0)
    assert info.variable_frame_rate == expected.get("vfr", False)
    if "size" in expected:
        assert (info.width, info.height) == expected["size"]
    if "frames" in expected:
        assert info.frame_count == expected["frames"]
    if "bits" in expected:
        assert info.bit_depth == expected["bits"]


def _text(path: Path) -> Path:
    path.write_text("not a video\n" * 100)
    return path


BROKEN: dict[str, Callable[[Path], Path]] = {
    "text": _text,
    "audio only": lambda p: make_audio_only(p.with_suffix(".m4a")),
    "truncated mp4": lambda p: truncate(make_clip(p.with_name("whole.mp4")), p, 0.5),
    "missing": lambda p: p.with_name("nowhere.mp4"),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_both_refuse_a_broken_file(toolkit: PyAVToolkit, tmp_path: Path, kind: str) -> None:
    path = BROKEN[kind](tmp_path / "upload.mp4")
    with pytest.raises(MediaError):
        toolkit.probe(path)
    with pytest.raises(MediaError):
        probe_source(path)


@pytest.mark.parametrize(
    ("degrees", "quarter_turns"),
    [(0, 0), (None, 0), (44.9, 0), (45, 90), (90, 90), (-90, 270), (135, 180), (180, 180),
     (-180, 180), (225, 270), (270, 270), (315, 0), (359, 0), (450, 90)],
)  # fmt: skip
def test_rotation_is_the_nearest_quarter_turn(degrees: float | None, quarter_turns: int) -> None:
    assert display_rotation(degrees) == quarter_turns
