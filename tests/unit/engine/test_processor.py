"""StereoProcessor on uint8 I420 batches: where each eye lands, and what it shows."""

from __future__ import annotations

import torch

from inference_server.colour import ColourInfo
from inference_server.depth import FrameBatch
from inference_server.pipeline import StereoProcessor, split_i420
from stereospot.domain.formats import ConversionSettings, StereoFormat

HEIGHT, WIDTH = 16, 80
# divergence 10% of 80 px = 8 px of parallax: each eye moves nearest things by 4 px.
SETTINGS = ConversionSettings(depth_model="builtin", divergence=10.0, convergence=0.0)


class NearestEverywhere:
    """An absolute estimator: the whole frame at nearness 1, on a 4x smaller map."""

    name = "constant"
    absolute = True

    def reset(self) -> None:
        pass

    def estimate(self, batch: FrameBatch) -> torch.Tensor:
        frames, height, width = batch.planes.y.shape
        return torch.ones(frames, height // 4, width // 4)


def frames(count: int = 2) -> torch.Tensor:
    gen = torch.Generator().manual_seed(5)
    shape = (count, HEIGHT * 3 // 2, WIDTH)
    return torch.randint(16, 236, shape, generator=gen, dtype=torch.uint8)


def convert(fmt: StereoFormat, source: torch.Tensor, out_shape: tuple[int, int]) -> torch.Tensor:
    processor = StereoProcessor(NearestEverywhere(), SETTINGS, fmt, ColourInfo(), window=1)
    out = torch.zeros((source.shape[0], *out_shape), dtype=torch.uint8)
    processor.process(source, out)
    return out


def test_full_sbs_shifts_each_eye_by_its_half_of_the_parallax() -> None:
    source = frames()
    out = convert(StereoFormat.FULL_SBS, source, (HEIGHT * 3 // 2, 2 * WIDTH))
    y, uv = split_i420(source)
    out_y, out_uv = split_i420(out)
    left, right = out_y[..., :WIDTH], out_y[..., WIDTH:]
    # Away from the borders (where the frame edge is a disocclusion two depth pixels
    # wide) each eye is the source moved by exactly 4 px.
    assert torch.equal(left[..., 12:68], y[..., 8:64])  # near content moved right
    assert torch.equal(right[..., 12:68], y[..., 16:72])  # and left in the right eye
    half = WIDTH // 2
    assert torch.equal(out_uv[..., 6:34], uv[..., 4:32])  # chroma: half the pixels
    assert torch.equal(out_uv[..., half + 6 : half + 34], uv[..., 8:36])


def test_other_layouts_hold_the_same_eyes() -> None:
    source = frames(1)
    sbs = split_i420(convert(StereoFormat.FULL_SBS, source, (HEIGHT * 3 // 2, 2 * WIDTH)))[0]
    left, right = sbs[..., :WIDTH], sbs[..., WIDTH:]
    cross = split_i420(convert(StereoFormat.CROSS_EYED, source, (HEIGHT * 3 // 2, 2 * WIDTH)))
    assert torch.equal(cross[0][..., :WIDTH], right)
    tb = split_i420(convert(StereoFormat.FULL_TB, source, (HEIGHT * 3, WIDTH)))[0]
    assert torch.equal(tb[:, :HEIGHT], left) and torch.equal(tb[:, HEIGHT:], right)
    half = split_i420(convert(StereoFormat.HALF_SBS, source, (HEIGHT * 3 // 2, WIDTH)))[0]
    pairs = left.view(1, HEIGHT, WIDTH // 2, 2).float().mean(-1)
    assert float((half[..., : WIDTH // 2].float() - pairs).abs().max()) <= 0.5
