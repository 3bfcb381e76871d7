"""A tiny clip the inference server converts once at start, so its first request is warm."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def write_warmup_clip(path: Path, frames: int = 8, width: int = 64, height: int = 48) -> Path:
    """A short H.264 clip (a moving gradient) at `path`."""
    ramp = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(12))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(frames):
            image = np.broadcast_to((ramp + index * 8) % 256, (height, width, 3))
            frame = av.VideoFrame.from_ndarray(image.astype(np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path
