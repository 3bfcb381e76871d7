"""The poster frame made at reassembly: a JPEG of the video, 30% in."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from stereospot.adapters.media.pyav_toolkit import PyAVToolkit
from stereospot.domain.errors import MediaError
from tests.media_clips import make_clip


def test_a_poster_is_a_jpeg_of_the_video(tmp_path: Path) -> None:
    video = make_clip(tmp_path / "clip.mp4", seconds=3.0, fps=12, width=160, height=96)
    out = tmp_path / "poster.jpg"
    PyAVToolkit().poster(video, out)
    assert out.read_bytes()[:2] == b"\xff\xd8"
    with av.open(str(out)) as container:
        frame = next(container.decode(video=0))
        assert (frame.width, frame.height) == (160, 96)


def test_no_poster_from_a_non_video(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.mp4"
    bogus.write_text("not a video")
    with pytest.raises(MediaError):
        PyAVToolkit().poster(bogus, tmp_path / "poster.jpg")
