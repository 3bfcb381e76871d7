"""View synthesis: a horizontal forward warp with a z-buffer, a linear gather, a fill.

Depth convention everywhere in the engine: *nearness* in [0,1], 1 = nearest.
A pixel at column x with nearness n appears in a synthesised view at
    x' = x + gain * (n - convergence)
where gain is the signed half (or full) parallax in pixels; convergence may be negative
(a parallel rig: everything in front of the screen). Surfaces are rasterised over their
whole span (no gaps at any sub-pixel shift) and nearer ones win. Columns no surface
covers are disocclusions: they take the background side's nearness, and their colour is
painted from visible background pixels only (fill_holes), never from the occluder.

Doing the warp on nearness first and then sampling colour backwards keeps the colour
sampling linear and sub-pixel exact wherever the source is visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as nnf


def dilate_nearness(nearness: torch.Tensor, radius: int) -> torch.Tensor:
    """Grows near regions horizontally by `radius` px so soft edges move with the object.

    A running maximum over shifted copies: for the small radii used, far cheaper than
    max_pool2d (whose CPU kernel also computes the argmax).
    """
    if radius <= 0:
        return nearness
    grown = nearness.clone()
    for shift in range(1, radius + 1):
        torch.maximum(grown[..., shift:], nearness[..., :-shift], out=grown[..., shift:])
        torch.maximum(grown[..., :-shift], nearness[..., shift:], out=grown[..., :-shift])
    return grown


MAX_STRETCH = 2.0  # neighbours landing up to this far apart are one surface (a crack)

Gain = float | torch.Tensor  # one gain, or one per batch item ((B,) or (B,1,1))


def _per_item(gain: Gain) -> Gain:
    """A gain tensor shaped to broadcast over (B,h,w); a float as it is."""
    return gain.reshape(-1, 1, 1) if isinstance(gain, torch.Tensor) else gain


def _targets(
    nearness: torch.Tensor, gain: Gain, convergence: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Target column of every source pixel, and whether each pixel and its right-hand
    neighbour are one surface (they land in order, at most MAX_STRETCH apart)."""
    width = nearness.shape[-1]
    columns = torch.arange(width, device=nearness.device, dtype=nearness.dtype)
    target = (nearness - convergence).mul_(gain).add_(columns)
    step = target[..., 1:] - target[..., :-1]
    return target, (step >= 0) & (step <= MAX_STRETCH)


def _zbuffer(nearness: torch.Tensor, target: torch.Tensor, joined: torch.Tensor) -> torch.Tensor:
    """For each target column the largest nearness covering it, -1 where nothing does.

    Every surface is rasterised over its whole span: between two joined neighbours each
    integer column in [t(x), t(x+1)) takes the linearly interpolated nearness (at most
    two columns: neighbours land at most MAX_STRETCH apart), so no sub-pixel shift leaves
    gaps inside a surface; a surface's first and last pixels reach half a pixel beyond
    their targets (a pixel's footprint), so edges land where they are, to a fraction of
    a pixel. The ends are few, so they are splatted on their own.
    """
    shape = nearness.shape
    width = shape[-1]
    rows = nearness.numel() // width
    dummy = float(width)
    t = target.reshape(rows, width)
    n = nearness.reshape(rows, width)
    together = joined.reshape(rows, width - 1)
    t0, t1, n0 = t[:, :-1], t[:, 1:], n[:, :-1]
    first = torch.ceil(t0)
    slope = (n[:, 1:] - n0) / (t1 - t0).clamp_min(1e-6)
    second = first + 1.0
    value, value1 = n0 + slope * (first - t0), n0 + slope * (second - t0)
    # Off-frame columns go to the dummy column `width`, dropped at the end.
    on0 = together & (first < t1) & (first >= 0) & (first < dummy)
    on1 = together & (second < t1) & (second >= 0) & (second < dummy)
    index = torch.cat([first.masked_fill_(~on0, dummy), second.masked_fill_(~on1, dummy)], 1)
    zbuf = torch.full((rows, width + 1), -1.0, device=nearness.device, dtype=nearness.dtype)
    zbuf.scatter_reduce_(1, index.long(), torch.cat([value, value1], 1), reduce="amax")
    # Surface ends: x ends one and x + 1 starts the next wherever they are apart, and
    # every row's first and last pixels.
    er, ec = (~together).nonzero(as_tuple=True)
    every = torch.arange(rows, device=nearness.device)
    starts_r, starts_c = torch.cat([every, er]), torch.cat([torch.zeros_like(every), ec + 1])
    ends_r, ends_c = torch.cat([every, er]), torch.cat([torch.full_like(every, width - 1), ec])
    ts, te = t[starts_r, starts_c], t[ends_r, ends_c]
    left, right = torch.ceil(ts - 0.5), torch.ceil(te)
    ok_left = (left < ts) & (left >= 0) & (left < dummy)
    ok_right = (right < te + 0.5) & (right >= 0) & (right < dummy)
    column = torch.cat([left.masked_fill_(~ok_left, dummy), right.masked_fill_(~ok_right, dummy)])
    where = torch.cat([starts_r, ends_r]) * (width + 1) + column.long()
    values = torch.cat([n[starts_r, starts_c], n[ends_r, ends_c]])
    zbuf.view(-1).scatter_reduce_(0, where, values, reduce="amax")
    return zbuf[:, :width].reshape(shape)


def _neighbours(zbuf: torch.Tensor, hole: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per pixel: the nearest valid column to the left (-1 if none) and to the right
    (width if none)."""
    width = zbuf.shape[-1]
    columns = torch.arange(width, device=zbuf.device, dtype=torch.int32)
    left = columns.expand_as(zbuf).masked_fill(hole, -1).cummax(dim=-1).values
    from_right = columns.flip(0).expand_as(zbuf).masked_fill(hole.flip(-1), width)
    right = from_right.cummin(dim=-1).values.flip(-1)
    return left, right


@dataclass
class Warp:
    """A synthesised view's source column per pixel, and where the view is disoccluded.

    `columns` (B,h,w) in the grid's pixels; `hole` (B,h,w) marks disoccluded pixels,
    whose column points at the background next to them (a stretch; fill_holes paints
    them from the background properly); `nearness` (B,h,w) is the view's own depth, the
    holes taking their background's.
    """

    columns: torch.Tensor
    hole: torch.Tensor
    nearness: torch.Tensor
    edge: torch.Tensor | None = None  # (B,h,w) long: each hole's background neighbour

    def wide_holes(self) -> torch.Tensor:
        """(B,h,w) bool: hole pixels more than a pixel from their background edge. The
        others already show that edge pixel (their column is its column), which is what
        the fill would give them, so only these need filling and painting."""
        if self.edge is None:
            return self.hole
        columns = torch.arange(self.hole.shape[-1], device=self.hole.device)
        return self.hole & ((self.edge - columns).abs_() > 1)

    def split(self, parts: int) -> list[Warp]:
        """The warp of a batch stacked from `parts` equal groups, one Warp per group."""
        pieces = [t.chunk(parts) for t in (self.columns, self.hole, self.nearness)]
        edges = self.edge.chunk(parts) if self.edge is not None else [None] * parts
        return [Warp(c, h, n, e) for c, h, n, e in zip(*pieces, edges, strict=True)]


def warp(nearness: torch.Tensor, gain: Gain, convergence: float) -> Warp:
    """Forward z-buffer warp of `nearness` (B,h,w) by `gain` grid pixels (one for the
    batch, or one per item).

    Where a surface is visible, the source column is its exact inverse mapping (sampling
    stays linear and sub-pixel exact), snapped to the pixel itself within half a pixel of
    a surface's edge, so an edge never blends in the surface behind it. Any column no
    surface covers is a disocclusion (a hole wider than a crack): it takes the farther of
    its two neighbours, never the occluder.
    """
    width = nearness.shape[-1]
    dtype = nearness.dtype
    gain = _per_item(gain)
    target, joined = _targets(nearness, gain, convergence)
    zbuf = _zbuffer(nearness, target, joined)
    columns = torch.arange(width, device=nearness.device, dtype=dtype)
    hole = zbuf < 0
    z = zbuf.clamp(min=0.0)
    source = (z - convergence).mul_(-gain).add_(columns).clamp_(0, width - 1)
    # Within half a pixel of an edge, sample the edge pixel itself.
    if width > 1:
        base = source.floor().clamp_(max=width - 2).long()
        apart = ~torch.gather(joined, -1, base)
        source = torch.where(apart & ~hole, (source + 0.5).floor_().clamp_(max=width - 1), source)
    if bool(hole.any()):
        left, right = _neighbours(zbuf, hole)
        lc, rc = left.clamp(min=0).long(), right.clamp(max=width - 1).long()
        z_left = torch.gather(zbuf, -1, lc).masked_fill_(left < 0, 2.0)
        z_right = torch.gather(zbuf, -1, rc).masked_fill_(right >= width, 2.0)
        take_left = z_left <= z_right
        donor = torch.where(take_left, lc, rc)
        background = torch.where(take_left, z_left, z_right)
        background = background.masked_fill_(background > 1.5, 0.0)  # a row with nothing
        source = torch.where(hole, torch.gather(source, -1, donor), source)
        z = torch.where(hole, background, z)
        return Warp(source, hole, z, donor)
    return Warp(source, hole, z)


def source_columns(nearness: torch.Tensor, gain: float, convergence: float) -> torch.Tensor:
    """For every pixel of the synthesised view, the (fractional) source column to sample
    (disocclusions: the background beside them; see warp)."""
    return warp(nearness, gain, convergence).columns


def fill_mask(view: Warp, gain: Gain, reach: int = 4) -> torch.Tensor:
    """(B,h,w) bool: pixels a hole may take colour from. Visible background only: a pixel
    nearer (by a parallax of a pixel or more) than the farthest within `reach` px is an
    occluder's edge and never lends its colour to a disocclusion."""
    nearest_far = _running_min(_running_min(view.nearness, reach, -1), reach, -2)
    gain = _per_item(gain)
    if isinstance(gain, torch.Tensor):
        tolerance: Gain = 1.0 / gain.abs().clamp_min(1.0).to(view.nearness.dtype)
    else:
        tolerance = 1.0 / max(abs(gain), 1.0)
    return ~view.hole & (view.nearness <= nearest_far + tolerance)


def _running_min(x: torch.Tensor, radius: int, dim: int) -> torch.Tensor:
    """The minimum over a window of 2 * radius + 1 along `dim` (shifted copies: far
    cheaper than min-pooling for small radii)."""
    out = x.clone()
    size = x.shape[dim]
    for shift in range(1, min(radius, size - 1) + 1):
        a, b = out.narrow(dim, shift, size - shift), x.narrow(dim, 0, size - shift)
        torch.minimum(a, b, out=a)
        a, b = out.narrow(dim, 0, size - shift), x.narrow(dim, shift, size - shift)
        torch.minimum(a, b, out=a)
    return out


_LEVELS = 65536  # the fill sums colour in 1/65536 of the image range


def fill_holes(image: torch.Tensor, view: Warp, donors: torch.Tensor) -> torch.Tensor:
    """Paints the holes of `image` (B,C,H,W) from the `donors` (B,H,W) on each hole's
    background side only.

    A hole pixel d px from its background edge takes the mean of the donors in a window
    d px wide that starts at that edge and extends away from the hole (d px tall): at the
    edge the background pixel itself, deeper in the mean of ever more of the background
    beside it (a multi-scale fill that continues the background's level and vertical
    structure without horizontal streaks, and never reaches across the occluder). Sums
    come from integral images, so each hole pixel costs a few gathers.
    `view` is at the image's resolution.
    """
    hole = view.hole
    if not bool(hole.any()):
        return image
    assert view.edge is not None  # warp sets it whenever there are holes
    # A hole pixel beside its edge already shows the edge pixel: only wider ones need sums.
    b, r, j = view.wide_holes().nonzero(as_tuple=True)
    if b.numel() == 0:
        return image
    edge = view.edge[b, r, j]
    depth = (j - edge).abs()
    _, channels, height, width = image.shape
    from_left = edge < j
    c0 = torch.where(from_left, edge - depth + 1, edge).clamp(0, width - 1)
    c1 = torch.where(from_left, edge, edge + depth - 1).clamp(0, width - 1)
    half = depth // 2
    r0, r1 = (r - half).clamp(min=0), (r + half).clamp(max=height - 1)
    # Only the rows and columns some window spans enter the sums (holes are few): each
    # window is whole in them, so it stays one rectangle once the rest is left out.
    keep_r, r0, r1 = _spanned(r0, r1, height)
    keep_c, c0, c1 = _spanned(c0, c1, width)
    part = image.index_select(2, keep_r).index_select(3, keep_c)
    weight = donors.index_select(1, keep_r).index_select(2, keep_c).unsqueeze(-1)
    # Integral images in integers (colour in 1/_LEVELS of the image's range): exact sums,
    # and int32 (twice as fast as float64) whenever they cannot overflow it.
    scale = _LEVELS / max(float(part.detach().abs().amax()), 1e-6)
    rows, cols = part.shape[-2:]
    itype = torch.int64 if rows * cols * (_LEVELS + 1) >= 2**31 else torch.int32
    stacked = torch.empty((part.shape[0], rows, cols, channels + 1), dtype=itype,
                          device=image.device)  # fmt: skip
    stacked[..., :channels] = (part.permute(0, 2, 3, 1) * scale).round_()
    stacked[..., :channels].masked_fill_(~weight, 0)
    stacked[..., channels:] = weight
    table = nnf.pad(stacked.cumsum(2, dtype=itype).cumsum(1, dtype=itype), (0, 0, 1, 0, 1, 0))
    flat = table.view(-1, channels + 1)
    row, plane = cols + 1, (rows + 1) * (cols + 1)

    def at(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return flat[b * plane + y * row + x]

    sums = (at(r1 + 1, c1 + 1) - at(r0, c1 + 1) - at(r1 + 1, c0) + at(r0, c0)).to(image.dtype)
    count = sums[:, -1:]
    mean = sums[:, :-1] / (count.clamp_min(1e-9) * scale)
    out = image.clone()
    current = out.permute(0, 2, 3, 1)[b, r, j]
    out.permute(0, 2, 3, 1)[b, r, j] = torch.where(count > 0.5, mean, current)
    return out


def _spanned(
    start: torch.Tensor, stop: torch.Tensor, size: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The indices in [0, size) that some range [start, stop] covers, and each range's
    ends renumbered among them."""
    marks = torch.zeros(size + 1, dtype=torch.int32, device=start.device)
    marks.index_add_(0, start, torch.ones_like(start, dtype=torch.int32))
    marks.index_add_(0, stop + 1, torch.full_like(stop, -1, dtype=torch.int32))
    covered = marks[:size].cumsum(0) > 0
    renumbered = covered.cumsum(0) - 1
    return covered.nonzero().squeeze(1), renumbered[start], renumbered[stop]


def sample_columns(image: torch.Tensor, columns: torch.Tensor) -> torch.Tensor:
    """image (B,C,H,W), columns (B,H,W) fractional -> (B,C,H,W), linear along rows.

    The float twin of warp.ViewRenderer (which does the same on uint8 planes in fixed
    point): rows are hit exactly, so only the two horizontal taps weigh in.
    """
    width = image.shape[-1]
    columns = columns.clamp(0, width - 1).unsqueeze(1).to(image.dtype)
    left = columns.floor()
    fraction = columns - left
    index = left.long().expand(-1, image.shape[1], -1, -1)
    lo = torch.gather(image, -1, index)
    hi = torch.gather(image, -1, (index + 1).clamp_(max=width - 1))
    return lo + (hi - lo) * fraction


WARP_MAX_WIDTH = 640  # wider depth maps are warped on a grid this wide (speed)


def warp_size(height: int, width: int, max_width: int = WARP_MAX_WIDTH) -> tuple[int, int]:
    """The grid the warp runs on for a frame (or depth map) of this size: itself, or
    scaled to `max_width` when wider."""
    if width <= max_width:
        return height, width
    return max(1, round(height * max_width / width)), max_width


def warp_grid(nearness: torch.Tensor, max_width: int = WARP_MAX_WIDTH) -> torch.Tensor:
    """The depth map the warp runs on: `nearness` (B,h,w) itself, or area-averaged to
    `max_width` when wider (a full-size depth video of a 1080p or 720p frame: the warp
    and fill cost per grid pixel; positions are upsampled to the frame afterwards)."""
    size = warp_size(nearness.shape[-2], nearness.shape[-1], max_width)
    if size == tuple(nearness.shape[-2:]):
        return nearness
    return nnf.adaptive_avg_pool2d(nearness.unsqueeze(1), size).squeeze(1)


def eye_warp(
    nearness: torch.Tensor, width: int, gain: Gain, convergence: float
) -> tuple[Warp, torch.Tensor]:
    """warp on a depth map smaller than (or as large as) the frame: the Warp in the depth
    map's pixels, and its source columns in frame pixels.

    The z-buffer warp runs where the depth lives (the builtin map is ~192 px wide); the
    frame columns are each depth pixel's source column in frame pixels, measured at that
    depth pixel's centre (warp.position_grid takes it from there).
    """
    scale = width / nearness.shape[-1]
    view = warp(nearness, gain / scale, convergence)
    low = view.columns
    return view, (low + 0.5) * scale - 0.5 if scale != 1 else low


def eye_warps(
    nearness: torch.Tensor, width: int, gains: Sequence[float], convergence: float
) -> list[tuple[Warp, torch.Tensor] | None]:
    """eye_warp for both eyes in one batched warp (half the ops: on a small depth grid
    their overhead is most of the cost); None for an eye whose gain is 0 (the source)."""
    moving = [gain for gain in gains if gain != 0]
    if not moving:
        return [None for _ in gains]
    batch = nearness.shape[0]
    stacked = nearness if len(moving) == 1 else torch.cat([nearness] * len(moving))
    per_item = torch.tensor(moving, dtype=nearness.dtype, device=nearness.device)
    view, columns = eye_warp(stacked, width, per_item.repeat_interleave(batch), convergence)
    parts = zip(view.split(len(moving)), columns.chunk(len(moving)), strict=True)
    return [None if gain == 0 else next(parts) for gain in gains]


def eye_columns(
    nearness: torch.Tensor, width: int, gain: float, convergence: float
) -> torch.Tensor:
    """The frame columns of eye_warp."""
    return eye_warp(nearness, width, gain, convergence)[1]


def fill_colours(small: torch.Tensor, view: Warp, gain: Gain) -> torch.Tensor:
    """The view at the depth map's resolution, holes painted: `small` (B,C,h,w) is the
    source at that resolution, `gain` in its pixels. What warp.paint_holes copies into
    the full-size eye's holes."""
    out = sample_columns(small, view.columns)
    return fill_holes(out, view, fill_mask(view, gain))


def synthesize_view(
    image: torch.Tensor, nearness: torch.Tensor, gain: float, convergence: float
) -> torch.Tensor:
    """image (B,C,H,W) float, nearness (B,H,W) in [0,1] -> the view shifted by `gain`."""
    if gain == 0:
        return image
    view = warp(nearness, gain, convergence)
    out = sample_columns(image, view.columns)
    return fill_holes(out, view, fill_mask(view, gain))


def eye_gains(width: int, divergence: float, synthetic_view: str) -> tuple[float, float]:
    """Signed pixel gains (left eye, right eye). Near things move right in the left eye."""
    parallax = divergence / 100.0 * width
    if synthetic_view == "left":
        return parallax, 0.0
    if synthetic_view == "right":
        return 0.0, -parallax
    return parallax / 2, -parallax / 2
