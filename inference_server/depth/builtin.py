"""A depth estimator with no weights: classical monocular cues plus motion parallax.

Cues, all computed on a small copy of the frame (the batch's shared preview, at most
WORK_WIDTH wide: cheap on any CPU):
- position: the lower part of a frame is usually nearer (ground plane);
- focus: sharp, high-contrast regions are usually the subject, nearer than the
  defocused or hazy background;
- colour: distant things are hazier (less saturated, brighter, bluer);
- motion parallax: when the camera moves, near things move more between frames.
The mix is smoothed with a guided filter on the luma, so depth edges follow image edges.
"""

from __future__ import annotations

import torch
import torch.nn.functional as nnf

from inference_server.depth.base import PREVIEW_WIDTH, FrameBatch
from inference_server.temporal import percentiles

WORK_WIDTH = PREVIEW_WIDTH  # the batch's shared preview, computed once


def _box(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Box mean of side 2r+1 over the last two dims, edges replicated.

    One padded copy, then a running sum along each dim (the cost does not depend on the
    radius); a zero first row and column make each window sum one difference.
    """
    k = 2 * radius + 1
    padded = nnf.pad(x, (radius + 1, radius, radius + 1, radius), mode="replicate")
    padded[..., 0, :] = 0
    padded[..., :, 0] = 0
    sums = padded.cumsum(-1)
    rows = sums[..., k:] - sums[..., :-k]
    sums = rows.cumsum_(-2)
    return (sums[..., k:, :] - sums[..., :-k, :]).div_(k * k)


# The guided filter's coefficients are smooth (box means of box means), so they are
# computed on a copy this many times smaller and upsampled (He & Sun's "fast guided
# filter"); the output keeps the guide's full-resolution edges.
GUIDED_SUBSAMPLE = 2


def guided_filter(
    guide: torch.Tensor, src: torch.Tensor, radius: int, eps: float, subsample: int = 1
) -> torch.Tensor:
    """He et al.'s guided filter, grey guide; (B,1,h,w) tensors. With `subsample` s > 1,
    the linear coefficients come from s-times smaller copies (radius / s)."""
    size = guide.shape[-2:]
    small_guide, small_src = guide, src
    if subsample > 1:
        small_guide = nnf.avg_pool2d(guide, subsample, ceil_mode=True)
        small_src = nnf.avg_pool2d(src, subsample, ceil_mode=True)
        radius = max(1, round(radius / subsample))
    # The four box means in one pass: I, p, I*p, I*I.
    stacked = torch.cat(
        [small_guide, small_src, small_guide * small_src, small_guide * small_guide], dim=1
    )
    mean_i, mean_p, mean_ip, mean_ii = _box(stacked, radius).unbind(1)
    a = (mean_ip - mean_i * mean_p) / (mean_ii - mean_i * mean_i + eps)
    b = mean_p - a * mean_i
    coefficients = _box(torch.stack([a, b], dim=1), radius)
    if subsample > 1:
        coefficients = nnf.interpolate(
            coefficients, size=size, mode="bilinear", align_corners=False
        )
    return coefficients[:, :1] * guide + coefficients[:, 1:]


def _normalise_each(x: torch.Tensor) -> torch.Tensor:
    """Scales each frame's map by its own 95th percentile into about [0,1]."""
    top = percentiles(x.flatten(1), (0.95,))[0].clamp_min(1e-6).view(-1, 1, 1, 1)
    return (x / top).clamp_(0.0, 1.0)


class BuiltinDepth:
    name = "builtin"
    absolute = False

    def __init__(self) -> None:
        self._previous: torch.Tensor | None = None

    def reset(self) -> None:
        self._previous = None

    def estimate(self, batch: FrameBatch) -> torch.Tensor:
        preview = batch.preview(WORK_WIDTH)
        luma = preview.y.unsqueeze(1) / 255.0
        chroma = torch.stack([preview.u, preview.v], dim=1) / 255.0 - 0.5
        work_h, work_w = luma.shape[-2:]

        rows = torch.linspace(0.0, 1.0, work_h, device=luma.device, dtype=luma.dtype)
        position = rows.view(1, 1, -1, 1).expand_as(luma)

        lap = (luma - _box(luma, 1)).abs()
        focus = _normalise_each(_box(lap, 3))

        saturation = chroma.pow(2).sum(dim=1, keepdim=True).sqrt()
        haze = (luma - 0.5).clamp_min(0) * (0.15 - saturation).clamp_min(0) * 20 + chroma[:, :1]
        colour = (saturation * 4 - haze).clamp(-1, 1)

        motion = self._motion(luma, batch.cuts)

        raw = 0.5 * position + 0.25 * focus + 0.1 * colour + 0.35 * motion
        radius = max(2, work_w // 24)
        smooth = guided_filter(luma, raw, radius, 1e-3, GUIDED_SUBSAMPLE)
        return smooth.squeeze(1)

    def _motion(self, luma: torch.Tensor, cuts: list[bool]) -> torch.Tensor:
        """Apparent speed between frames, weighted by how much of the frame moves.

        Speed is a local least-squares "normal flow": box(|I_t * grad I|) / box(|grad I|^2),
        measured on a 4x smaller, blurred copy so that motions of a few pixels stay in the
        range where the brightness-constancy linearisation holds.
        """
        coarse = _box(nnf.avg_pool2d(luma, 4, ceil_mode=True), 1)
        previous = coarse[:1] if self._previous is None else self._previous
        chain = torch.cat([previous, coarse], dim=0)
        self._previous = coarse[-1:].clone()
        current, before = chain[1:], chain[:-1]
        mean = (current + before) / 2
        gx = nnf.pad(mean[..., :, 2:] - mean[..., :, :-2], (1, 1, 0, 0), mode="replicate") / 2
        gy = nnf.pad(mean[..., 2:, :] - mean[..., :-2, :], (0, 0, 1, 1), mode="replicate") / 2
        it = current - before
        grad2 = gx * gx + gy * gy
        speed = _box((it * gx).abs() + (it * gy).abs(), 2) / (_box(grad2, 2) + 1e-4)
        speed = speed.clamp(max=4.0)
        # A camera pan moves most of the frame; an object on a still background does not.
        moving = (it.abs() > 0.01).float().mean(dim=(1, 2, 3), keepdim=True)
        cut = torch.tensor(cuts, device=luma.device).view(-1, 1, 1, 1)
        motion = _normalise_each(speed) * moving.clamp(0, 0.5) * 2
        motion = nnf.interpolate(motion, size=luma.shape[-2:], mode="bilinear", align_corners=False)
        return torch.where(cut, torch.zeros_like(motion), motion)
