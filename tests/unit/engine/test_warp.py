"""The uint8 fixed-point renderer against the float reference, and its position grid."""

from __future__ import annotations

import torch

from inference_server.synthesis import eye_columns, sample_columns
from inference_server.warp import FRACTION_BITS, ViewRenderer, position_grid

ONE = 1 << FRACTION_BITS  # positions are fixed point


def random_plane(channels: int, height: int, width: int, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (channels, height, width), generator=gen, dtype=torch.uint8)


def test_fixed_point_resample_matches_the_float_lerp() -> None:
    height, width = 12, 40
    plane = random_plane(2, height, width)
    gen = torch.Generator().manual_seed(1)
    columns = torch.rand(height, width, generator=gen) * (width - 1)
    renderer = ViewRenderer()
    out = torch.empty_like(plane)
    renderer.resample(renderer.taps(plane, "p"), renderer.positions(columns, height, width), out)
    expected = sample_columns(plane.float().unsqueeze(0), columns.unsqueeze(0))[0]
    error = (out.float() - expected).abs()
    # Rounding the result (half a level) and the 8-bit fraction (1/512 px times a tap
    # difference of at most 255 levels): within a level.
    assert float(error.max()) <= 1.0
    assert float(error.mean()) < 0.3


def test_resample_writes_into_a_strided_view() -> None:
    plane = random_plane(1, 6, 10)
    packed = torch.zeros(1, 6, 20, dtype=torch.uint8)
    renderer = ViewRenderer()
    identity = torch.arange(10, dtype=torch.float32).expand(6, 10)
    positions = renderer.positions(identity, 6, 10)
    renderer.resample(renderer.taps(plane, "p"), positions, packed[..., 10:])
    assert torch.equal(packed[..., 10:], plane)
    assert not packed[..., :10].any()


def test_a_constant_shift_is_exact_from_the_left_border_on() -> None:
    height, width, shift = 40, 64, 3.25
    # A depth map 4x smaller than the frame: its pixel centres in frame pixels.
    centres = (torch.arange(16, dtype=torch.float32) + 0.5) * 4 - 0.5
    grid = position_grid((centres + shift).expand(1, 10, 16), height, width)
    positions = ViewRenderer().positions(grid[0], height, width).float() / ONE
    expected = torch.arange(width, dtype=torch.float32) + shift
    # Exact (to the fixed-point fraction) up to the last grid cell, where the source runs off
    # the frame and the cell is squeezed into the frame instead.
    assert torch.allclose(positions[:, :56], expected[:56].expand(height, 56), atol=1 / ONE)
    assert float(positions.max()) == width - 1
    assert bool((positions[:, 1:] >= positions[:, :-1]).all())


def test_chroma_moves_half_as_far_as_luma() -> None:
    renderer = ViewRenderer()
    luma = renderer.positions(torch.arange(16, dtype=torch.float32).add(4).expand(8, 16), 8, 16)
    chroma = renderer.chroma_positions(luma, 8).float() / ONE
    assert torch.equal(chroma[0, :3], torch.tensor([2.0, 3.0, 4.0]))


def test_eye_columns_map_a_small_depth_map_to_frame_pixels() -> None:
    nearness = torch.full((1, 5, 8), 1.0)
    columns = eye_columns(nearness, width=32, gain=4.0, convergence=0.0)
    centres = (torch.arange(8, dtype=torch.float32) + 0.5) * 4 - 0.5
    # Every depth pixel's source is 4 frame pixels to its left (clamped at the edge).
    assert torch.allclose(columns[0, 0, 2:], centres[2:] - 4.0, atol=1e-4)


def test_row_pairs_can_share_positions() -> None:
    height, width = 8, 24
    plane = random_plane(1, height, width, seed=3)
    renderer = ViewRenderer()
    columns = torch.arange(width, dtype=torch.float32).add(1.5).clamp(max=width - 1)
    shared = renderer.positions(columns.expand(height // 2, width), height // 2, width)
    out = torch.empty_like(plane)
    renderer.resample(renderer.taps(plane, "p"), shared, out)
    expected = sample_columns(plane.float().unsqueeze(0), columns.expand(1, height, width))[0]
    assert float((out.float() - expected).abs().max()) <= 0.5  # exact halves: just rounding
    chroma = renderer.chroma_positions(shared, height)
    assert chroma.shape == (height // 2, width // 2)
    assert torch.equal(chroma, shared[:, ::2] >> 1)
