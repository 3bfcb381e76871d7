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

import torch
import torch.nn.functional as nnf

from inference_server.synthesis import eye_columns, sample_columns
from inference_server.warp import ViewRenderer, position_grid, rows_per_position


@dataclass(frozen=True)
class Layer:
    nearness: float
    # Shape in texture coordinates: an axis-aligned ellipse (rx, ry) or box, centre (cx, cy).
    cx: float
    cy: float
    rx: float
    ry: float
    ellipse: bool
    seed: int

    def covers(self, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        dx, dy = (u - self.cx) / self.rx, (v - self.cy) / self.ry
        if self.ellipse:
            return dx * dx + dy * dy <= 1.0
        return (dx.abs() <= 1.0) & (dy.abs() <= 1.0)

    def texture(self, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """(3,H,W) colours in [0,1] at texture coordinates (u, v)."""
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


def default_scene(width: int, height: int) -> list[Layer]:
    """A background and three objects at increasing nearness, overlapping."""
    return [
        Layer(0.0, width / 2, height / 2, width * 10, height * 10, False, 1),
        Layer(0.35, width * 0.30, height * 0.55, width * 0.18, height * 0.30, False, 2),
        Layer(0.7, width * 0.58, height * 0.45, width * 0.14, height * 0.28, True, 3),
        Layer(1.0, width * 0.75, height * 0.70, width * 0.08, height * 0.16, False, 4),
    ]


@dataclass(frozen=True)
class RenderedView:
    image: torch.Tensor  # (1,3,H,W)
    nearness: torch.Tensor  # (1,H,W)
    disoccluded: torch.Tensor  # (1,H,W) bool: not visible from the centre camera


def render(
    layers: list[Layer], width: int, height: int, gain: float, convergence: float
) -> RenderedView:
    """The exact view of a camera with `gain` (0 = the centre camera)."""
    x = torch.arange(width, dtype=torch.float64).view(1, -1).expand(height, width)
    y = torch.arange(height, dtype=torch.float64).view(-1, 1).expand(height, width)
    image = torch.zeros(3, height, width, dtype=torch.float64)
    nearness = torch.zeros(height, width, dtype=torch.float64)
    hidden = torch.zeros(height, width, dtype=torch.bool)
    for index, layer in enumerate(layers):  # far to near: painter's algorithm
        u = x - gain * (layer.nearness - convergence)
        visible = layer.covers(u, y)
        image = torch.where(visible, layer.texture(u, y), image)
        nearness = torch.where(visible, torch.full_like(nearness, layer.nearness), nearness)
        # Hidden from the centre camera (gain 0 sees texture column u at column u) when a
        # nearer layer covers that column, or when u is outside the frame.
        covered = (u < 0) | (u > width - 1)
        for nearer in layers[index + 1 :]:
            covered = covered | nearer.covers(u, y)
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


def engine_view(
    image: torch.Tensor, nearness: torch.Tensor, gain: float, convergence: float
) -> torch.Tensor:
    """The view as the video pipeline renders it: 8-bit planes, the z-buffer warp at the
    depth map's resolution, the fixed-point renderer. image (1,C,H,W) in [0,1]; nearness
    (1,h,w) at any resolution up to the image's."""
    planes = (image[0] * 255.0).round().clamp(0, 255).to(torch.uint8)
    height, width = planes.shape[-2:]
    share = rows_per_position(nearness.shape[-2], height)
    columns = eye_columns(nearness, width, gain, convergence)
    grid = position_grid(columns, height, width, share)
    renderer = ViewRenderer()
    positions = renderer.positions(grid[0], height // share, width)
    out = torch.empty_like(planes)
    renderer.resample(renderer.taps(planes, "rgb"), positions, out)
    return out.unsqueeze(0).float() / 255.0


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
