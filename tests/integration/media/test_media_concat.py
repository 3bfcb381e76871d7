"""concat(): converted segments end to end + the source's audio, faststart mp4."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import pytest

from stereospot.adapters.media.pyav_toolkit import PyAVToolkit
from stereospot.domain.errors import MediaError
from tests.media_clips import make_clip, reencode


def convert_all(toolkit: PyAVToolkit, source: Path, folder: Path) -> list[Path]:
    """Split the source and 'convert' each segment (2x wide H.264) like the engine does."""
    segments = toolkit.split(source, folder / "split", 0.5)
    converted = folder / "converted"
    converted.mkdir()
    return [reencode(s.path, converted / s.path.name) for s in segments]


def stream_end_s(path: Path, kind: str) -> float:
    """End of the last packet of the first stream of `kind`, in seconds."""
    with av.open(str(path)) as container:
        stream = next(s for s in container.streams if s.type == kind)
        end = max((p.pts + (p.duration or 0)) for p in container.demux(stream) if p.size and p.pts)
        assert stream.time_base is not None
        return float(end * stream.time_base)


def audio_payloads(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(audio=0) if p.size]


@pytest.mark.parametrize(
    "name", ["h264.mp4", "bframes_long_gop.mp4", "vfr.mp4", "vp9_opus.webm", "h264_mp3.mkv"]
)
def test_result_matches_the_source_duration_and_ends_audio_with_video(
    toolkit: PyAVToolkit, clip: Callable[[str], Path], tmp_path: Path, name: str
) -> None:
    source = clip(name)
    source_info = toolkit.probe(source)
    out = tmp_path / "final.mp4"
    toolkit.concat(convert_all(toolkit, source, tmp_path), source, out)
    info = toolkit.probe(out)
    frame = 1 / source_info.fps
    assert info.frame_count == source_info.frame_count
    assert info.width == 2 * source_info.width  # the converted (full-sbs) size
    assert info.duration_s == pytest.approx(source_info.duration_s, abs=frame)
    assert abs(stream_end_s(out, "audio") - stream_end_s(out, "video")) < frame
    assert info.audio_codec == source_info.audio_codec  # stream copy, no transcode


def test_audio_is_copied_bit_exact(
    toolkit: PyAVToolkit, clip: Callable[[str], Path], tmp_path: Path
) -> None:
    source = clip("h264.mp4")
    out = tmp_path / "final.mp4"
    toolkit.concat(convert_all(toolkit, source, tmp_path), source, out)
    assert audio_payloads(out) == audio_payloads(source)


def test_segments_are_laid_end_to_end_without_gaps_or_overlaps(
    toolkit: PyAVToolkit, clip: Callable[[str], Path], tmp_path: Path
) -> None:
    source = clip("vfr.mp4")
    out = tmp_path / "final.mp4"
    toolkit.concat(convert_all(toolkit, source, tmp_path), source, out)
    with av.open(str(out)) as result, av.open(str(source)) as original:
        got = [Fraction(f.pts or 0) * (f.time_base or 1) for f in result.decode(video=0)]
        want = [Fraction(f.pts or 0) * (f.time_base or 1) for f in original.decode(video=0)]
    assert got == [t - want[0] for t in want]  # every picture at its source time


def test_segments_from_different_encoder_settings_still_decode(
    toolkit: PyAVToolkit, clip: Callable[[str], Path], tmp_path: Path
) -> None:
    # Segments alternately with and without B-frames: different decode delays and
    # different parameter sets (SPS/PPS) in each file.
    source = clip("bframes_long_gop.mp4")
    segments = toolkit.split(source, tmp_path / "split", 0.5)
    converted = [
        reencode(s.path, tmp_path / f"c{i}.mp4", bframes=2 * (i % 2))
        for i, s in enumerate(segments)
    ]
    out = tmp_path / "final.mp4"
    toolkit.concat(converted, source, out)
    with av.open(str(out)) as result:
        frames = [f.to_ndarray() for f in result.decode(video=0)]
    expected = []
    for path in converted:
        with av.open(str(path)) as part:
            expected += [f.to_ndarray() for f in part.decode(video=0)]
    assert len(frames) == len(expected) == 96
    assert all((a == b).all() for a, b in zip(frames, expected, strict=True))


def test_no_audio_in_the_source_means_none_in_the_result(
    toolkit: PyAVToolkit, clip: Callable[[str], Path], tmp_path: Path
) -> None:
    source = clip("no_audio.mp4")
    out = tmp_path / "final.mp4"
    toolkit.concat(convert_all(toolkit, source, tmp_path), source, out)
    assert not toolkit.probe(out).has_audio
    toolkit.concat(convert_all(toolkit, source, tmp_path / "b"), None, tmp_path / "none.mp4")
    assert not toolkit.probe(tmp_path / "none.mp4").has_audio


def test_audio_mp4_cannot_carry_is_transcoded_to_aac(
    toolkit: PyAVToolkit, clip: Callable[[str], Path], tmp_path: Path
) -> None:
    source = clip("h264_pcm.mov")
    out = tmp_path / "final.mp4"
    toolkit.concat(convert_all(toolkit, source, tmp_path), source, out)
    info = toolkit.probe(out)
    assert info.audio_codec == "aac"
    assert abs(stream_end_s(out, "audio") - stream_end_s(out, "video")) < 1 / 24
    with av.open(str(out)) as result:
        samples = sum(f.samples for f in result.decode(audio=0))
    assert samples / 48_000 == pytest.approx(2.0, abs=0.05)


def test_moov_box_comes_before_the_media_data(
    toolkit: PyAVToolkit, clip: Callable[[str], Path], tmp_path: Path
) -> None:
    source = clip("h264.mp4")
    out = tmp_path / "final.mp4"
    toolkit.concat(convert_all(toolkit, source, tmp_path), source, out)
    head = out.read_bytes()
    assert 0 < head.index(b"moov") < head.index(b"mdat")
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


def test_rotation_of_the_segments_is_kept(
    toolkit: PyAVToolkit, clip: Callable[[str], Path], tmp_path: Path
) -> None:
    source = clip("rotated.mp4")
    segments = [s.path for s in toolkit.split(source, tmp_path / "split", 0.5)]
    out = tmp_path / "final.mp4"
    toolkit.concat(segments, source, out)  # unconverted segments keep the display matrix
    assert toolkit.probe(out).rotation == 90


def test_audio_starting_before_the_first_picture_is_aligned_on_it(
    toolkit: PyAVToolkit, tmp_path: Path
) -> None:
    # The converted video's zero is the source's first picture; audio keeps its offset.
    source = make_clip(tmp_path / "src.mp4", seconds=1.0)
    out = tmp_path / "final.mp4"
    toolkit.concat(convert_all(toolkit, source, tmp_path), source, out)
    with av.open(str(out)) as result:
        first = next(p for p in result.demux(audio=0) if p.size)
        assert first.pts is not None and first.time_base is not None
        assert first.pts * first.time_base == Fraction(-1024, 48_000)  # AAC priming, as in source


def test_mismatched_segments_are_refused(
    toolkit: PyAVToolkit, clip: Callable[[str], Path], tmp_path: Path
) -> None:
    segments = [s.path for s in toolkit.split(clip("h264.mp4"), tmp_path / "split", 0.5)]
    wide = reencode(segments[1], tmp_path / "wide.mp4")
    with pytest.raises(MediaError, match="same codec and size"):
        toolkit.concat([segments[0], wide], None, tmp_path / "final.mp4")


def test_empty_or_missing_segments_are_refused(toolkit: PyAVToolkit, tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="no segments"):
        toolkit.concat([], None, tmp_path / "final.mp4")
    with pytest.raises(MediaError, match=r"Segment 0 \(gone.mp4\) cannot be used"):
        toolkit.concat([tmp_path / "gone.mp4"], None, tmp_path / "final.mp4")
    assert not (tmp_path / "final.mp4").exists()


def test_raw_vfr_b_frame_segments_rejoin_at_the_source_times(
    toolkit: PyAVToolkit, clip: Callable[[str], Path], tmp_path: Path
) -> None:
    # With B-frames a packet's duration (decode order) is not its picture's display time,
    # so a segment's length must come from the next segment's first picture.
    source = clip("vfr_bframes.mp4")
    segments = toolkit.split(source, tmp_path / "split", 0.4)
    assert len(segments) >= 3
    out = tmp_path / "final.mp4"
    toolkit.concat([s.path for s in segments], source, out)
    with av.open(str(out)) as result, av.open(str(source)) as original:
        got = [Fraction(f.pts or 0) * (f.time_base or 1) for f in result.decode(video=0)]
        want = [Fraction(f.pts or 0) * (f.time_base or 1) for f in original.decode(video=0)]
    assert got == [t - want[0] for t in want]  # every picture exactly at its source time
    source_info, info = toolkit.probe(source), toolkit.probe(out)
    assert info.duration_s == pytest.approx(source_info.duration_s, abs=1 / source_info.fps)
    assert abs(stream_end_s(out, "audio") - stream_end_s(out, "video")) < 1 / source_info.fps
