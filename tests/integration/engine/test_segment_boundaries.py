"""Segments converted with warm-up join into the same frames as a one-pass conversion."""

from __future__ import annotations

import math
from pathlib import Path

import av
import numpy as np

from inference_server.api import EngineOptions, convert_video
from stereospot.adapters.media.pyav_toolkit import PyAVToolkit
from stereospot.domain.formats import ConversionSettings, StereoFormat
from tests.media_clips import make_clip

LOSSLESS = EngineOptions(crf=0, batch_size=4)
SETTINGS = ConversionSettings(depth_model="builtin", divergence=4.0)


def decode(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="yuv420p") for f in container.decode(video=0)]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * math.log10(255.0**2 / mse)


def test_chunked_equals_one_pass_after_each_boundary(tmp_path: Path) -> None:
    fps = 12
    source = make_clip(tmp_path / "src.mp4", seconds=4.0, fps=fps, width=128, height=72,
                       audio=False, gop=fps)  # fmt: skip
    segments = PyAVToolkit().split(source, tmp_path / "segments", 1.0)
    assert len(segments) >= 3

    one_pass = tmp_path / "one.mp4"
    convert_video(source, one_pass, output_format=StereoFormat.HALF_SBS, settings=SETTINGS,
                  options=LOSSLESS)  # fmt: skip
    whole = decode(one_pass)

    joined: list[np.ndarray] = []
    boundaries: list[int] = []
    previous: Path | None = None
    for segment in segments:
        out = tmp_path / f"out_{segment.path.stem}.mp4"
        convert_video(segment.path, out, output_format=StereoFormat.HALF_SBS, settings=SETTINGS,
                      options=LOSSLESS, warmup_path=previous)  # fmt: skip
        boundaries.append(len(joined))
        joined.extend(decode(out))
        previous = segment.path
    assert len(joined) == len(whole)

    for start in boundaries[1:]:
        first_second = range(start, min(start + fps, len(whole)))
        mean_psnr = np.mean([psnr(joined[i], whole[i]) for i in first_second])
        assert mean_psnr >= 45.0, f"boundary at frame {start}: {mean_psnr:.1f} dB"


def test_without_warm_up_a_boundary_would_show(tmp_path: Path) -> None:
    """Guards the test above: the warm-up is what makes the frames agree."""
    fps = 12
    source = make_clip(tmp_path / "src.mp4", seconds=2.0, fps=fps, width=128, height=72,
                       audio=False, gop=fps)  # fmt: skip
    segments = PyAVToolkit().split(source, tmp_path / "segments", 1.0)
    one_pass = tmp_path / "one.mp4"
    convert_video(source, one_pass, output_format=StereoFormat.HALF_SBS, settings=SETTINGS,
                  options=LOSSLESS)  # fmt: skip
    cold = tmp_path / "cold.mp4"
    convert_video(segments[1].path, cold, output_format=StereoFormat.HALF_SBS,
                  settings=SETTINGS, options=LOSSLESS)  # fmt: skip
    start = len(decode(segments[0].path))
    whole, cold_frames = decode(one_pass), decode(cold)
    worst = min(psnr(cold_frames[i], whole[start + i]) for i in range(3))
    assert worst < 45.0  # without the warm-up the boundary is visible
