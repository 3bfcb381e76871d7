"""Packing the two eyes into one output frame, on YUV 4:2:0 planes (0..255).

Planes are uint8 in the video pipeline and float elsewhere (stills, tests); packing keeps
the dtype it is given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as nnf

from inference_server.colour import (
    ColourInfo,
    planes_to_rgb,
    rgb_to_planes,
    rgb_to_yuv,
    yuv_to_rgb,
)
from inference_server.layout import I420, PlaneLayout
from stereospot.domain.formats import StereoFormat


@dataclass
class Planes:
    """A batch of 4:2:0 frames: y (B,H,W), u and v (B,H/2,W/2), uint8 or float."""

    y: torch.Tensor
    u: torch.Tensor
    v: torch.Tensor


def output_size(fmt: StereoFormat, width: int, height: int) -> tuple[int, int]:
    if fmt in (StereoFormat.FULL_SBS, StereoFormat.CROSS_EYED):
        return 2 * width, height
    if fmt is StereoFormat.FULL_TB:
        return width, 2 * height
    return width, height


def _cat(a: Planes, b: Planes, dim: int) -> Planes:
    y, u, v = (torch.cat(pair, dim) for pair in ((a.y, b.y), (a.u, b.u), (a.v, b.v)))
    return Planes(y, u, v)


def _halve(planes: Planes, horizontal: bool) -> Planes:
    kernel = (1, 2) if horizontal else (2, 1)

    def pool(p: torch.Tensor) -> torch.Tensor:
        if p.is_floating_point():
            return nnf.avg_pool2d(p.unsqueeze(1), kernel).squeeze(1)
        a, b = (p[..., ::2], p[..., 1::2]) if horizontal else (p[..., ::2, :], p[..., 1::2, :])
        total = a.to(torch.int16) + b.to(torch.int16) + 1
        return total.bitwise_right_shift_(1).to(p.dtype)

    return Planes(pool(planes.y), pool(planes.u), pool(planes.v))


# Dubois least-squares red-cyan matrices (rows: output R,G,B; columns: input R,G,B).
DUBOIS_LEFT = torch.tensor(
    [[0.437, 0.449, 0.164], [-0.062, -0.062, -0.024], [-0.048, -0.050, -0.017]]
)
DUBOIS_RIGHT = torch.tensor(
    [[-0.011, -0.032, -0.007], [0.377, 0.761, 0.009], [-0.026, -0.093, 1.234]]
)


def _anaglyph(
    left: Planes, right: Planes, colour: ColourInfo, dubois: bool, layout: PlaneLayout = I420
) -> Planes:
    if not left.y.is_floating_point() and left.y.device.type == "cpu":
        return _anaglyph_swscale(left, right, colour, dubois, layout)
    scale = layout.max_value / 255.0  # the colour maths works on 8-bit levels

    def rgb(p: Planes) -> torch.Tensor:
        return yuv_to_rgb(p.y.float() / scale, p.u.float() / scale, p.v.float() / scale, colour)

    l_rgb, r_rgb = rgb(left), rgb(right)
    if dubois:
        ml = DUBOIS_LEFT.to(l_rgb.device, l_rgb.dtype)
        mr = DUBOIS_RIGHT.to(l_rgb.device, l_rgb.dtype)
        mixed = torch.einsum("oc,bchw->bohw", ml, l_rgb) + torch.einsum("oc,bchw->bohw", mr, r_rgb)
    else:
        mixed = torch.cat([l_rgb[:, :1], r_rgb[:, 1:]], dim=1)
    planes = [p * scale for p in rgb_to_yuv(mixed.clamp(0.0, 1.0), colour, layout.chroma_shift)]
    if left.y.is_floating_point():
        return Planes(*planes)
    top = layout.max_value
    return Planes(*(p.round().clamp_(0, top).to(left.y.dtype) for p in planes))


def _anaglyph_swscale(
    left: Planes, right: Planes, colour: ColourInfo, dubois: bool, layout: PlaneLayout
) -> Planes:
    """_anaglyph on integer planes, frame by frame: YUV <-> RGB by FFmpeg's swscale (8-bit
    RGB for 8-bit planes, 16-bit for 10-bit ones), the eyes mixed in between."""
    out = Planes(torch.empty_like(left.y), torch.empty_like(left.u), torch.empty_like(left.v))
    ml, mr = DUBOIS_LEFT.numpy().T, DUBOIS_RIGHT.numpy().T
    for index in range(left.y.shape[0]):
        l_rgb, r_rgb = (
            planes_to_rgb(_frame_planes(e, index), layout.pix_fmt, colour) for e in (left, right)
        )
        if dubois:
            top = float(np.iinfo(l_rgb.dtype).max)
            mixed = l_rgb.astype(np.float32) @ ml + r_rgb.astype(np.float32) @ mr
            rgb = np.clip(mixed + 0.5, 0.0, top).astype(l_rgb.dtype)
        else:
            rgb = np.concatenate([l_rgb[..., :1], r_rgb[..., 1:]], axis=-1)
        planes = rgb_to_planes(rgb, layout.pix_fmt, colour)
        for target, source in zip((out.y, out.u, out.v), planes, strict=True):
            target[index].copy_(torch.from_numpy(source.astype(target.numpy().dtype)))
    return out


def _frame_planes(planes: Planes, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return planes.y[index].numpy(), planes.u[index].numpy(), planes.v[index].numpy()


def depth_planes(nearness: torch.Tensor, colour: ColourInfo, layout: PlaneLayout = I420) -> Planes:
    """Grayscale depth video, white = near, in the stream's range and bit depth."""
    scale = (layout.max_value + 1) / 256.0
    y = nearness * 255.0 if colour.full_range else nearness * 219.0 + 16.0
    y = y * (layout.max_value / 255.0 if colour.full_range else scale)
    shift = layout.chroma_shift
    h, w = y.shape[-2] >> shift, y.shape[-1] >> shift
    grey = torch.full((y.shape[0], h, w), 128.0 * scale, device=y.device, dtype=y.dtype)
    return Planes(y, grey, grey.clone())


def pack(
    fmt: StereoFormat,
    left: Planes,
    right: Planes,
    colour: ColourInfo,
    layout: PlaneLayout = I420,
) -> Planes:
    if fmt is StereoFormat.FULL_SBS:
        return _cat(left, right, -1)
    if fmt is StereoFormat.CROSS_EYED:
        return _cat(right, left, -1)
    if fmt is StereoFormat.HALF_SBS:
        return _halve(_cat(left, right, -1), horizontal=True)
    if fmt is StereoFormat.FULL_TB:
        return _cat(left, right, -2)
    if fmt is StereoFormat.HALF_TB:
        return _halve(_cat(left, right, -2), horizontal=False)
    if fmt is StereoFormat.ANAGLYPH:
        return _anaglyph(left, right, colour, dubois=True, layout=layout)
    if fmt is StereoFormat.ANAGLYPH_COLOR:
        return _anaglyph(left, right, colour, dubois=False, layout=layout)
    raise ValueError(f"{fmt} is not a two-eye format")
