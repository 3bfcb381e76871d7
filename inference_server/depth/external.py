"""Depth from a user-supplied depth video (grey, white = near), frame by frame."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import torch
import torch.nn.functional as nnf

from inference_server.depth.base import FrameBatch, shrink
from inference_server.synthesis import warp_size
from inference_server.upsample import guided_upsample
from inference_server.video_io import DecodedFrame, decode_frames, probe_source
from stereospot.domain.errors import MediaError


class ExternalDepth:
    name = "external"
    absolute = True

    def __init__(self, path: Path) -> None:
        self._path = path
        self._source = probe_source(path)
        self._frames: Iterator[DecodedFrame] | None = None

    def reset(self) -> None:
        self._frames = decode_frames(self._path, self._source)

    def estimate(self, batch: FrameBatch) -> torch.Tensor:
        if self._frames is None:
            self.reset()
        assert self._frames is not None
        y = batch.planes.y
        lumas = []
        for _ in range(y.shape[0]):
            frame = next(self._frames, None)
            if frame is None:
                raise MediaError(
                    f"The depth video {self._path.name} has fewer frames than the input video."
                )
            lumas.append(torch.from_numpy(frame.i420[: self._source.height]))
        depth = torch.stack(lumas).to(y.device, torch.float32)
        k = self._source.rotation // 90
        if k:
            depth = torch.rot90(depth, k, dims=(-2, -1))
        nearness = depth / 255.0 if self._source.colour.full_range else (depth - 16.0) / 219.0
        if nearness.shape[-2:] != y.shape[-2:]:
            grid = warp_size(y.shape[-2], y.shape[-1])
            if nearness.shape[-2] <= grid[0] and nearness.shape[-1] <= grid[1]:
                # Straight to the grid the warp runs on (no larger), with the edges on
                # the frame's edges (planes are on 8-bit levels, see pipeline).
                nearness = guided_upsample(nearness, shrink(y, grid))
            elif nearness.shape[-2] <= y.shape[-2] and nearness.shape[-1] <= y.shape[-1]:
                nearness = guided_upsample(nearness, y)
            else:
                nearness = nnf.interpolate(
                    nearness.unsqueeze(1), size=y.shape[-2:], mode="area"
                ).squeeze(1)
        return nearness.clamp_(0.0, 1.0)
