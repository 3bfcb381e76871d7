"""How a batch of frames is laid out in memory: planar YUV, 4:2:0 or 4:4:4, 8 or 10 bit.

One array per frame, shape (rows(H), W): the Y plane (H rows), then U, then V, each
chroma plane stored contiguously (for 4:2:0 each is (H/2)*(W/2) values, so the pair
takes H/2 rows of W; for 4:4:4 each takes H rows). "I420" is the 8-bit 4:2:0 case, the
layout PyAV uses for yuv420p. 10-bit samples are kept in int16 (0..1023): torch has no
full uint16 support, and the values fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from stereospot.domain.formats import ConversionSettings, PixelFormat

HDR_TRANSFERS = (16, 18)  # AVCOL_TRC_SMPTE2084 (PQ), AVCOL_TRC_ARIB_STD_B67 (HLG)


@dataclass(frozen=True)
class PlaneLayout:
    pix_fmt: str = "yuv420p"  # yuv420p | yuv444p | yuv420p10le | yuv444p10le

    @property
    def chroma_shift(self) -> int:
        """log2 of the chroma subsampling in each direction: 1 for 4:2:0, 0 for 4:4:4."""
        return 0 if "444" in self.pix_fmt else 1

    @property
    def bits(self) -> int:
        return 10 if "10" in self.pix_fmt else 8

    @property
    def max_value(self) -> int:
        return (1 << self.bits) - 1

    @property
    def numpy_dtype(self) -> type[np.generic]:
        return np.uint8 if self.bits == 8 else np.int16

    @property
    def torch_dtype(self) -> torch.dtype:
        return torch.uint8 if self.bits == 8 else torch.int16

    def rows(self, height: int) -> int:
        shift = self.chroma_shift
        return height + ((2 * (height >> shift)) >> shift)

    def height(self, rows: int) -> int:
        return rows * 2 // 3 if self.chroma_shift else rows // 3

    def split(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, rows, W) -> views: y (B,H,W) and the chroma pair uv (B,2,Hc,Wc)."""
        height, width = self.height(frames.shape[-2]), frames.shape[-1]
        shift = self.chroma_shift
        chroma = frames[:, height:].reshape(-1, 2, height >> shift, width >> shift)
        return frames[:, :height], chroma


I420 = PlaneLayout("yuv420p")


def output_layout(settings: ConversionSettings, transfer: int, bits: int = 8) -> PlaneLayout:
    """The layout a conversion works in and writes: the chosen pixel format (auto:
    yuv420p, or 10-bit 4:2:0 for a PQ/HLG or more-than-8-bit source); lossless is always
    4:4:4."""
    fmt = settings.pixel_format
    if fmt is PixelFormat.AUTO:
        wide = transfer in HDR_TRANSFERS or bits > 8
        fmt = PixelFormat.YUV420P10LE if wide else PixelFormat.YUV420P
    ten_bit = fmt is PixelFormat.YUV420P10LE
    if settings.lossless:
        return PlaneLayout("yuv444p10le" if ten_bit else "yuv444p")
    return PlaneLayout(fmt.value)
