"""YUV <-> RGB in torch, following the source's matrix and range.

The engine works on YUV 4:2:0 planes so that side-by-side and top-bottom outputs never go
through a colour conversion (no matrix mix-ups, no rounding loss). RGB is only needed for
anaglyphs and for neural depth models.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as nnf

# FFmpeg AVColorSpace values we distinguish; everything else is treated as BT.601.
_BT709 = 1
_BT2020 = (9, 10)
_FULL_RANGE = 2  # AVCOL_RANGE_JPEG


@dataclass(frozen=True)
class ColourInfo:
    """The colour metadata of a stream (FFmpeg enum values), carried to the output."""

    primaries: int = 2  # unspecified
    trc: int = 2
    matrix: int = 2
    range: int = 0  # unspecified -> limited

    @property
    def full_range(self) -> bool:
        return self.range == _FULL_RANGE


def _kr_kb(matrix: int) -> tuple[float, float]:
    if matrix == _BT709:
        return 0.2126, 0.0722
    if matrix in _BT2020:
        return 0.2627, 0.0593
    return 0.299, 0.114


def yuv_to_rgb(
    y: torch.Tensor, u: torch.Tensor, v: torch.Tensor, colour: ColourInfo
) -> torch.Tensor:
    """Planes as float in [0,255] (B,H,W) and (B,H/2,W/2) -> RGB (B,3,H,W) in [0,1]."""
    chroma = nnf.interpolate(
        torch.stack([u, v], dim=1), size=y.shape[-2:], mode="bilinear", align_corners=False
    )
    u_full, v_full = chroma[:, :1], chroma[:, 1:]
    if colour.full_range:
        luma = y.unsqueeze(1) / 255.0
        cb = (u_full - 128.0) / 255.0
        cr = (v_full - 128.0) / 255.0
    else:
        luma = (y.unsqueeze(1) - 16.0) / 219.0
        cb = (u_full - 128.0) / 224.0
        cr = (v_full - 128.0) / 224.0
    kr, kb = _kr_kb(colour.matrix)
    kg = 1.0 - kr - kb
    r = luma + 2.0 * (1.0 - kr) * cr
    b = luma + 2.0 * (1.0 - kb) * cb
    g = (luma - kr * r - kb * b) / kg
    return torch.cat([r, g, b], dim=1).clamp_(0.0, 1.0)


def rgb_to_yuv(
    rgb: torch.Tensor, colour: ColourInfo, chroma_shift: int = 1
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """RGB (B,3,H,W) in [0,1] -> planes as float in [0,255], chroma subsampled 2x2
    (chroma_shift 1) or at full resolution (0)."""
    kr, kb = _kr_kb(colour.matrix)
    kg = 1.0 - kr - kb
    r, g, b = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    luma = kr * r + kg * g + kb * b
    cb = (b - luma) / (2.0 * (1.0 - kb))
    cr = (r - luma) / (2.0 * (1.0 - kr))
    if colour.full_range:
        y, u, v = luma * 255.0, cb * 255.0 + 128.0, cr * 255.0 + 128.0
    else:
        y, u, v = luma * 219.0 + 16.0, cb * 224.0 + 128.0, cr * 224.0 + 128.0
    if chroma_shift:
        u = nnf.avg_pool2d(u.unsqueeze(1), 2).squeeze(1)
        v = nnf.avg_pool2d(v.unsqueeze(1), 2).squeeze(1)
    return y, u, v
