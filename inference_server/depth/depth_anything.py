"""Depth Anything V2 through transformers (AutoModelForDepthEstimation).

Input: RGB normalised with ImageNet mean/std, resized so the short side is about
`input_size` and both sides are multiples of 14 (the ViT patch). Output: relative
inverse depth, larger = nearer, which is already the engine's raw-nearness convention.

On a GPU the network runs in fp16 on the whole batch at once. The planes are shrunk to
the network's size before the colour conversion (a 4K batch in float RGB would take
gigabytes), and conversions sharing one model on one GPU (several segments at once, see
STEREOSPOT_INFERENCE_CONCURRENCY) run its forward pass one at a time: their kernels
would queue on the device one after the other anyway, and only one batch's activations
are alive at once. A batch that still runs out of GPU memory is split in halves.
"""

from __future__ import annotations

import logging
import threading
import weakref

import torch
import torch.nn.functional as nnf

from inference_server.colour import yuv_to_rgb
from inference_server.depth.base import FrameBatch, shrink

log = logging.getLogger(__name__)

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


_forward_locks: weakref.WeakKeyDictionary[torch.nn.Module, threading.Lock] = (
    weakref.WeakKeyDictionary()
)
_locks_guard = threading.Lock()


def forward_lock(model: torch.nn.Module) -> threading.Lock:
    """The one lock of `model` that every conversion using it on a GPU takes."""
    with _locks_guard:
        lock = _forward_locks.get(model)
        if lock is None:
            lock = _forward_locks[model] = threading.Lock()
        return lock


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
        height, width = planes.y.shape[-2:]
        size = network_size(height, width, self._input_size)
        y, u, v = (_fit(p.to(self._device), size) for p in (planes.y, planes.u, planes.v))
        pixels = yuv_to_rgb(y, u, v, batch.colour).to(self._dtype)
        pixels = (pixels - self._mean) / self._std
        return self._depth(pixels).float().to(planes.y.device)

    def _depth(self, pixels: torch.Tensor) -> torch.Tensor:
        """(B,h,w) network output; halves the batch while the GPU runs out of memory."""
        try:
            if self._device.type != "cuda":
                return self._forward(pixels)
            with forward_lock(self._model):
                return self._forward(pixels)
        except torch.cuda.OutOfMemoryError:
            if pixels.shape[0] < 2:
                raise
            log.warning("depth batch of %d frames ran out of GPU memory; halving", len(pixels))
            torch.cuda.empty_cache()
            half = pixels.shape[0] // 2
            return torch.cat([self._depth(pixels[:half]), self._depth(pixels[half:])])

    def _forward(self, pixels: torch.Tensor) -> torch.Tensor:
        depth: torch.Tensor = self._model(pixel_values=pixels).predicted_depth
        return depth.squeeze(1) if depth.dim() == 4 else depth


def _fit(plane: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(B,H,W) plane -> (B,*size) float 0..255: area-averaged down, bicubic up."""
    if plane.shape[-2] >= size[0] and plane.shape[-1] >= size[1]:
        return shrink(plane, size)
    grown = nnf.interpolate(
        plane.unsqueeze(1).float(), size=size, mode="bicubic", align_corners=False
    )
    return grown.squeeze(1).clamp_(0, 255)


def prepare_model(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    model.eval().to(device)
    if device.type == "cuda":
        model.half()
    return model
