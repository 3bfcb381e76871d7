"""The view renderer's row resampling fused into one pass over each plane (CPU, numba).

`warp.ViewRenderer.resample` does the rounded 8-bit fixed-point lerp with whole-tensor
torch ops: packed taps per frame, then per eye an index, a weight, a gather, a
multiply-add, two shifts and a copy, each a pass over a full-size int32 buffer. On a CPU
that is most of the engine's work per frame. Here the same arithmetic,
(s[i] * 256 + 128 + (s[i+1] - s[i]) * frac) >> 8 with s[i+1] clamped at the last column,
runs as one compiled loop reading the uint8 plane and writing the uint8 view: the same
bytes (tests/unit/engine/test_fused_resample.py), a fraction of the memory traffic. It
releases the GIL, so the decoder and encoder threads run meanwhile.

numba is optional: without it (or on a GPU, or for planes of more than 8 bits) the torch
path runs. The compiled kernel is cached on disk by numba after the first run.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import torch

from inference_server.warp import FRACTION_BITS

log = logging.getLogger(__name__)

# plane, positions, out, rows sharing a row of positions, position row step, column
# step, right shift of the positions (chroma reads the luma positions, halved)
Kernel = Callable[[Any, Any, Any, int, int, int, int], None]


@functools.cache
def _kernel() -> Kernel | None:
    try:
        import numba
    except ImportError:  # optional: the torch path runs instead
        log.debug("numba is not installed; resampling with torch ops")
        return None
    bits = FRACTION_BITS
    one = 1 << bits
    mask = one - 1
    half = one // 2

    def lerp_rows(
        plane: Any, positions: Any, out: Any, share: int, row_step: int, col_step: int, shift: int
    ) -> None:
        channels, height, width = plane.shape
        last = width - 1
        top = last << bits
        for c in range(channels):
            for y in range(height):
                pos = positions[(y // share) * row_step]
                src = plane[c, y]
                dst = out[c, y]
                for x in range(width):
                    p = min(max(pos[x * col_step] >> shift, 0), top)  # never outside the row
                    i = p >> bits
                    j = i + 1 if i < last else last
                    s0 = numba.int32(src[i])
                    dst[x] = (s0 * one + half + (numba.int32(src[j]) - s0) * (p & mask)) >> bits

    try:  # compiled once, then loaded from numba's on-disk cache
        kernel: Kernel = numba.njit(cache=True, nogil=True, boundscheck=False)(lerp_rows)
    except RuntimeError:  # no writable cache location: compile in each process
        kernel = numba.njit(nogil=True, boundscheck=False)(lerp_rows)
    return kernel


def available(plane: torch.Tensor) -> bool:
    """Whether the fused kernel serves this plane (uint8 on a CPU, numba installed)."""
    return plane.device.type == "cpu" and plane.dtype == torch.uint8 and _kernel() is not None


def _run(plane: torch.Tensor, positions: torch.Tensor, out: torch.Tensor, *steps: int) -> None:
    kernel = _kernel()
    assert kernel is not None, "check available() first"
    share, row_step, col_step, shift = steps
    kernel(plane.numpy(), positions.numpy(), out.numpy(), share, row_step, col_step, shift)


def resample_rows(plane: torch.Tensor, positions: torch.Tensor, out: torch.Tensor) -> None:
    """Row-wise lerp of uint8 `plane` (C,H,W) at fixed-point `positions` (rows,W) int32
    (each row serves H/rows consecutive rows) into uint8 `out` (C,H,W, any strides):
    byte for byte what ViewRenderer.resample writes from the plane's packed taps."""
    _run(plane, positions, out, plane.shape[1] // positions.shape[0], 1, 1, 0)


def resample_chroma(
    chroma: torch.Tensor,
    luma_positions: torch.Tensor,
    out: torch.Tensor,
    frame_height: int,
    chroma_shift: int = 1,
) -> None:
    """The chroma planes (2,Hc,Wc) at the luma positions (rows,W) of a frame
    `frame_height` high, as ViewRenderer.chroma_positions maps them (every other row
    and column, halved, for 4:2:0; the same positions for 4:4:4), into `out`."""
    if chroma_shift == 0:
        resample_rows(chroma, luma_positions, out)
        return
    row_step = 2 * luma_positions.shape[0] // frame_height
    _run(chroma, luma_positions, out, 1, row_step, 2, 1)
