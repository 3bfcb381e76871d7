"""View synthesis: shifts, occlusion, disocclusion fill, and quality against ground truth."""

from __future__ import annotations

import math

import torch

from inference_server.evaluation import default_scene, naive_backward_warp, psnr, render, ssim
from inference_server.synthesis import (
    dilate_nearness,
    eye_gains,
    source_columns,
    synthesize_view,
)


def ramp_image(width: int = 32, height: int = 4) -> torch.Tensor:
    return torch.arange(width, dtype=torch.float32).view(1, 1, 1, -1).expand(1, 1, height, width)


def test_constant_depth_is_a_pure_shift() -> None:
    image = ramp_image()
    nearness = torch.full((1, 4, 32), 1.0)
    out = synthesize_view(image, nearness, gain=3.0, convergence=0.0)
    # Content moves 3 px to the right: column x shows source column x-3.
    assert torch.allclose(out[0, 0, 0, 5:], image[0, 0, 0, 2:29], atol=1e-3)


def test_screen_plane_does_not_move() -> None:
    image = ramp_image()
    nearness = torch.full((1, 4, 32), 0.5)
    out = synthesize_view(image, nearness, gain=7.0, convergence=0.5)
    assert torch.allclose(out, image, atol=1e-3)


def test_nearer_pixels_win_and_holes_take_the_background() -> None:
    width = 40
    image = torch.zeros(1, 1, 1, width)
    image[..., 10:20] = 100.0  # foreground object
    image[..., :10] = 10.0  # background left of it
    image[..., 20:] = 30.0  # background right of it
    nearness = torch.zeros(1, 1, width)
    nearness[..., 10:20] = 1.0
    out = synthesize_view(image, nearness, gain=4.0, convergence=0.0)[0, 0, 0]
    # The object moved right by 4 and covers the background there.
    assert torch.allclose(out[14:24], torch.tensor(100.0), atol=1e-3)
    # The disocclusion it left (columns 10..13) is filled from the left background, not
    # with foreground colour.
    assert torch.allclose(out[10:14], torch.tensor(10.0), atol=1e-3)
    assert torch.allclose(out[24:], torch.tensor(30.0), atol=1e-3)


def test_cracks_inside_a_stretched_surface_are_interpolated_not_filled_flat() -> None:
    width = 64
    nearness = torch.linspace(0, 1, width).view(1, 1, -1)  # a slanted plane
    columns = source_columns(nearness, gain=20.0, convergence=0.0)[0, 0]
    # Stretched, so the mapping back to the source is monotonic with small steps.
    steps = columns[1:] - columns[:-1]
    assert torch.all(steps >= -1e-4)
    assert float(steps.max()) < 1.0


def test_dilation_grows_near_regions() -> None:
    nearness = torch.zeros(1, 1, 9)
    nearness[..., 4] = 1.0
    assert dilate_nearness(nearness, 2)[0, 0].tolist() == [0, 0, 1, 1, 1, 1, 1, 0, 0]


def test_eye_gains_follow_divergence_and_view() -> None:
    assert eye_gains(1000, 2.0, "both") == (10.0, -10.0)
    assert eye_gains(1000, 2.0, "left") == (20.0, 0.0)
    assert eye_gains(1000, 2.0, "right") == (0.0, -20.0)


def test_engine_beats_naive_warp_on_every_metric() -> None:
    width, height, convergence = 192, 108, 0.5
    layers = default_scene(width, height)
    centre = render(layers, width, height, 0.0, convergence)
    for gain in eye_gains(width, 4.0, "both"):
        truth = render(layers, width, height, gain, convergence)
        assert int(truth.disoccluded.sum()) > 50  # the scene really has disocclusions
        engine = synthesize_view(centre.image, centre.nearness, gain, convergence).clamp(0, 1)
        naive = naive_backward_warp(centre.image, centre.nearness, gain, convergence)
        masks = (torch.ones_like(truth.disoccluded), ~truth.disoccluded, truth.disoccluded)
        for mask in masks:
            assert psnr(engine, truth.image, mask) > psnr(naive, truth.image, mask)
            assert ssim(engine, truth.image, mask) > ssim(naive, truth.image, mask)


def test_rendering_from_the_centre_has_no_disocclusion() -> None:
    layers = default_scene(64, 48)
    assert not render(layers, 64, 48, 0.0, 0.5).disoccluded.any()


def test_a_thin_bar_moving_farther_than_its_width_is_drawn_once() -> None:
    # A 2 px bar in front of a ramp moves 6 px: the hole it leaves has background at both
    # ends and must be filled from the background, not sampled where the source shows
    # the bar (the old warp drew every such bar twice).
    width = 40
    image = torch.arange(width, dtype=torch.float32).view(1, 1, 1, -1).repeat(1, 1, 3, 1)
    image[..., 20:22] = 100.0
    nearness = torch.zeros(1, 3, width)
    nearness[..., 20:22] = 1.0
    for gain in (6.0, -6.0, 6.5, 9.25):
        out = synthesize_view(image, nearness, gain, convergence=0.0)[0, 0]
        bar = (out > 60).sum(dim=-1)
        assert bar.tolist() == [2, 2, 2], (gain, out[0])


def test_half_pixel_shifts_leave_no_stripes_in_a_surface() -> None:
    # A near plane shifted by k + 0.5 px over a far one: every column inside the near
    # plane shows it (round-half-to-even used to land it on every other column).
    width = 48
    image = torch.zeros(1, 1, 2, width)
    image[..., 10:30] = 1.0
    nearness = torch.zeros(1, 2, width)
    nearness[..., 10:30] = 1.0
    for shift in (2.5, 3.5, -4.5, 3.25, 7.75):
        out = synthesize_view(image, nearness, gain=shift, convergence=0.0)[0, 0, 0]
        inside = out[math.ceil(9.5 + shift) : math.floor(29.5 + shift)]
        assert bool((inside > 0.999).all()), (shift, out)
        # The edges are where they are to a fraction of a pixel: [9.5, 29.5) + shift.
        assert int((out > 0.5).sum()) == 20


def test_disocclusions_are_painted_from_the_background_side_only() -> None:
    width, height = 64, 16
    gen = torch.Generator().manual_seed(0)
    image = torch.rand(1, 3, height, width, generator=gen) * 0.2  # background texture
    image[..., 30:50] = 1.0  # a bright occluder
    nearness = torch.zeros(1, height, width)
    nearness[..., 30:50] = 1.0
    out = synthesize_view(image, nearness, gain=8.0, convergence=0.0)
    hole = out[..., 30:38]
    assert float(hole.max()) < 0.2 + 1e-5  # nothing of the occluder
    # Not a stretched edge pixel: the rows of the hole vary along the row.
    assert float(hole.std(dim=-1).mean()) > 1e-3
