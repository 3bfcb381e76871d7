"""probe() on real PyAV-made clips, and every kind of unusable file with its sentence."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from stereospot.adapters.media.pyav_toolkit import PyAVToolkit
from stereospot.domain.errors import MediaError
from tests.media_clips import decoded_frame_count, make_audio_only, make_clip, make_image, truncate


def test_probe_describes_an_h264_clip_with_audio(
    toolkit: PyAVToolkit, clip: Callable[[str], Path]
) -> None:
    path = clip("h264.mp4")
    info = toolkit.probe(path)
    assert info.codec == "h264"
    assert (info.width, info.height) == (320, 240)
    assert info.fps == pytest.approx(24.0)
    assert info.duration_s == pytest.approx(2.0, abs=1 / 24)
    assert info.frame_count == 48 == decoded_frame_count(path)
    assert info.frame_count_exact
    assert not info.variable_frame_rate
    assert info.keyframe_interval_s == pytest.approx(1.0)
    assert info.rotation == 0
    assert (info.pixel_format, info.bit_depth) == ("yuv420p", 8)
    assert info.has_audio and info.audio_codec == "aac"
    assert info.size_bytes == path.stat().st_size


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("no_audio.mp4", {"has_audio": False, "audio_codec": None}),
        ("vfr.mp4", {"variable_frame_rate": True, "frame_count": 48}),
        ("rotated.mp4", {"rotation": 90, "width": 320, "height": 240}),
        ("odd_size.mp4", {"width": 321, "height": 241, "pixel_format": "yuv444p"}),
        ("hevc10.mp4", {"codec": "hevc", "bit_depth": 10, "pixel_format": "yuv420p10le"}),
        ("vp9_opus.webm", {"codec": "vp9", "audio_codec": "opus", "frame_count": 48}),
        ("bframes_long_gop.mp4", {"keyframe_interval_s": 2.5, "frame_count": 96}),
        ("h264_mp3.mkv", {"audio_codec": "mp3"}),
    ],
)
def test_probe_reports_what_each_clip_is(
    toolkit: PyAVToolkit, clip: Callable[[str], Path], name: str, expected: dict[str, object]
) -> None:
    info = toolkit.probe(clip(name)).model_dump()
    assert {key: info[key] for key in expected} == pytest.approx(expected)


def test_frame_count_matches_what_a_decoder_produces(
    toolkit: PyAVToolkit, clip: Callable[[str], Path]
) -> None:
    for name in ("vfr.mp4", "bframes_long_gop.mp4", "vp9_opus.webm"):
        assert toolkit.probe(clip(name)).frame_count == decoded_frame_count(clip(name)), name


def _text(path: Path) -> Path:
    path.write_text("This is a shopping list, renamed to look like a video.\n" * 40)
    return path


def _empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def _truncated(path: Path) -> Path:
    return truncate(make_clip(path.with_name("whole.mp4")), path, 0.5)


def _truncated_faststart(path: Path) -> Path:
    whole = make_clip(path.with_name("whole_fs.mp4"), faststart=True)
    return truncate(whole, path, 0.5)


def _truncated_mkv(path: Path) -> Path:
    return truncate(make_clip(path.with_name("whole.mkv")), path.with_suffix(".mkv"), 0.5)


BAD_INPUTS: list[tuple[str, Callable[[Path], Path], str]] = [
    ("text renamed .mp4", _text, "This file is not a video: it contains text."),
    ("PNG image", lambda p: make_image(p.with_suffix(".png")), "an image (PNG), not a video"),
    (
        "JPEG image",
        lambda p: make_image(p.with_suffix(".jpg"), codec="mjpeg"),
        "an image (JPEG), not a video",
    ),
    (
        "audio only",
        lambda p: make_audio_only(p.with_suffix(".m4a")),
        "This file is not a video: it contains only audio.",
    ),
    ("zero bytes", _empty, "The file is empty (0 bytes)."),
    ("truncated mp4 (index at the end)", _truncated, "The video is cut short"),
    ("truncated mp4 (index at the front)", _truncated_faststart, "The video is cut short"),
    ("truncated mkv", _truncated_mkv, "The video is cut short"),
    (
        "unsupported codec",
        lambda p: make_clip(p.with_suffix(".mkv"), codec="ffv1", seconds=0.5),
        "Unsupported video codec 'ffv1'",
    ),
    ("missing path", lambda p: p.with_name("nowhere.mp4"), "does not exist"),
    ("a folder", lambda p: p.parent, "is a folder, not a video file"),
]


@pytest.mark.parametrize(
    ("make", "message"),
    [(make, message) for _, make, message in BAD_INPUTS],
    ids=[name for name, _, _ in BAD_INPUTS],
)
def test_unusable_files_raise_a_readable_media_error(
    toolkit: PyAVToolkit, tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    path = make(tmp_path / "upload.mp4")
    with pytest.raises(MediaError) as caught:
        toolkit.probe(path)
    assert message in str(caught.value)
    assert "avformat" not in str(caught.value)  # no raw FFmpeg call names


def test_absurd_dimensions_are_refused_with_the_size_in_the_sentence(
    toolkit: PyAVToolkit, tmp_path: Path
) -> None:
    # A real 8200-pixel-wide stream (cheap: 16 px high, a few frames), over the 8192 limit.
    path = make_clip(tmp_path / "wide.mp4", width=8200, height=16, seconds=0.25, audio=False)
    expected = r"The video is 8200x16; the largest supported size is 8192 pixels a side"
    with pytest.raises(MediaError, match=expected):
        toolkit.probe(path)


def test_split_refuses_bad_input_with_the_same_sentences(
    toolkit: PyAVToolkit, tmp_path: Path
) -> None:
    audio = make_audio_only(tmp_path / "song.m4a")
    with pytest.raises(MediaError, match="contains only audio"):
        toolkit.split(audio, tmp_path / "segments", 1.0)
    assert list((tmp_path / "segments").glob("*")) == []
