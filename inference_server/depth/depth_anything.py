"""Depth Anything V2 through transformers (AutoModelForDepthEstimation).

Input: RGB normalised with ImageNet mean/std, resized so the short side is about
`input_size` and both sides are multiples of 14 (the ViT patch). Output: relative
inverse depth, larger = nearer, which is already the engine's raw-nearness convention.
"""

from __future__ import annotations

import torch
import torch.nn.functional as nnf

from inference_server.colour import yuv_to_rgb
from inference_server.depth.base import FrameBatch

_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)
PATCH = 14
INPUT_SIZE = 518  # short side fed to the network, as Depth Anything V2 was trained


def network_size(height: int, width: int, short_side: int) -> tuple[int, int]:
    """Aspect-preserving size with the short side near `short_side`, multiples of 14."""
    scale = short_side / min(height, width)
    h = max(PATCH, round(height * scale / PATCH) * PATCH)
    w = max(PATCH, round(width * scale / PATCH) * PATCH)
    return h, w


class DepthAnythingDepth:
    absolute = False

    def __init__(
        self, model: torch.nn.Module, device: torch.device, name: str, input_size: int | None = None
    ) -> None:
        self.name = name
        self._model = model
        self._device = device
        self._input_size = input_size or INPUT_SIZE
        self._dtype = torch.float16 if device.type == "cuda" else torch.float32
        self._mean = torch.tensor(_MEAN, device=device, dtype=self._dtype).view(1, 3, 1, 1)
        self._std = torch.tensor(_STD, device=device, dtype=self._dtype).view(1, 3, 1, 1)

    def reset(self) -> None:
        """Stateless: every frame is estimated on its own."""

    def estimate(self, batch: FrameBatch) -> torch.Tensor:
        planes = batch.planes
        y, u, v = (p.float() for p in (planes.y, planes.u, planes.v))
        rgb = yuv_to_rgb(y, u, v, batch.colour)
        size = network_size(rgb.shape[-2], rgb.shape[-1], self._input_size)
        pixels = nnf.interpolate(rgb, size=size, mode="bicubic", align_corners=False)
        pixels = pixels.to(self._device, self._dtype).clamp_(0, 1)
        pixels = (pixels - self._mean) / self._std
        output = self._model(pixel_values=pixels)
        depth: torch.Tensor = output.predicted_depth
        if depth.dim() == 4:
            depth = depth.squeeze(1)
        return depth.float().to(planes.y.device)


def prepare_model(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    model.eval().to(device)
    if device.type == "cuda":
        model.half()
    return model
