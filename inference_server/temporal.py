"""Temporal stability: scene cuts and a moving-average normalisation of the depth range.

The state is a finite window of per-frame depth ranges (never an infinite exponential
average), so after `window` frames of warm-up the normaliser is in exactly the state a
one-pass run would have: that is what makes segment boundaries invisible.
"""

from __future__ import annotations

from collections import deque

import torch
import torch.nn.functional as nnf

# Mean absolute luma difference (0..255) between 64x36 thumbnails that marks a cut.
CUT_THRESHOLD = 40.0
_THUMB = (36, 64)


def percentiles(flat: torch.Tensor, qs: tuple[float, ...], samples: int = 4096) -> torch.Tensor:
    """Per row of (B,N) `flat`, the values at quantiles `qs` -> (len(qs), B).

    Measured on a regular subsample of about `samples` values, by selection (kthvalue)
    rather than a full sort: the same range to a fraction of a percent, far cheaper.
    """
    if flat.shape[1] > 2 * samples:
        flat = flat[:, :: flat.shape[1] // samples]
    flat = flat.float()
    last = flat.shape[1] - 1
    return torch.stack([flat.kthvalue(round(q * last) + 1, dim=1).values for q in qs])


def thumbnails(luma: torch.Tensor) -> torch.Tensor:
    """(B,H,W) float luma -> (B,36,64) area-averaged thumbnails."""
    return nnf.adaptive_avg_pool2d(luma.unsqueeze(1), _THUMB).squeeze(1)


class SceneCutDetector:
    """Flags frames whose thumbnail differs strongly from the previous frame's."""

    def __init__(self, threshold: float = CUT_THRESHOLD) -> None:
        self._threshold = threshold
        self._previous: torch.Tensor | None = None

    def detect(self, thumbs: torch.Tensor) -> list[bool]:
        previous = thumbs[:1] if self._previous is None else self._previous
        chain = torch.cat([previous, thumbs], dim=0)
        diffs = (chain[1:] - chain[:-1]).abs().mean(dim=(1, 2))
        self._previous = thumbs[-1:].clone()
        return [bool(d > self._threshold) for d in diffs.tolist()]


def window_frames(fps: float, seconds: float = 0.5) -> int:
    """Length of the moving-average window: about half a second of frames."""
    return max(1, min(30, round(fps * seconds)))


class DepthRangeNormaliser:
    """Maps raw nearness (larger = nearer, any scale) to [0,1], 1 = nearest.

    Per frame, the robust range (2nd..98th percentile) is measured; the range used is the
    mean over the last `window` frames since the last scene cut.
    """

    def __init__(self, window: int) -> None:
        self._window: deque[tuple[float, float]] = deque(maxlen=window)

    def normalise(self, raw: torch.Tensor, cuts: list[bool]) -> torch.Tensor:
        """raw (B,h,w) -> nearness (B,h,w) in [0,1]."""
        bounds = percentiles(raw.flatten(1), (0.02, 0.98)).T.tolist()
        lows, highs = [], []
        for (low, high), cut in zip(bounds, cuts, strict=True):
            if cut:
                self._window.clear()
            self._window.append((low, high))
            lows.append(sum(b[0] for b in self._window) / len(self._window))
            highs.append(sum(b[1] for b in self._window) / len(self._window))
        low_t = torch.tensor(lows, device=raw.device, dtype=raw.dtype).view(-1, 1, 1)
        high_t = torch.tensor(highs, device=raw.device, dtype=raw.dtype).view(-1, 1, 1)
        span = (high_t - low_t).clamp_min(1e-6)
        return ((raw - low_t) / span).clamp_(0.0, 1.0)
