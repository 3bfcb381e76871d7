"""The interface every depth estimator keeps.

Convention: estimators return *raw nearness*, larger = nearer, on any scale and at any
resolution; the pipeline normalises it over time to nearness in [0,1] (1 = nearest) and
resizes it to the frame. An estimator whose output is already that final nearness (an
external depth video) sets `absolute = True` and is not renormalised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch

from inference_server.colour import ColourInfo
from inference_server.packing import Planes


@dataclass
class FrameBatch:
    """Frames in display orientation, float 0..255, with scene-cut flags per frame."""

    planes: Planes
    colour: ColourInfo
    cuts: list[bool]


class DepthEstimator(Protocol):
    name: str
    absolute: bool

    def reset(self) -> None:
        """Forget any history (a new video or segment starts)."""

    def estimate(self, batch: FrameBatch) -> torch.Tensor:
        """(B,h,w) raw nearness for the batch's frames."""
        ...
