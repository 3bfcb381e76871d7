"""Output pixel formats: 4:4:4, lossless, 10-bit HEVC and PQ sources keep their look."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from inference_server.api import convert_video
from inference_server.hdr import read_hdr_metadata
from stereospot.domain.formats import ConversionSettings, PixelFormat, StereoFormat
from stereospot.entrypoints.cli.main import main
from tests.media_clips import make_clip, moving_frame, texture

PQ, BT2020_PRIMARIES, BT2020_MATRIX = 16, 9, 9


# HDR10 static metadata as x265 writes it (chromaticities in 0.00002, luminance in
# 0.0001 cd/m2): a P3 D65 mastering display of 0.005..1000 cd/m2, MaxCLL 1000, MaxFALL 400.
MASTER_DISPLAY = "G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,50)"
MAX_CLL = "1000,400"


def make_pq_clip(
    path: Path, frames: int = 6, width: int = 96, height: int = 64, hdr10: bool = False
) -> Path:
    """10-bit HEVC tagged as HDR10: PQ transfer, BT.2020 primaries and matrix; with
    `hdr10` also mastering display and content light level SEI."""
    base = texture(width + frames * 3 + 8, height)
    params = "log-level=error"
    if hdr10:
        params += f":master-display={MASTER_DISPLAY}:max-cll={MAX_CLL}"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx265", rate=24, options={"x265-params": params})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p10le"
        ctx = stream.codec_context
        ctx.color_trc, ctx.color_primaries, ctx.colorspace = PQ, BT2020_PRIMARIES, BT2020_MATRIX
        for i in range(frames):
            rgb = av.VideoFrame.from_ndarray(
                moving_frame(i, width, height, base, "moving"), "rgb24"
            )
            frame = rgb.reformat(format="yuv420p10le", dst_colorspace=BT2020_MATRIX)
            frame.pts = i
            frame.color_trc, frame.color_primaries = PQ, BT2020_PRIMARIES
            frame.colorspace = BT2020_MATRIX
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def _stream(path: Path) -> tuple[str, str, int, int, int]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frame = next(container.decode(stream))
        return (
            stream.codec_context.name,
            frame.format.name,
            int(frame.color_trc),
            int(frame.color_primaries),
            int(frame.colorspace),
        )


def test_a_pq_source_comes_out_10_bit_hevc_with_its_colour_tags(tmp_path: Path) -> None:
    source = make_pq_clip(tmp_path / "hdr.mp4")
    out = tmp_path / "out.mp4"
    convert_video(source, out, output_format=StereoFormat.HALF_SBS,
                  settings=ConversionSettings(depth_model="builtin"))  # fmt: skip
    assert _stream(out) == ("hevc", "yuv420p10le", PQ, BT2020_PRIMARIES, BT2020_MATRIX)


def test_a_pq_source_keeps_its_mastering_display_and_content_light_level(
    tmp_path: Path,
) -> None:
    source = make_pq_clip(tmp_path / "hdr10.mp4", hdr10=True)
    with av.open(str(source)) as container:
        given = read_hdr_metadata(next(container.decode(video=0)))
    assert given.x265_params() == [f"master-display={MASTER_DISPLAY}", f"max-cll={MAX_CLL}"]
    out = tmp_path / "out.mp4"
    convert_video(source, out, output_format=StereoFormat.FULL_SBS,
                  settings=ConversionSettings(depth_model="builtin"))  # fmt: skip
    with av.open(str(out)) as container:
        kept = read_hdr_metadata(next(container.decode(video=0)))
    assert kept == given
    assert kept.mastering is not None and kept.mastering.max_luminance == 1000
    assert (kept.max_cll, kept.max_fall) == (1000, 400)


def test_a_10_bit_hevc_source_comes_out_10_bit(tmp_path: Path) -> None:
    source = make_clip(tmp_path / "ten.mp4", seconds=0.25, width=96, height=64,
                       codec="libx265", pix_fmt="yuv420p10le", audio=False)  # fmt: skip
    out = tmp_path / "out.mp4"
    convert_video(source, out, output_format=StereoFormat.ANAGLYPH,
                  settings=ConversionSettings(depth_model="builtin"))  # fmt: skip
    codec, pix_fmt, *_ = _stream(out)
    assert (codec, pix_fmt) == ("hevc", "yuv420p10le")
    # 8-bit output can still be asked for.
    convert_video(source, out, output_format=StereoFormat.FULL_TB,
                  settings=ConversionSettings(depth_model="builtin",
                                              pixel_format=PixelFormat.YUV420P))  # fmt: skip
    assert _stream(out)[:2] == ("h264", "yuv420p")


@pytest.mark.parametrize("fmt", [StereoFormat.FULL_SBS, StereoFormat.HALF_TB, StereoFormat.DEPTH])
def test_yuv444p_through_convert(tmp_path: Path, fmt: StereoFormat) -> None:
    source = make_clip(tmp_path / "in.mp4", seconds=0.25, width=96, height=64, audio=False)
    out = tmp_path / "out.mp4"
    code = main(["convert", str(source), str(out), "--format", fmt.value,
                 "--pixel-format", "yuv444p", "--depth-model", "builtin"])  # fmt: skip
    assert code == 0
    assert _stream(out)[:2] == ("h264", "yuv444p")


def test_lossless_keeps_the_source_eye_exactly(tmp_path: Path) -> None:
    # With the left eye synthesised, the right eye is the source: bit-exact in 4:4:4.
    source = make_clip(tmp_path / "in.mp4", seconds=0.25, width=96, height=64, audio=False,
                       pix_fmt="yuv444p")  # fmt: skip
    out = tmp_path / "out.mp4"
    code = main(["convert", str(source), str(out), "--format", "full-sbs", "--lossless",
                 "--synthetic-view", "left", "--depth-model", "builtin"])  # fmt: skip
    assert code == 0
    assert _stream(out)[:2] == ("h264", "yuv444p")
    with av.open(str(source)) as a, av.open(str(out)) as b:
        for fa, fb in zip(a.decode(video=0), b.decode(video=0), strict=True):
            original = fa.to_ndarray(format="yuv444p")
            converted = fb.to_ndarray(format="yuv444p")
            assert np.array_equal(converted[..., 96:], original)


def test_negative_convergence_is_a_setting() -> None:
    assert ConversionSettings(convergence=-1.0).convergence == -1.0
    with pytest.raises(ValueError, match="greater than or equal"):
        ConversionSettings(convergence=-1.5)
