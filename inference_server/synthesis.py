"""View synthesis: a horizontal forward warp with a z-buffer, then a linear gather.

Depth convention everywhere in the engine: *nearness* in [0,1], 1 = nearest.
A pixel at column x with nearness n appears in a synthesised view at
    x' = x + gain * (n - convergence)
where gain is the signed half (or full) parallax in pixels. Nearer pixels win where
several land on the same column; columns nothing lands on (disocclusions) take the
background side's nearness and stretch the background side's colour.

Doing the warp on nearness first and then sampling colour backwards keeps the colour
sampling linear and sub-pixel exact wherever the source is visible.
"""

from __future__ import annotations

import torch


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


def _splat_nearness(nearness: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """z-buffer: for each target column the largest nearness landing on it, -1 if none.

    Each source pixel lands on its nearest column; the cracks a stretched surface leaves
    are closed later (see source_columns), so edges stay exact to half a pixel.
    `target` is consumed (rounded in place).
    """
    rows, width = nearness.shape[0] * nearness.shape[1], nearness.shape[2]
    zbuf = torch.full((rows, width + 1), -1.0, device=nearness.device, dtype=nearness.dtype)
    index = target.reshape(rows, width).round_().clamp_(-1, width).long()
    index.masked_fill_(index < 0, width)  # off-screen -> dummy column
    zbuf.scatter_reduce_(1, index, nearness.reshape(rows, width), reduce="amax")
    return zbuf[:, :width].reshape(nearness.shape)


def _neighbours(zbuf: torch.Tensor, hole: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per pixel: the nearest valid column to the left (-1 if none) and to the right
    (width if none)."""
    width = zbuf.shape[-1]
    columns = torch.arange(width, device=zbuf.device, dtype=torch.int32)
    left = columns.expand_as(zbuf).masked_fill(hole, -1).cummax(dim=-1).values
    from_right = columns.flip(0).expand_as(zbuf).masked_fill(hole.flip(-1), width)
    right = from_right.cummin(dim=-1).values.flip(-1)
    return left, right


def source_columns(nearness: torch.Tensor, gain: float, convergence: float) -> torch.Tensor:
    """For every pixel of the synthesised view, the (fractional) source column to sample.

    Empty target columns are either cracks (both neighbours on about the same surface:
    interpolate nearness and sample backwards) or disocclusions (a depth step: take the
    farther neighbour and repeat its colour, so foreground never bleeds into the hole).
    Holes are few, so everything past finding the neighbours runs on the holes only.
    """
    width = nearness.shape[-1]
    dtype = nearness.dtype
    columns = torch.arange(width, device=nearness.device, dtype=dtype)
    zbuf = _splat_nearness(nearness, columns + gain * (nearness - convergence))
    # Where something landed: sample backwards at that nearness's disparity.
    result = (zbuf - convergence).mul_(-gain).add_(columns)
    hole = zbuf < 0
    if not bool(hole.any()):
        return result.clamp_(0, width - 1)
    left, right = _neighbours(zbuf, hole)
    holes = hole.reshape(-1).nonzero().squeeze(1)  # flat indices of the holes
    left, right = left.reshape(-1)[holes].long(), right.reshape(-1)[holes].long()
    at_int = holes % width
    row_start = holes - at_int
    at = at_int.to(dtype)
    flat = zbuf.reshape(-1)
    # A missing side never counts as background (nearness 2), unless both are missing
    # (a whole row off-screen): then it is far (nearness 0).
    z_left = flat[row_start + left.clamp(min=0)].masked_fill_(left < 0, 2.0)
    z_right = flat[row_start + right.clamp(max=width - 1)].masked_fill_(right >= width, 2.0)
    z_left.masked_fill_((z_left > 1.5) & (z_right > 1.5), 0.0)
    one_sided = (z_left > 1.5) | (z_right > 1.5)
    lf, rf = left.to(dtype), right.to(dtype)
    t = ((at - lf) / (rf - lf).clamp_min(1.0)).clamp_(0, 1)
    crack = ~one_sided & ((z_left - z_right).abs() * abs(gain) < 1.0)
    take_left = z_left <= z_right
    background_z = torch.where(take_left, z_left, z_right)
    crack_z = z_left + (z_right - z_left) * t
    crack_source = at - gain * (crack_z - convergence)
    donor = torch.where(take_left, lf, rf).clamp_(0, width - 1)
    donor_source = donor - gain * (background_z - convergence)
    result.view(-1)[holes] = torch.where(crack, crack_source, donor_source)
    return result.clamp_(0, width - 1)


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


def eye_columns(
    nearness: torch.Tensor, width: int, gain: float, convergence: float
) -> torch.Tensor:
    """source_columns on a depth map smaller than the frame, in frame pixels.

    The z-buffer warp runs where the depth lives (the builtin map is ~192 px wide); the
    result is each depth pixel's source column in frame pixels, measured at that depth
    pixel's centre (warp.position_grid takes it from there).
    """
    scale = width / nearness.shape[-1]
    low = source_columns(nearness, gain / scale, convergence)
    return (low + 0.5) * scale - 0.5 if scale != 1 else low


def synthesize_view(
    image: torch.Tensor, nearness: torch.Tensor, gain: float, convergence: float
) -> torch.Tensor:
    """image (B,C,H,W) float, nearness (B,H,W) in [0,1] -> the view shifted by `gain`."""
    if gain == 0:
        return image
    return sample_columns(image, source_columns(nearness, gain, convergence))


def eye_gains(width: int, divergence: float, synthetic_view: str) -> tuple[float, float]:
    """Signed pixel gains (left eye, right eye). Near things move right in the left eye."""
    parallax = divergence / 100.0 * width
    if synthetic_view == "left":
        return parallax, 0.0
    if synthetic_view == "right":
        return 0.0, -parallax
    return parallax / 2, -parallax / 2
