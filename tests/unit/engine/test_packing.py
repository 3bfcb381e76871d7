"""Packing two eyes into each output format, and the colour conversions it uses."""

from __future__ import annotations

import av
import numpy as np
import pytest
import torch

from inference_server.colour import ColourInfo, rgb_to_yuv, yuv_to_rgb
from inference_server.layout import PlaneLayout
from inference_server.packing import Planes, depth_planes, output_size, pack
from stereospot.domain.formats import StereoFormat

BT709 = ColourInfo(primaries=1, trc=1, matrix=1, range=1)


def flat(y: float, u: float = 128.0, v: float = 128.0, h: int = 8, w: int = 12) -> Planes:
    y, u, v = float(y), float(u), float(v)
    return Planes(
        torch.full((1, h, w), y),
        torch.full((1, h // 2, w // 2), u),
        torch.full((1, h // 2, w // 2), v),
    )


@pytest.mark.parametrize("fmt", [f for f in StereoFormat if f is not StereoFormat.DEPTH])
def test_packed_size_matches_output_size(fmt: StereoFormat) -> None:
    packed = pack(fmt, flat(50), flat(200), BT709)
    h, w = packed.y.shape[-2:]
    assert (w, h) == output_size(fmt, 12, 8)
    assert packed.u.shape[-2:] == (h // 2, w // 2)


def test_side_by_side_puts_left_eye_left_and_cross_eyed_swaps() -> None:
    sbs = pack(StereoFormat.FULL_SBS, flat(50), flat(200), BT709).y[0]
    assert float(sbs[:, :12].mean()) == 50 and float(sbs[:, 12:].mean()) == 200
    cross = pack(StereoFormat.CROSS_EYED, flat(50), flat(200), BT709).y[0]
    assert float(cross[:, :12].mean()) == 200


def test_top_bottom_halves() -> None:
    tb = pack(StereoFormat.HALF_TB, flat(50), flat(200), BT709).y[0]
    assert tb.shape == (8, 12)
    assert float(tb[:4].mean()) == 50 and float(tb[4:].mean()) == 200


def test_anaglyph_keeps_colour_separation() -> None:
    white, black = flat(235), flat(16)
    left_only = pack(StereoFormat.ANAGLYPH_COLOR, white, black, BT709)
    rgb = yuv_to_rgb(left_only.y, left_only.u, left_only.v, BT709)
    assert float(rgb[0, 0].mean()) > 0.9  # red from the left eye
    assert float(rgb[0, 1:].mean()) < 0.1  # green/blue from the (black) right eye
    dubois = pack(StereoFormat.ANAGLYPH, white, black, BT709)
    rgb = yuv_to_rgb(dubois.y, dubois.u, dubois.v, BT709)
    assert float(rgb[0, 0].mean()) > 0.8 and float(rgb[0, 2].mean()) < 0.1


def test_depth_planes_are_grey_white_near() -> None:
    nearness = torch.tensor([[[0.0, 1.0], [0.0, 1.0]]])
    planes = depth_planes(nearness, BT709)
    assert planes.y[0, 0].tolist() == [16.0, 235.0]
    assert float(planes.u.mean()) == 128.0


@pytest.mark.parametrize("colour", [BT709, ColourInfo(matrix=5, range=2)])
def test_yuv_rgb_round_trip(colour: ColourInfo) -> None:
    rgb = torch.rand(1, 3, 1, 1).expand(1, 3, 4, 4).clone() * 0.8 + 0.1
    y, u, v = rgb_to_yuv(rgb, colour)
    assert torch.allclose(yuv_to_rgb(y, u, v, colour), rgb, atol=1e-4)


def _textured(seed: int, layout: PlaneLayout, h: int = 16, w: int = 24) -> Planes:
    generator = torch.Generator().manual_seed(seed)
    top = layout.max_value
    shift = layout.chroma_shift

    def plane(rows: int, cols: int) -> torch.Tensor:
        values = torch.randint(top // 16, top - top // 16, (1, rows, cols), generator=generator)
        return values.to(layout.torch_dtype)

    return Planes(plane(h, w), plane(h >> shift, w >> shift), plane(h >> shift, w >> shift))


def _frame(planes: Planes, fmt: str) -> av.VideoFrame:
    frame = av.VideoFrame(planes.y.shape[-1], planes.y.shape[-2], fmt)
    for index, source in enumerate((planes.y, planes.u, planes.v)):
        plane = frame.planes[index]
        dtype = np.uint8 if source.dtype == torch.uint8 else np.uint16
        rows = np.frombuffer(memoryview(plane), dtype=dtype)
        rows.reshape(-1, plane.line_size // rows.itemsize)[: plane.height, : plane.width] = source[
            0
        ].numpy()
    return frame


def _arrays(frame: av.VideoFrame) -> list[np.ndarray]:
    dtype = np.uint16 if "10" in frame.format.name else np.uint8
    arrays = []
    for plane in frame.planes:
        rows = np.frombuffer(memoryview(plane), dtype=dtype)
        arrays.append(rows.reshape(-1, plane.line_size // rows.itemsize)[:, : plane.width])
    return arrays


@pytest.mark.parametrize("pix_fmt", ["yuv420p", "yuv444p", "yuv420p10le"])
def test_integer_anaglyphs_convert_colour_with_swscale(pix_fmt: str) -> None:
    # The red/cyan anaglyph of two frames, as FFmpeg's swscale converts them: left's red,
    # right's green and blue, in the stream's matrix and range.
    layout = PlaneLayout(pix_fmt)
    left, right = _textured(1, layout), _textured(2, layout)
    rgb_fmt = "rgb24" if layout.bits == 8 else "rgb48le"
    l_rgb, r_rgb = (
        _frame(e, pix_fmt).to_ndarray(format=rgb_fmt, src_colorspace=1, src_color_range=1)
        for e in (left, right)
    )
    mixed = np.concatenate([l_rgb[..., :1], r_rgb[..., 1:]], axis=-1)
    expected = av.VideoFrame.from_ndarray(mixed, format=rgb_fmt).reformat(
        format=pix_fmt, dst_colorspace=1, dst_color_range=1
    )
    out = pack(StereoFormat.ANAGLYPH_COLOR, left, right, BT709, layout)
    got = _frame(out, pix_fmt)
    for a, b in zip(_arrays(got), _arrays(expected), strict=True):
        assert np.array_equal(a, b)
    assert out.y.dtype == left.y.dtype
