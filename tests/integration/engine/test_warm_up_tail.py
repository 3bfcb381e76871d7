"""The warm-up tail of a previous segment: the right frames, without decoding it all."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from inference_server import video_io
from inference_server.video_io import decode_frames, decode_tail, probe_source
from tests.media_clips import make_clip


def expected_tail(path: Path, seconds: float) -> list[np.ndarray]:
    source = probe_source(path)
    frames = [(float(f.pts * source.time_base), f.i420) for f in decode_frames(path, source)]
    end = max(t for t, _ in frames)
    return [image for t, image in frames if t > end - seconds + 1e-6]


@pytest.mark.parametrize("bframes", [0, 2])
def test_tail_is_the_last_second_decoded_from_a_nearby_keyframe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bframes: int
) -> None:
    clip = make_clip(tmp_path / "segment.mp4", seconds=3.0, fps=12, width=64, height=48,
                     gop=6, bframes=bframes, audio=False)  # fmt: skip
    expected = expected_tail(clip, 1.0)
    converted: list[int] = []
    convert = video_io.frame_to_i420

    def counting(*args: object, **kwargs: object) -> np.ndarray:
        converted.append(1)
        return convert(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(video_io, "frame_to_i420", counting)
    tail = decode_tail(clip, 1.0)
    assert len(tail) == len(expected) == 12
    assert all(np.array_equal(a, b) for a, b in zip(tail, expected, strict=True))
    assert len(converted) <= 18  # from the keyframe before the tail (frame 18 of 36) on


def test_a_segment_shorter_than_the_tail_is_taken_whole(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "short.mp4", seconds=0.5, fps=12, width=64, height=48,
                     audio=False)  # fmt: skip
    assert len(decode_tail(clip, 1.0)) == 6
