"""Ground truth for view synthesis: layered scenes rendered exactly from any camera.

A scene is a stack of fronto-parallel layers, each with a constant nearness, a shape and
an analytic texture (a sum of sinusoids), so every camera's view can be computed exactly
at any sub-pixel shift. A camera with gain g sees the layer point at texture column u at
column u + g * (nearness - convergence): the engine's own disparity model. Metrics
(PSNR, SSIM) can be restricted to a mask (non-occluded or disoccluded pixels).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import torch
import torch.nn.functional as nnf

from inference_server import fused_resample
from inference_server.depth.base import shrink
from inference_server.synthesis import (
    eye_warps,
    fill_colours,
    sample_columns,
    warp_grid,
    warp_size,
)
from inference_server.upsample import guided_upsample
from inference_server.warp import ViewRenderer, paint_holes, position_grid, rows_per_position


class Shape(Protocol):
    def covers(self, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Where the shape is, at texture coordinates (u, v) (any shape of tensors)."""


@dataclass(frozen=True)
class Box:
    cx: float
    cy: float
    rx: float
    ry: float

    def covers(self, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return ((u - self.cx).abs() <= self.rx) & ((v - self.cy).abs() <= self.ry)


@dataclass(frozen=True)
class Ellipse:
    cx: float
    cy: float
    rx: float
    ry: float

    def covers(self, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        dx, dy = (u - self.cx) / self.rx, (v - self.cy) / self.ry
        return dx * dx + dy * dy <= 1.0


@dataclass(frozen=True)
class Bars:
    """Vertical bars `width` px wide every `period` px, from x0 to x1 and y0 to y1 (a fence)."""

    x0: float
    x1: float
    y0: float
    y1: float
    width: float
    period: float

    def covers(self, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        inside = (u >= self.x0) & (u < self.x1) & (v >= self.y0) & (v < self.y1)
        return inside & (torch.remainder(u - self.x0, self.period) < self.width)


# A 5x7 pixel font for a few capitals and digits: rows top to bottom, '#' = ink.
_GLYPHS = {
    "S": (" ####", "#    ", "#    ", " ### ", "    #", "    #", "#### "),
    "T": ("#####", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  "),
    "E": ("#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#####"),
    "R": ("#### ", "#   #", "#   #", "#### ", "# #  ", "#  # ", "#   #"),
    "O": (" ### ", "#   #", "#   #", "#   #", "#   #", "#   #", " ### "),
    "P": ("#### ", "#   #", "#   #", "#### ", "#    ", "#    ", "#    "),
    "3": ("#### ", "    #", "    #", " ### ", "    #", "    #", "#### "),
    "D": ("#### ", "#   #", "#   #", "#   #", "#   #", "#   #", "#### "),
    "A": (" ### ", "#   #", "#   #", "#####", "#   #", "#   #", "#   #"),
    "I": ("#####", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "#####"),
    " ": ("     ",) * 7,
}


@dataclass(frozen=True)
class Text:
    """A line of capitals from the 5x7 font, each font pixel `cell` px, top-left at (x, y)."""

    x: float
    y: float
    cell: float
    text: str

    def covers(self, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        rows = [
            "".join(_GLYPHS[ch][r] + " " for ch in self.text) for r in range(7)
        ]  # one blank column between letters
        bitmap = torch.tensor([[c == "#" for c in row] for row in rows], dtype=torch.bool)
        col = torch.floor((u - self.x) / self.cell)
        row = torch.floor((v - self.y) / self.cell)
        inside = (col >= 0) & (col < bitmap.shape[1]) & (row >= 0) & (row < bitmap.shape[0])
        c = col.clamp(0, bitmap.shape[1] - 1).long()
        r = row.clamp(0, bitmap.shape[0] - 1).long()
        return inside & bitmap[r, c]


@dataclass(frozen=True)
class Layer:
    """A fronto-parallel layer at constant nearness; `speed` px per frame to the right."""

    nearness: float
    shape: Shape
    seed: int
    speed: float = 0.0

    def covers(self, u: torch.Tensor, v: torch.Tensor, frame: int = 0) -> torch.Tensor:
        return self.shape.covers(u - self.speed * frame, v)

    def texture(self, u: torch.Tensor, v: torch.Tensor, frame: int = 0) -> torch.Tensor:
        """(3,H,W) colours in [0,1] at texture coordinates (u, v); moves with the shape."""
        u = u - self.speed * frame
        gen = torch.Generator().manual_seed(self.seed)
        base = torch.rand(3, generator=gen) * 0.6 + 0.2
        out = base.view(3, 1, 1).expand(3, *u.shape).clone()
        for _ in range(6):
            freq = torch.rand(2, generator=gen) * 0.35 + 0.02
            angle = float(torch.rand(1, generator=gen)) * 2 * math.pi
            phase = float(torch.rand(1, generator=gen)) * 2 * math.pi
            amp = torch.rand(3, generator=gen) * 0.12
            wave = torch.sin(
                2 * math.pi * (freq[0] * math.cos(angle) * u + freq[1] * math.sin(angle) * v)
                + phase
            )
            out = out + amp.view(3, 1, 1) * wave
        return out.clamp(0.0, 1.0)


def _background(seed: int = 1, nearness: float = 0.0) -> Layer:
    return Layer(nearness, Box(0.0, 0.0, 1e9, 1e9), seed)


def default_scene(width: int, height: int) -> list[Layer]:
    """A background and three objects at increasing nearness, overlapping."""
    return [
        _background(),
        Layer(0.35, Box(width * 0.30, height * 0.55, width * 0.18, height * 0.30), 2),
        Layer(0.7, Ellipse(width * 0.58, height * 0.45, width * 0.14, height * 0.28), 3),
        Layer(1.0, Box(width * 0.75, height * 0.70, width * 0.08, height * 0.16), 4),
    ]


def thin_bars_scene(width: int, height: int, parallax: float) -> list[Layer]:
    """Fences whose bars (2 and 3 px) move farther than their own width against the
    background (`parallax` px between the eyes), in front of a mid-depth panel."""
    bar = max(2.0, round(parallax / 4))
    return [
        _background(5),
        Layer(0.4, Box(width * 0.7, height * 0.5, width * 0.2, height * 0.4), 6),
        Layer(
            1.0, Bars(width * 0.08, width * 0.55, height * 0.1, height * 0.9, bar, 4 * bar + 3), 7
        ),
        Layer(0.8, Bars(width * 0.6, width * 0.95, height * 0.2, height * 0.8, 2.0, 9.0), 8),
    ]


def exact_shift_scene(
    width: int, height: int, gain: float, convergence: float, fraction: float
) -> list[Layer]:
    """Layers whose shifts in the eye with `gain` are whole pixels plus `fraction`
    (0.5: k + 0.5 px, 0.25: k + 0.25 px), the other eye's the same with the sign turned."""

    def at(shift: float) -> float:
        return convergence + shift / gain

    return [
        _background(9, at(-(1 + fraction))),
        Layer(at(2 + fraction), Box(width * 0.3, height * 0.5, width * 0.15, height * 0.35), 10),
        Layer(
            at(5 + fraction), Ellipse(width * 0.65, height * 0.5, width * 0.12, height * 0.3), 11
        ),
        Layer(at(3 + fraction), Bars(width * 0.82, width * 0.97, 0, height, 3.0, 7.0), 12),
    ]


def text_scene(width: int, height: int) -> list[Layer]:
    """Two lines of text (strokes 2 and 4 px) at different depths over a textured panel."""
    return [
        _background(13),
        Layer(0.3, Box(width * 0.5, height * 0.5, width * 0.4, height * 0.4), 14),
        Layer(0.9, Text(width * 0.06, height * 0.15, 4.0, "STEREO 3D"), 15),
        Layer(0.65, Text(width * 0.1, height * 0.62, 2.0, "RAPID TOAST"), 16),
    ]


def moving_scene(width: int, height: int) -> list[Layer]:
    """Layers moving sideways at different speeds (a video): a box, a fence, a disc."""
    return [
        _background(17),
        Layer(0.45, Box(width * 0.3, height * 0.5, width * 0.12, height * 0.3), 18, speed=1.7),
        Layer(
            0.95,
            Bars(width * 0.45, width * 0.8, height * 0.1, height * 0.7, 3.0, 11.0),
            19,
            speed=-2.3,
        ),
        Layer(0.75, Ellipse(width * 0.2, height * 0.3, width * 0.08, height * 0.15), 20, speed=3.1),
    ]


@dataclass(frozen=True)
class RenderedView:
    image: torch.Tensor  # (1,3,H,W)
    nearness: torch.Tensor  # (1,H,W)
    disoccluded: torch.Tensor  # (1,H,W) bool: not visible from the centre camera


def render(
    layers: list[Layer], width: int, height: int, gain: float, convergence: float, frame: int = 0
) -> RenderedView:
    """The exact view of a camera with `gain` (0 = the centre camera), at `frame`."""
    x = torch.arange(width, dtype=torch.float64).view(1, -1).expand(height, width)
    y = torch.arange(height, dtype=torch.float64).view(-1, 1).expand(height, width)
    image = torch.zeros(3, height, width, dtype=torch.float64)
    nearness = torch.zeros(height, width, dtype=torch.float64)
    hidden = torch.zeros(height, width, dtype=torch.bool)
    for index, layer in enumerate(layers):  # far to near: painter's algorithm
        u = x - gain * (layer.nearness - convergence)
        visible = layer.covers(u, y, frame)
        image = torch.where(visible, layer.texture(u, y, frame), image)
        nearness = torch.where(visible, torch.full_like(nearness, layer.nearness), nearness)
        # Hidden from the centre camera (gain 0 sees texture column u at column u) when a
        # nearer layer covers that column, or when u is outside the frame.
        covered = (u < 0) | (u > width - 1)
        for nearer in layers[index + 1 :]:
            covered = covered | nearer.covers(u, y, frame)
        hidden = torch.where(visible, covered, hidden)
    return RenderedView(
        image.unsqueeze(0).float(), nearness.unsqueeze(0).float(), hidden.unsqueeze(0)
    )


def naive_backward_warp(
    image: torch.Tensor, nearness: torch.Tensor, gain: float, convergence: float
) -> torch.Tensor:
    """The baseline: each target pixel samples the source at its own column's disparity."""
    columns = torch.arange(image.shape[-1], dtype=image.dtype).view(1, 1, -1)
    source = (columns - gain * (nearness - convergence)).clamp(0, image.shape[-1] - 1)
    return sample_columns(image, source)


_LUMA = torch.tensor([0.299, 0.587, 0.114])


def engine_view(
    image: torch.Tensor, nearness: torch.Tensor, gain: float, convergence: float
) -> torch.Tensor:
    """One eye of engine_views."""
    return engine_views(image, nearness, (gain,), convergence)[0]


def engine_views(
    image: torch.Tensor, nearness: torch.Tensor, gains: tuple[float, ...], convergence: float
) -> list[torch.Tensor]:
    """render_views on `image` (1,C,H,W) in [0,1], views in [0,1] (1,C,H,W)."""
    planes = (image[0] * 255.0).round().clamp(0, 255).to(torch.uint8)
    views = render_views(planes, nearness, gains, convergence)
    return [view.unsqueeze(0).float() / 255.0 for view in views]


def render_views(
    planes: torch.Tensor, nearness: torch.Tensor, gains: tuple[float, ...], convergence: float
) -> list[torch.Tensor]:
    """The views as the video pipeline renders them, on uint8 planes (C,H,W): the
    z-buffer warp of all eyes in one batch on the warp grid (a depth map smaller than it
    is edge-aware upsampled straight to it, as for a depth video), the fixed-point
    renderer, the fill on the grid painted into the holes. nearness (1,h,w) at any
    resolution up to the frame's."""
    height, width = planes.shape[-2:]
    size = warp_size(height, width)
    small = shrink(planes, size).unsqueeze(0)  # the source on the warp grid
    if nearness.shape[-2] < size[0] or nearness.shape[-1] < size[1]:
        luma = torch.einsum("c,bchw->bhw", _LUMA.to(small.dtype), small)
        nearness = guided_upsample(nearness, luma)  # as the pipeline does for a depth video
    nearness = warp_grid(nearness)
    if small.shape[-2:] != nearness.shape[-2:]:
        small = shrink(planes, (nearness.shape[-2], nearness.shape[-1])).unsqueeze(0)
    share = rows_per_position(nearness.shape[-2], height)
    renderer = ViewRenderer()
    fused = fused_resample.available(planes)  # as the pipeline: the numba kernel if installed
    taps = planes if fused else renderer.taps(planes, "rgb")
    views = []
    for gain, entry in zip(gains, eye_warps(nearness, width, gains, convergence), strict=True):
        if entry is None:
            views.append(planes)
            continue
        view, columns = entry
        grid = position_grid(columns, height, width, share)
        positions = renderer.positions(grid[0], height // share, width)
        out = torch.empty_like(planes)
        if fused:
            fused_resample.resample_rows(planes, positions, out)
        else:
            renderer.resample(taps, positions, out)
        wide = view.wide_holes()
        if bool(wide.any()):
            filled = fill_colours(small, view, gain * nearness.shape[-1] / width)
            paint_holes(out.unsqueeze(0), filled, wide)
        views.append(out)
    return views


def psnr(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> float:
    """PSNR in dB over the pixels where mask (B,H,W) is true; images (B,C,H,W) in [0,1]."""
    err = ((a - b) ** 2).mean(dim=1)[mask]
    mse = float(err.mean()) if err.numel() else 0.0
    return 99.0 if mse <= 1e-10 else 10 * math.log10(1.0 / mse)


def ssim_map(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-pixel SSIM (Gaussian 11x11, sigma 1.5), averaged over channels: (B,H,W)."""
    coords = torch.arange(11, dtype=a.dtype) - 5
    g = torch.exp(-(coords**2) / (2 * 1.5**2))
    g = g / g.sum()
    kernel = (g.view(-1, 1) * g.view(1, -1)).expand(a.shape[1], 1, 11, 11)

    def blur(x: torch.Tensor) -> torch.Tensor:
        return nnf.conv2d(nnf.pad(x, (5, 5, 5, 5), mode="reflect"), kernel, groups=a.shape[1])

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    c1, c2 = 0.01**2, 0.03**2
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / (
        (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    )
    return s.mean(dim=1)


def ssim(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> float:
    values = ssim_map(a, b)[mask]
    return float(values.mean()) if values.numel() else 1.0
