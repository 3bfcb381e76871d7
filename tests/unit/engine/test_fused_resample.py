"""The fused CPU resampling writes exactly the bytes of the renderer's packed-tap path."""

from __future__ import annotations

import pytest
import torch

from inference_server import fused_resample
from inference_server.warp import ViewRenderer


def positions(rows: int, width: int, seed: int) -> torch.Tensor:
    """Fixed-point source columns wandering +-20 px, clamped at both edges (as the
    renderer's are), with every fraction."""
    gen = torch.Generator().manual_seed(seed)
    columns = torch.arange(width).float().view(1, -1) + torch.rand(rows, width, generator=gen) * 40
    return ((columns - 20) * 256).clamp(0, (width - 1) * 256).int()


def test_numba_is_there_so_the_cpu_path_is_fused() -> None:
    assert fused_resample.available(torch.zeros(1, 2, 2, dtype=torch.uint8))
    assert not fused_resample.available(torch.zeros(1, 2, 2, dtype=torch.int16))


@pytest.mark.parametrize(
    ("channels", "height", "width", "rows"),
    [(1, 72, 128, 36), (2, 36, 64, 36), (2, 72, 128, 72), (3, 10, 9, 5), (1, 4, 1, 2)],
)
def test_same_bytes_as_the_packed_taps_into_a_strided_view(
    channels: int, height: int, width: int, rows: int
) -> None:
    gen = torch.Generator().manual_seed(height * width)
    plane = torch.randint(0, 256, (channels, height, width), dtype=torch.uint8, generator=gen)
    plane[..., :3] = 255  # the extremes
    plane[..., 3:6] = 0
    where = positions(rows, width, seed=rows)
    renderer = ViewRenderer()
    expected = torch.zeros((channels, height, 2 * width), dtype=torch.uint8)
    got = torch.zeros_like(expected)
    renderer.resample(renderer.taps(plane, "p"), where, expected[..., width:])
    fused_resample.resample_rows(plane, where, got[..., width:])
    assert torch.equal(got, expected)  # the left half untouched in both


@pytest.mark.parametrize(("height", "rows", "shift"), [(72, 36, 1), (72, 72, 1), (36, 36, 0)])
def test_chroma_from_the_luma_positions_same_bytes_as_the_renderer(
    height: int, rows: int, shift: int
) -> None:
    width = 128
    chroma_size = (height >> shift, width >> shift)
    gen = torch.Generator().manual_seed(rows + shift)
    chroma = torch.randint(0, 256, (2, *chroma_size), dtype=torch.uint8, generator=gen)
    luma_positions = positions(rows, width, seed=height)
    renderer = ViewRenderer()
    expected = torch.zeros_like(chroma)
    got = torch.zeros_like(chroma)
    where = renderer.chroma_positions(luma_positions, height, shift)
    renderer.resample(renderer.taps(chroma, "uv"), where, expected)
    fused_resample.resample_chroma(chroma, luma_positions, got, height, shift)
    assert torch.equal(got, expected)


def test_positions_outside_the_row_are_clamped_not_read_out_of_bounds() -> None:
    plane = torch.arange(8, dtype=torch.uint8).view(1, 1, 8)
    wild = torch.tensor([[-5000, 0, 256, 7 * 256, 9 * 256, 1 << 20, 3 * 256 + 128, 0]]).int()
    out = torch.zeros_like(plane)
    fused_resample.resample_rows(plane, wild, out)
    assert out.tolist() == [[[0, 0, 1, 7, 7, 7, 4, 0]]]
