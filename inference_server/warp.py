"""Rendering views at full resolution from uint8 planes: the engine's hot loop.

The z-buffer warp (synthesis.source_columns) runs on the depth map's own grid, which is
small for the builtin estimator. Its result, a source column per depth pixel, becomes a
source column for every pixel of every plane here, and each row is resampled with linear
interpolation in 8-bit fixed point:

- the source columns are resampled onto a grid that spans the frame corner to corner
  (`position_grid`), so the bilinear upsample to full size needs no clamp and leaves no
  smear at the borders;
- a pixel's two taps are packed once per frame into one int32,
  g = (s[x] << 8) + 128 + (d << 16) with d = s[x+1] - s[x], so a single gather fetches
  both, and (g + (g >> 16) * (frac - 65536)) >> 8 = (s[x] * 256 + 128 + d * frac) >> 8
  is the rounded lerp in 8-bit fixed point;
- chroma takes the luma positions at every other row and column, halved;
- with a depth map of at most half the frame's rows, row pairs share their positions
  (see rows_per_position), which halves the per-pixel position work;
- every full-size buffer is allocated once per frame size and reused: on a CPU, a fresh
  multi-megabyte tensor per op costs more in page faults than the op itself.
"""

from __future__ import annotations

import torch
import torch.nn.functional as nnf

FRACTION_BITS = 8
_ONE = 1 << FRACTION_BITS
_STEP_SHIFT = 16  # where a packed tap pair keeps its difference


def rows_per_position(depth_height: int, frame_height: int) -> int:
    """2 (row pairs share their source columns) when the depth map has at most half the
    frame's rows: its displacement then has no vertical detail a single row could show,
    and the per-pixel position work halves. 1 otherwise (full-resolution depth)."""
    return 2 if 2 * depth_height <= frame_height and frame_height % 2 == 0 else 1


def position_grid(
    columns: torch.Tensor, height: int, width: int, rows_per_position: int = 1
) -> torch.Tensor:
    """Source columns (B,h,w), in frame pixels, measured at the depth map's pixel centres
    -> the same at an (h,w) grid spanning the frame: its corners are the corner pixels
    (rows: the centres of the corner row groups when rows share positions)."""
    _, h, w = columns.shape
    device, dtype = columns.device, columns.dtype
    if (h, w) == (height, width) and rows_per_position == 1:
        return columns.clamp(0, width - 1)
    margin = (rows_per_position - 1) / 2
    xs = torch.linspace(0.0, width - 1.0, w, device=device, dtype=dtype)
    ys = torch.linspace(margin, height - 1.0 - margin, h, device=device, dtype=dtype)
    # grid_sample (align_corners=False) puts the map's edges at the frame's edges.
    gx = (2.0 * xs + 1.0) / width - 1.0
    gy = (2.0 * ys + 1.0) / height - 1.0
    grid = torch.stack([gx.view(1, w).expand(h, w), gy.view(h, 1).expand(h, w)], dim=-1)
    centres = (torch.arange(w, device=device, dtype=dtype) + 0.5) * (width / w) - 0.5
    displacement = (columns - centres).unsqueeze(1)
    resampled = nnf.grid_sample(
        displacement,
        grid.expand(columns.shape[0], h, w, 2),
        mode="bilinear",
        padding_mode="border",
        align_corners=False,
    ).squeeze(1)
    return (xs + resampled).clamp_(0, width - 1)


class ViewRenderer:
    """Resamples the rows of uint8 planes at fractional source columns, into any view.

    One renderer serves one video: its buffers are kept between frames.
    """

    def __init__(self) -> None:
        self._buffers: dict[tuple[str, tuple[int, ...], torch.dtype, str], torch.Tensor] = {}

    def buffer(
        self, name: str, shape: tuple[int, ...], dtype: torch.dtype, device: torch.device
    ) -> torch.Tensor:
        """A named scratch tensor, created on first use and reused afterwards."""
        key = (name, shape, dtype, str(device))
        buffer = self._buffers.get(key)
        if buffer is None:
            buffer = torch.empty(shape, dtype=dtype, device=device)
            self._buffers[key] = buffer
        return buffer

    def taps(self, plane: torch.Tensor, name: str) -> torch.Tensor:
        """(C,H,W) uint8 -> (C,H,W) int32: both interpolation taps of each pixel, packed."""
        shape = tuple(plane.shape)
        packed = self.buffer(name + ".taps", shape, torch.int32, plane.device)
        step = self.buffer("step", shape, torch.int32, plane.device)
        packed.copy_(plane)
        step[..., :-1].copy_(plane[..., 1:])
        step[..., -1:].copy_(plane[..., -1:])
        step.sub_(packed)
        torch.add(packed, step, alpha=1 << (_STEP_SHIFT - FRACTION_BITS), out=packed)
        return packed.mul_(_ONE).add_(_ONE // 2)

    def positions(self, grid: torch.Tensor, rows: int, width: int) -> torch.Tensor:
        """(h,w) source columns from position_grid -> (rows,W) int32 with FRACTION_BITS
        fractional bits; rows = frame height / rows_per_position.

        Upsampling is linear between grid points, so where a view runs off the frame
        (columns clamped at an edge) the last grid cell is squeezed rather than cut.
        """
        # + 0.5: the conversion below truncates, and the fraction should be rounded.
        scaled = (grid.float() * _ONE + 0.5).view(1, 1, *grid.shape)
        # Separable: rows first (on the narrow grid), then a 2-tap pass along each row.
        tall = nnf.interpolate(scaled, size=(rows, grid.shape[-1]), mode="bilinear",
                               align_corners=True)  # fmt: skip
        up = self.buffer("up", (rows, 1, width), torch.float32, grid.device)
        torch.ops.aten.upsample_linear1d.out(tall.view(rows, 1, -1), [width], True, None, out=up)
        fixed = self.buffer("positions", (rows, width), torch.int32, grid.device)
        return fixed.copy_(up.view(rows, width))

    def chroma_positions(
        self, luma_positions: torch.Tensor, frame_height: int, chroma_shift: int = 1
    ) -> torch.Tensor:
        """Luma positions (rows,W) -> 4:2:0 chroma positions (H/2,W/2), same fixed point;
        for 4:4:4 (chroma_shift 0) the luma positions themselves."""
        if chroma_shift == 0:
            return luma_positions
        rows, width = luma_positions.shape
        out = self.buffer(
            "chroma.positions", (frame_height // 2, width // 2), torch.int32, luma_positions.device
        )
        step = 2 * rows // frame_height  # rows of positions per chroma row
        return torch.bitwise_right_shift(luma_positions[::step, ::2], 1, out=out)

    def resample_wide(
        self, plane: torch.Tensor, positions: torch.Tensor, out: torch.Tensor
    ) -> None:
        """resample for planes of more than 8 bits (int16 `plane` (C,H,W) into `out`):
        the same rounded fixed-point lerp, with two gathers instead of packed taps."""
        channels, height, width = plane.shape
        rows = positions.shape[0]
        shape = (channels, rows, height // rows, width)
        by_row = positions.view(1, rows, 1, width)
        index = torch.bitwise_right_shift(by_row, FRACTION_BITS).long().expand(shape)
        fraction = torch.bitwise_and(by_row, _ONE - 1)
        source = plane.reshape(shape).to(torch.int32)
        lo = torch.gather(source, -1, index)
        hi = torch.gather(source, -1, (index + 1).clamp_(max=width - 1))
        value = (hi - lo).mul_(fraction).add_(lo * _ONE + _ONE // 2)
        out.view(shape).copy_(value.bitwise_right_shift_(FRACTION_BITS))

    def resample(self, taps: torch.Tensor, positions: torch.Tensor, out: torch.Tensor) -> None:
        """Row-wise lerp of packed `taps` (C,H,W) at `positions` (rows,W) into uint8 `out`
        (C,H,W, any strides); each row of positions serves H/rows consecutive rows."""
        channels, height, width = taps.shape
        rows = positions.shape[0]
        shape = (channels, rows, height // rows, width)
        device = taps.device
        index = self.buffer("index", (1, rows, 1, width), torch.int64, device)
        weight = self.buffer("weight", (1, rows, 1, width), torch.int32, device)
        got = self.buffer("got", shape, torch.int32, device)
        step = self.buffer("step", shape, torch.int32, device)
        by_row = positions.view(1, rows, 1, width)
        index.copy_(by_row).bitwise_right_shift_(FRACTION_BITS)  # no mixed-dtype op: slow
        torch.bitwise_and(by_row, _ONE - 1, out=weight).sub_(1 << _STEP_SHIFT)
        torch.gather(taps.view(shape), -1, index.expand(shape), out=got)
        got.addcmul_(torch.bitwise_right_shift(got, _STEP_SHIFT, out=step), weight)
        out.view(shape).copy_(got.bitwise_right_shift_(FRACTION_BITS))


def paint_holes(
    out: torch.Tensor, filled: torch.Tensor, hole: torch.Tensor, top: int = 255
) -> None:
    """Writes the disocclusion fill into integer planes `out` (B,C,H,W, any strides).

    `filled` (B,C,h,w) float 0..top and `hole` (B,h,w) bool are on the depth map's grid;
    a frame pixel is a hole when the grid pixel it falls in is, and takes the fill
    interpolated bilinearly at its own position (border clamped). Only hole pixels are
    touched (a few gathers per hole pixel, nothing per frame pixel), the whole batch at
    once.
    """
    height, width = out.shape[-2:]
    h, w = hole.shape[-2:]
    device = out.device
    gb, gy, gx = hole.nonzero(as_tuple=True)
    if gb.numel() == 0:
        return
    # The frame pixels whose centres fall in each grid pixel: [ceil(g*H/h - 0.5), ...).
    block_h, block_w = -(-height // h) + 1, -(-width // w) + 1
    r0 = torch.ceil(gy * (height / h) - 0.5).long().clamp_(min=0)
    r1 = torch.ceil((gy + 1) * (height / h) - 0.5).long().clamp_(max=height)
    c0 = torch.ceil(gx * (width / w) - 0.5).long().clamp_(min=0)
    c1 = torch.ceil((gx + 1) * (width / w) - 0.5).long().clamp_(max=width)
    dy = torch.arange(block_h, device=device).view(1, -1, 1)
    dx = torch.arange(block_w, device=device).view(1, 1, -1)
    y = (r0.view(-1, 1, 1) + dy).expand(-1, block_h, block_w)
    x = (c0.view(-1, 1, 1) + dx).expand(-1, block_h, block_w)
    inside = (y < r1.view(-1, 1, 1)) & (x < c1.view(-1, 1, 1))
    b = gb.view(-1, 1, 1).expand(-1, block_h, block_w)[inside]
    y, x = y[inside], x[inside]
    grid = filled.permute(0, 2, 3, 1)  # (B,h,w,C)
    if (h, w) == (height, width):
        values = grid[b, y, x]
    else:
        # Bilinear at the pixel's position on the grid (align_corners=False, border).
        sy = ((y.to(filled.dtype) + 0.5) * (h / height) - 0.5).clamp_(0, h - 1)
        sx = ((x.to(filled.dtype) + 0.5) * (w / width) - 0.5).clamp_(0, w - 1)
        y0, x0 = sy.long(), sx.long()
        y1, x1 = (y0 + 1).clamp_(max=h - 1), (x0 + 1).clamp_(max=w - 1)
        fy, fx = (sy - y0).unsqueeze(1), (sx - x0).unsqueeze(1)
        upper = torch.lerp(grid[b, y0, x0], grid[b, y0, x1], fx)
        lower = torch.lerp(grid[b, y1, x0], grid[b, y1, x1], fx)
        values = torch.lerp(upper, lower, fy)
    out[b, :, y, x] = values.round_().clamp_(0, top).to(out.dtype)
