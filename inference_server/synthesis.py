"""View synthesis: a horizontal forward warp with a z-buffer, then a bilinear gather.

Depth convention everywhere in the engine: *nearness* in [0,1], 1 = nearest.
A pixel at column x with nearness n appears in a synthesised view at
    x' = x + gain * (n - convergence)
where gain is the signed half (or full) parallax in pixels. Nearer pixels win where
several land on the same column; columns nothing lands on (disocclusions) take the
background side's nearness and stretch the background side's colour.

Doing the warp on nearness first and then sampling colour backwards keeps the colour
sampling bilinear (sharp, sub-pixel exact) wherever the source is visible.
"""

from __future__ import annotations

import torch
import torch.nn.functional as nnf


def dilate_nearness(nearness: torch.Tensor, radius: int) -> torch.Tensor:
    """Grows near regions horizontally by `radius` px so soft edges move with the object."""
    if radius <= 0:
        return nearness
    kernel = 2 * radius + 1
    grown = nnf.max_pool2d(nearness.unsqueeze(1), (1, kernel), stride=1, padding=(0, radius))
    return grown.squeeze(1)


def _splat_nearness(nearness: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """z-buffer: for each target column the largest nearness landing on it, -1 if none.

    Each source pixel covers its two neighbouring target columns, so surfaces stretched by
    less than one pixel per pixel leave no cracks.
    """
    rows, width = nearness.shape[0] * nearness.shape[1], nearness.shape[2]
    zbuf = torch.full((rows, width + 1), -1.0, device=nearness.device, dtype=nearness.dtype)
    values = nearness.reshape(rows, width)
    left = torch.floor(target).reshape(rows, width)
    for column in (left, left + 1):
        index = column.clamp(-1, width).long()
        index = torch.where(index < 0, width, index)  # off-screen -> dummy column
        zbuf.scatter_reduce_(1, index, values, reduce="amax")
    return zbuf[:, :width].reshape(nearness.shape)


def _fill_from_background(zbuf: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Holes (-1) take the farther of their two nearest valid neighbours in the row.

    Returns the filled nearness and, per pixel, the column it took its value from
    (itself where valid).
    """
    width = zbuf.shape[-1]
    columns = torch.arange(width, device=zbuf.device).expand_as(zbuf)
    valid = zbuf >= 0
    left = torch.cummax(torch.where(valid, columns, -1), dim=-1).values
    right_flipped = torch.cummin(torch.where(valid, columns, width).flip(-1), dim=-1).values
    right = right_flipped.flip(-1)
    has_left, has_right = left >= 0, right < width
    z_left = torch.gather(zbuf, -1, left.clamp(0, width - 1))
    z_right = torch.gather(zbuf, -1, right.clamp(0, width - 1))
    z_left = torch.where(has_left, z_left, 2.0)  # missing side never counts as background
    z_right = torch.where(has_right, z_right, 2.0)
    take_left = z_left <= z_right
    donor = torch.where(take_left, left, right).clamp(0, width - 1)
    filled = torch.where(take_left, z_left, z_right)
    nothing = ~(has_left | has_right)  # a whole row off-screen: treat as far
    filled = torch.where(nothing, torch.zeros_like(filled), filled)
    donor = torch.where(valid, columns, donor)
    return torch.where(valid, zbuf, filled), donor


def source_columns(nearness: torch.Tensor, gain: float, convergence: float) -> torch.Tensor:
    """For every pixel of the synthesised view, the (fractional) source column to sample."""
    width = nearness.shape[-1]
    columns = torch.arange(width, device=nearness.device, dtype=nearness.dtype)
    target = columns + gain * (nearness - convergence)
    zbuf = _splat_nearness(nearness, target)
    warped, donor = _fill_from_background(zbuf)
    sample_at = columns - gain * (warped - convergence)
    # Disocclusions: stretch the background neighbour's colour (its source column).
    donor_f = donor.to(nearness.dtype)
    donor_source = donor_f - gain * (torch.gather(warped, -1, donor) - convergence)
    hole = zbuf < 0
    return torch.where(hole, donor_source, sample_at).clamp_(0, width - 1)


def sample_columns(image: torch.Tensor, columns: torch.Tensor) -> torch.Tensor:
    """image (B,C,H,W), columns (B,H,W) fractional -> (B,C,H,W), linear along rows."""
    width = image.shape[-1]
    left = columns.floor().clamp_(0, width - 1)
    weight = (columns - left).unsqueeze(1).to(image.dtype)
    left_i = left.long().unsqueeze(1).expand_as(image)
    right_i = (left_i + 1).clamp_(max=width - 1)
    a = torch.gather(image, -1, left_i)
    b = torch.gather(image, -1, right_i)
    return a + (b - a) * weight


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
