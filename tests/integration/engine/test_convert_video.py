"""convert_video on real encodes: frames, timestamps, metadata, formats, audio, errors."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from inference_server.api import ConversionStats, EngineOptions, convert_video
from inference_server.depth import depth_anything
from inference_server.packing import output_size
from stereospot.domain.errors import MediaError
from stereospot.domain.formats import ConversionSettings, StereoFormat
from tests.media_clips import make_clip
from tests.unit.engine.tiny_depth_anything import save_tiny_depth_anything

BUILTIN = ConversionSettings(depth_model="builtin")


def frames_of(path: Path) -> tuple[list[av.VideoFrame], av.video.stream.VideoStream]:
    container = av.open(str(path))
    stream = container.streams.video[0]
    frames = list(container.decode(stream))
    container.close()
    return frames, stream


def seconds(frame: av.VideoFrame) -> float:
    assert frame.pts is not None and frame.time_base is not None
    return round(float(frame.pts * frame.time_base), 4)


def times(frames: list[av.VideoFrame]) -> list[float]:
    return [seconds(f) for f in frames]


def test_frames_timestamps_rotation_and_audio_survive(tricky_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    progress: list[tuple[int, int]] = []
    stats = convert_video(
        tricky_clip, out, output_format=StereoFormat.FULL_SBS, settings=BUILTIN,
        options=EngineOptions(batch_size=5), on_progress=lambda d, t: progress.append((d, t)),
        copy_audio=True,
    )  # fmt: skip
    source, _ = frames_of(tricky_clip)
    result, stream = frames_of(out)
    assert stats.frames == len(source) == len(result)
    assert stats.depth_model == "builtin" and stats.device == "cpu"
    assert times(result) == times(source)  # VFR kept frame by frame
    assert result[0].rotation == source[0].rotation == 90
    # 97 wide is cropped to 96; the rotated (portrait) display is doubled in width, which
    # is the stored height after rotating back.
    assert (result[0].width, result[0].height) == (96, 128)
    assert stream.codec_context.name == "h264"
    assert result[0].format.name == "yuv420p"
    assert progress[-1] == (len(source), len(source))
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)
    with av.open(str(out)) as container:
        assert len(container.streams.audio) == 1


def test_colour_metadata_is_kept(tmp_path: Path) -> None:
    src = tmp_path / "bt709.mp4"
    with av.open(str(src), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        ctx = stream.codec_context
        ctx.color_primaries, ctx.color_trc, ctx.colorspace, ctx.color_range = 1, 1, 1, 2
        for i in range(6):
            frame = av.VideoFrame.from_ndarray(
                np.full((48, 64, 3), i * 30, np.uint8), format="rgb24"
            )
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    out = tmp_path / "out.mp4"
    convert_video(src, out, output_format=StereoFormat.HALF_SBS, settings=BUILTIN)
    frame = frames_of(out)[0][0]
    assert (frame.color_primaries, frame.color_trc, frame.colorspace, frame.color_range) == (
        1, 1, 1, 2,
    )  # fmt: skip


@pytest.mark.parametrize("fmt", list(StereoFormat))
def test_every_format_has_the_right_size(
    fmt: StereoFormat, small_clip: Path, tmp_path: Path
) -> None:
    out = tmp_path / f"{fmt.value}.mp4"
    stats = convert_video(small_clip, out, output_format=fmt, settings=BUILTIN)
    frames, _ = frames_of(out)
    assert len(frames) == stats.frames == 12
    assert (frames[0].width, frames[0].height) == output_size(fmt, 96, 64)


def test_sbs_eyes_differ_where_depth_varies(small_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "sbs.mp4"
    convert_video(small_clip, out, output_format=StereoFormat.FULL_SBS, settings=BUILTIN,
                  options=EngineOptions(crf=0))  # fmt: skip
    frame = frames_of(out)[0][5].to_ndarray(format="gray").astype(float)
    left, right = frame[:, :96], frame[:, 96:]
    assert np.abs(left - right).mean() > 1.0  # real parallax, not a copy


def test_external_depth_video_is_used_as_is(small_clip: Path, tmp_path: Path) -> None:
    """A depth video round-trips through the 'depth' format (white = near)."""
    depth_src = make_clip(tmp_path / "depth.mp4", seconds=0.5, fps=24, width=96, height=64,
                          audio=False, pattern="still")  # fmt: skip
    out = tmp_path / "depth_out.mp4"
    stats = convert_video(
        small_clip, out, output_format=StereoFormat.DEPTH,
        settings=ConversionSettings(depth_model="external"),
        options=EngineOptions(depth_video=depth_src, crf=0),
    )  # fmt: skip
    assert stats.depth_model == "external"
    expected = frames_of(depth_src)[0][3].to_ndarray(format="gray").astype(float)
    got = frames_of(out)[0][3].to_ndarray(format="gray").astype(float)
    assert np.abs(expected - got).mean() < 2.0


def test_tiny_depth_anything_through_the_same_path(
    small_clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(depth_anything, "INPUT_SIZE", 112)  # a tiny model needs no 518 px
    model_dir = save_tiny_depth_anything(tmp_path / "tiny-da")
    stats = convert_video(
        small_clip, tmp_path / "da.mp4", output_format=StereoFormat.HALF_SBS,
        settings=ConversionSettings(depth_model=str(model_dir)),
    )  # fmt: skip
    assert stats.depth_model == str(model_dir)
    assert stats.frames == 12


def test_not_a_video_is_a_readable_error(tmp_path: Path) -> None:
    bad = tmp_path / "notes.mp4"
    bad.write_text("hello")
    with pytest.raises(MediaError, match="not a video"):
        convert_video(bad, tmp_path / "o.mp4", output_format=StereoFormat.HALF_SBS,
                      settings=BUILTIN)  # fmt: skip
    assert not (tmp_path / "o.mp4").exists()


def _damaged_copy(clip: Path, dest: Path, scrambled_bytes: int) -> Path:
    data = bytearray(clip.read_bytes())
    middle = len(data) // 2
    noise = bytes((i * 97 + 13) % 256 for i in range(scrambled_bytes))
    data[middle : middle + scrambled_bytes] = noise
    dest.write_bytes(bytes(data))
    return dest


def _frames_and_duration(path: Path) -> tuple[int, float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.demux(stream) if _.size)
        assert stream.duration is not None
        return frames, float(stream.duration * stream.time_base)


def _undecodable_packets(path: Path) -> int:
    bad = 0
    with av.open(str(path)) as container:
        for packet in container.demux(container.streams.video[0]):
            try:
                packet.decode()
            except av.error.InvalidDataError:
                bad += 1
    return bad


def test_a_slightly_damaged_video_converts_like_a_player_shows_it(tmp_path: Path) -> None:
    # A damaged packet is skipped (the frame before it lasts longer); the timeline holds.
    clip = make_clip(tmp_path / "holiday.mp4", seconds=4.0, fps=30, width=240, height=136,
                     vfr=True, gop=90, bframes=2)  # fmt: skip
    damaged = _damaged_copy(clip, tmp_path / "damaged.mp4", 600)
    assert 1 <= _undecodable_packets(damaged) <= 3  # the premise: some damage, not much
    stats = convert_video(damaged, tmp_path / "o.mp4", output_format=StereoFormat.HALF_SBS,
                          settings=BUILTIN)  # fmt: skip
    source_frames, source_duration = _frames_and_duration(clip)
    frames, duration = _frames_and_duration(tmp_path / "o.mp4")
    assert source_frames - 5 <= frames < source_frames
    assert stats.frames == frames
    assert abs(duration - source_duration) <= 1 / 30


def test_a_badly_damaged_video_is_a_readable_error(tmp_path: Path) -> None:
    # The container and its index are intact, so probing passes; the damage shows only
    # when the frames are decoded, and the message must not be FFmpeg's errno text.
    clip = make_clip(tmp_path / "holiday.mp4", seconds=2.0, width=160, height=96, audio=False)
    damaged = _damaged_copy(clip, tmp_path / "damaged.mp4", len(clip.read_bytes()) // 4)
    with pytest.raises(MediaError) as caught:
        convert_video(damaged, tmp_path / "o.mp4", output_format=StereoFormat.HALF_SBS,
                      settings=BUILTIN)  # fmt: skip
    message = str(caught.value)
    assert message.startswith("The video is damaged: a part of it could not be decoded")
    assert "Errno" not in message and "damaged.mp4" not in message
    assert not (tmp_path / "o.mp4").exists()


def test_bad_options_are_readable_errors(small_clip: Path, tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="batch size"):
        convert_video(small_clip, tmp_path / "o.mp4", output_format=StereoFormat.HALF_SBS,
                      settings=BUILTIN, options=EngineOptions(batch_size=0))  # fmt: skip


def test_stats_type(small_clip: Path, tmp_path: Path) -> None:
    stats = convert_video(small_clip, tmp_path / "o.mp4", output_format=StereoFormat.ANAGLYPH,
                          settings=BUILTIN)  # fmt: skip
    assert isinstance(stats, ConversionStats) and stats.seconds > 0


def top_level_boxes(path: Path) -> list[str]:
    """The types of an mp4's top-level boxes, in file order (ISO/IEC 14496-12 sizes:
    32-bit, 1 = a 64-bit size follows, 0 = to the end of the file)."""
    data = path.read_bytes()
    boxes: list[str] = []
    offset = 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        boxes.append(data[offset + 4 : offset + 8].decode("latin-1"))
        if size == 1:
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
        elif size == 0:
            size = len(data) - offset
        assert size >= 8, f"a broken box at {offset}: {boxes}"
        offset += size
    return boxes


def test_the_output_is_faststart_its_index_before_the_media(
    tricky_clip: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.mp4"
    convert_video(tricky_clip, out, output_format=StereoFormat.FULL_SBS, settings=BUILTIN,
                  copy_audio=True)  # fmt: skip
    boxes = top_level_boxes(out)
    assert boxes[0] == "ftyp"
    assert boxes.count("moov") == 1 and boxes.count("mdat") == 1
    assert boxes.index("moov") < boxes.index("mdat"), boxes
