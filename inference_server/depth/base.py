"""The interface every depth estimator keeps.

Convention: estimators return *raw nearness*, larger = nearer, on any scale and at any
resolution; the pipeline normalises it over time to nearness in [0,1] (1 = nearest) and
resizes it to the frame. An estimator whose output is already that final nearness (an
external depth video) sets `absolute = True` and is not renormalised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import torch
import torch.nn.functional as nnf

from inference_server.colour import ColourInfo
from inference_server.packing import Planes

# The width of the small copy of each batch that the scene-cut detector and the builtin
# estimator share (FrameBatch.preview computes it once per width asked for).
PREVIEW_WIDTH = 192


def work_size(height: int, width: int, max_width: int) -> tuple[int, int]:
    """A frame's size scaled down (never up) to at most `max_width`, aspect kept."""
    w = min(max_width, width)
    return max(2, round(height * w / width)), w


def shrink(plane: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(B,H,W) plane of any dtype -> (B,*size) float32, area-averaged.

    uint8 frames go through one reused float frame, never a float copy of the batch. A
    plane much larger than `size` is point-sampled first, keeping about two samples per
    output pixel in each direction: an average over fewer pixels looks the same to the
    depth cues, at a fraction of the cost.
    """
    height, width = plane.shape[-2:]
    step = max(1, round(min(height / size[0], width / size[1]) / 2))
    sampled = plane[:, ::step, ::step]
    frame = torch.empty(sampled.shape[-2:], dtype=torch.float32, device=plane.device)
    out = torch.empty((plane.shape[0], *size), dtype=torch.float32, device=plane.device)
    for index in range(plane.shape[0]):
        frame.copy_(sampled[index])
        out[index] = nnf.adaptive_avg_pool2d(frame.view(1, 1, *frame.shape), size)[0, 0]
    return out


@dataclass
class FrameBatch:
    """Frames in display orientation, 0..255 (uint8 from the pipeline, or float), with
    scene-cut flags per frame."""

    planes: Planes
    colour: ColourInfo
    cuts: list[bool]
    _previews: dict[int, Planes] = field(default_factory=dict, repr=False)

    def preview(self, max_width: int) -> Planes:
        """The frames area-averaged to at most `max_width` (all three planes at that size),
        float 0..255; computed once per width and shared by everyone who asks."""
        cached = self._previews.get(max_width)
        if cached is None:
            height, width = self.planes.y.shape[-2:]
            size = work_size(height, width, max_width)
            planes = self.planes
            cached = Planes(*(shrink(p, size) for p in (planes.y, planes.u, planes.v)))
            self._previews[max_width] = cached
        return cached


class DepthEstimator(Protocol):
    name: str
    absolute: bool

    def reset(self) -> None:
        """Forget any history (a new video or segment starts)."""

    def estimate(self, batch: FrameBatch) -> torch.Tensor:
        """(B,h,w) raw nearness for the batch's frames."""
        ...
