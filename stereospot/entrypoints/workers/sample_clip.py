"""A short sample clip for `stereospot demo`, made with PyAV (no files or network needed).

A scene with depth cues a viewer and a depth estimator can both use: a sky gradient, a
textured ground that recedes towards the horizon, and a ball rolling across in front.
A keyframe every second lets the pipeline split it into several segments; a stereo tone
is the audio the result must keep.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray

_AUDIO_RATE = 48_000


def _background(width: int, height: int) -> NDArray[np.float32]:
    rows = np.arange(height, dtype=np.float32)[:, None]
    cols = np.arange(width, dtype=np.float32)[None, :]
    horizon = height * 0.4
    sky = np.stack(
        np.broadcast_arrays(
            90 + 60 * rows / horizon, 140 + 60 * rows / horizon, np.full_like(rows, 235.0)
        ),
        axis=-1,
    )
    # Ground: a checkerboard in perspective, its squares shrinking towards the horizon.
    below = np.maximum(rows - horizon, 1.0)
    depth = height / below
    u = (cols - width / 2) / below * 8
    checker = ((np.floor(u) + np.floor(depth * 2)) % 2).astype(np.float32)
    shade = np.clip(below / (height - horizon), 0.3, 1.0)
    ground = np.stack(
        [(60 + 80 * checker) * shade, (110 + 70 * checker) * shade, (50 + 30 * checker) * shade],
        axis=-1,
    )
    frame = np.where((rows < horizon)[..., None], sky, ground)
    return np.broadcast_to(frame, (height, width, 3)).astype(np.float32)


def _frame(index: int, count: int, background: NDArray[np.float32]) -> NDArray[np.uint8]:
    height, width, _ = background.shape
    frame = background.copy()
    t = index / max(1, count - 1)
    radius = height * 0.16
    cx, cy = width * (0.15 + 0.7 * t), height * 0.72
    rows = np.arange(height, dtype=np.float32)[:, None]
    cols = np.arange(width, dtype=np.float32)[None, :]
    dist = np.sqrt((cols - cx) ** 2 + (rows - cy) ** 2)
    inside = dist < radius
    light = np.clip(1.2 - dist / radius * 0.6, 0.4, 1.2)
    ball = np.stack([230 * light, 80 * light, 60 * light], axis=-1)
    frame[inside] = ball[inside]
    return np.clip(frame, 0, 255).astype(np.uint8)


def write_sample_clip(
    path: Path, *, seconds: float = 6.0, width: int = 320, height: int = 180, fps: int = 24
) -> Path:
    """Write the clip (H.264 + AAC in MP4) to `path` and return it."""
    count = max(1, round(seconds * fps))
    background = _background(width, height)
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream(
            "libx264",
            rate=fps,
            options={"preset": "veryfast", "x264-params": f"keyint={fps}:scenecut=0"},
        )
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = out.add_stream("aac", rate=_AUDIO_RATE)
        audio.layout = "stereo"
        for i in range(count):
            frame = av.VideoFrame.from_ndarray(_frame(i, count, background), format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        _write_tone(out, audio, count / fps)
    return path


def _write_tone(out: av.container.OutputContainer, stream: av.AudioStream, seconds: float) -> None:
    total = round(seconds * _AUDIO_RATE)
    chunk = 1024
    for start in range(0, total, chunk):
        n = min(chunk, total - start)
        t = np.arange(start, start + n, dtype=np.float32) / _AUDIO_RATE
        left, right = np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 550 * t)
        samples = (np.stack([left, right], axis=1) * 0.2).astype(np.float32).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="flt", layout="stereo")
        frame.sample_rate = _AUDIO_RATE
        frame.pts = start
        frame.time_base = Fraction(1, _AUDIO_RATE)
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))
