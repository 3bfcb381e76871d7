"""Edge-aware (image-guided) upsampling of a depth map smaller than the frame.

Joint bilateral upsampling (Kopf et al. 2007): each frame pixel averages the 3x3 depth
samples around it, weighted by distance on the depth grid and by how close each depth
sample's own colour (the frame area-averaged to the depth grid) is to the pixel's colour.
A pixel beside an object's edge so takes the depth of the side whose colour it has, and
foreground edges land on the image's edges instead of on depth-pixel blocks.
"""

from __future__ import annotations

import torch
import torch.nn.functional as nnf

SPATIAL_SIGMA = 1.0  # in depth pixels
RANGE_SIGMA = 12.0  # in 8-bit luma levels


def guided_upsample(
    nearness: torch.Tensor, guide: torch.Tensor, range_sigma: float = RANGE_SIGMA
) -> torch.Tensor:
    """nearness (B,h,w) and guide (B,H,W) luma on 0..255 (any dtype), H >= h, W >= w ->
    nearness (B,H,W)."""
    _, h, w = nearness.shape
    height, width = guide.shape[-2:]
    if (h, w) == (height, width):
        return nearness
    dtype = nearness.dtype
    full = guide.to(dtype)
    small = nnf.adaptive_avg_pool2d(full.unsqueeze(1), (h, w)).squeeze(1)
    # Each frame pixel's position on the depth grid, its nearest depth pixel and offset.
    ys = (torch.arange(height, device=guide.device, dtype=dtype) + 0.5) * (h / height) - 0.5
    xs = (torch.arange(width, device=guide.device, dtype=dtype) + 0.5) * (w / width) - 0.5
    iy, ix = ys.round().clamp(0, h - 1).long(), xs.round().clamp(0, w - 1).long()
    fy, fx = ys - iy.to(dtype), xs - ix.to(dtype)
    padded_n = nnf.pad(nearness.unsqueeze(1), (1, 1, 1, 1), mode="replicate").squeeze(1)
    padded_g = nnf.pad(small.unsqueeze(1), (1, 1, 1, 1), mode="replicate").squeeze(1)
    total = torch.zeros_like(full)
    weights = torch.zeros_like(full)
    scale = -0.5 / (range_sigma * range_sigma)
    for dy in (-1, 0, 1):
        rows = iy + 1 + dy
        wy = torch.exp(-((fy - dy) ** 2) / (2 * SPATIAL_SIGMA**2)).view(-1, 1)
        for dx in (-1, 0, 1):
            cols = ix + 1 + dx
            wx = torch.exp(-((fx - dx) ** 2) / (2 * SPATIAL_SIGMA**2)).view(1, -1)
            n_q = padded_n[:, rows][:, :, cols]
            g_q = padded_g[:, rows][:, :, cols]
            # The floor keeps a pixel unlike all nine samples (noise) spatially weighted.
            weight = (g_q - full).square_().mul_(scale).exp_().add_(1e-4).mul_(wy * wx)
            total.add_(weight * n_q)
            weights.add_(weight)
    return total.div_(weights.clamp_min_(1e-12))
