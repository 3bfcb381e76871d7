"""YUV <-> RGB, following the source's matrix and range.

The engine works on YUV planes so that side-by-side and top-bottom outputs never go
through a colour conversion (no matrix mix-ups, no rounding loss). RGB is only needed for
anaglyphs and for neural depth models. Integer frames (the video pipeline's anaglyphs) are
converted by FFmpeg's swscale (PyAV `reformat`: planes_to_rgb, rgb_to_planes); the torch
matrices below serve float planes (stills, the depth models' small previews, on any
device).
"""

from __future__ import annotations

from dataclasses import dataclass

import av
import numpy as np
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


# swscale's coefficient tables by FFmpeg matrix code (SWS_CS_*): BT.709, BT.2020, else 601.
_SWS_MATRIX = {_BT709: 1, 9: 9, 10: 9}
_SWS_601 = 5
_LIMITED, _FULL = 1, 2  # AVCOL_RANGE_MPEG, AVCOL_RANGE_JPEG


def _sws(colour: ColourInfo) -> tuple[int, int]:
    return _SWS_MATRIX.get(colour.matrix, _SWS_601), _FULL if colour.full_range else _LIMITED


def _rgb_format(bits: int) -> str:
    return "rgb24" if bits <= 8 else "rgb48le"


def planes_to_rgb(
    planes: tuple[np.ndarray, np.ndarray, np.ndarray], pix_fmt: str, colour: ColourInfo
) -> np.ndarray:
    """One frame's Y, U, V planes (uint8, or int16/uint16 holding 10-bit samples) in
    `pix_fmt` -> packed RGB (H,W,3), uint8 (rgb24) or uint16 (rgb48), by swscale."""
    height, width = planes[0].shape
    frame = av.VideoFrame(width, height, pix_fmt)
    for index, source in enumerate(planes):
        plane = frame.planes[index]
        dtype = np.uint8 if source.dtype == np.uint8 else np.uint16
        rows = np.frombuffer(memoryview(plane), dtype=dtype)
        rows.reshape(-1, plane.line_size // rows.itemsize)[: plane.height, : plane.width] = source
    matrix, value_range = _sws(colour)
    bits = 8 if planes[0].dtype == np.uint8 else 16
    return frame.to_ndarray(format=_rgb_format(bits), src_colorspace=matrix,
                            src_color_range=value_range)  # fmt: skip


def rgb_to_planes(
    rgb: np.ndarray, pix_fmt: str, colour: ColourInfo
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """planes_to_rgb's inverse: packed RGB (H,W,3) uint8/uint16 -> Y, U, V in `pix_fmt`."""
    matrix, value_range = _sws(colour)
    frame = av.VideoFrame.from_ndarray(rgb, format=_rgb_format(rgb.dtype.itemsize * 8))
    out = frame.reformat(format=pix_fmt, dst_colorspace=matrix, dst_color_range=value_range)
    dtype = np.uint8 if "10" not in pix_fmt else np.uint16
    result = []
    for plane in out.planes:
        rows = np.frombuffer(memoryview(plane), dtype=dtype)
        grid = rows.reshape(-1, plane.line_size // rows.itemsize)
        result.append(grid[: plane.height, : plane.width])
    return result[0], result[1], result[2]
