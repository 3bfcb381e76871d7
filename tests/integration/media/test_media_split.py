"""split(): every source frame in exactly one segment, timestamps from 0, streams kept as is."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from pathlib import Path

import av
import pytest

from stereospot.adapters.media.pyav_toolkit import PyAVToolkit
from stereospot.domain.errors import MediaError
from stereospot.domain.media import SegmentFile
from tests.media_clips import make_clip, truncate


def frame_digests(path: Path) -> list[str]:
    """One digest per decoded picture, in presentation order."""
    with av.open(str(path)) as container:
        return [
            hashlib.sha1(frame.to_ndarray().tobytes()).hexdigest()
            for frame in container.decode(video=0)
        ]


def presentation_times(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        return [float((f.pts or 0) * (f.time_base or 1)) for f in container.decode(video=0)]


SPLITTABLE = [
    "h264.mp4",
    "bframes_long_gop.mp4",
    "vfr.mp4",
    "rotated.mp4",
    "odd_size.mp4",
    "hevc10.mp4",
    "vp9_opus.webm",
    "h264_pcm.mov",
]


@pytest.mark.parametrize("name", SPLITTABLE)
def test_every_frame_lands_in_exactly_one_segment(
    toolkit: PyAVToolkit, clip: Callable[[str], Path], tmp_path: Path, name: str
) -> None:
    source = clip(name)
    segments = toolkit.split(source, tmp_path, 0.5)
    assert len(segments) >= 2
    # Same pictures, same order: no frame dropped or duplicated at any boundary.
    joined = [digest for s in segments for digest in frame_digests(s.path)]
    assert joined == frame_digests(source)
    for segment in segments:
        times = presentation_times(segment.path)
        assert times[0] == 0.0, f"{segment.path.name} does not start at 0"
        assert len(times) == segment.plan.frame_count


@pytest.mark.parametrize("name", SPLITTABLE)
def test_plan_is_contiguous_and_matches_the_source(
    toolkit: PyAVToolkit, clip: Callable[[str], Path], tmp_path: Path, name: str
) -> None:
    source = clip(name)
    info = toolkit.probe(source)
    segments = toolkit.split(source, tmp_path, 0.5)
    assert [s.plan.index for s in segments] == list(range(len(segments)))
    assert sum(s.plan.frame_count for s in segments) == info.frame_count
    for before, after in itertools.pairwise(segments):
        assert after.plan.start_s == pytest.approx(before.plan.start_s + before.plan.duration_s)
    assert sum(s.plan.duration_s for s in segments) == pytest.approx(
        info.duration_s, abs=1 / info.fps
    )


@pytest.mark.parametrize("name", ["hevc_open_gop.mp4", "h264_open_gop.mp4"])
def test_open_gop_keyframes_with_leading_pictures_are_not_cut_points(
    toolkit: PyAVToolkit, clip: Callable[[str], Path], tmp_path: Path, name: str
) -> None:
    # Leading B-frames after an open-GOP keyframe refer to the GOP before it; cutting
    # there would lose them. Whatever the cuts, every picture must survive.
    source = clip(name)
    segments = toolkit.split(source, tmp_path, 0.25)
    joined = [digest for s in segments for digest in frame_digests(s.path)]
    assert joined == frame_digests(source)
    assert [presentation_times(s.path)[0] for s in segments] == [0.0] * len(segments)


def test_segments_keep_the_sources_relative_timestamps_for_vfr(
    toolkit: PyAVToolkit, clip: Callable[[str], Path], tmp_path: Path
) -> None:
    source = clip("vfr.mp4")
    segments = toolkit.split(source, tmp_path, 0.5)
    rebuilt = [round(s.plan.start_s + t, 6) for s in segments for t in presentation_times(s.path)]
    assert rebuilt == [round(t, 6) for t in presentation_times(source)]
    assert toolkit.probe(segments[0].path).variable_frame_rate


def test_segments_are_video_only_mp4_with_the_source_stream_kept(
    toolkit: PyAVToolkit, clip: Callable[[str], Path], tmp_path: Path
) -> None:
    for name, codec, pix_fmt, rotation in [
        ("hevc10.mp4", "hevc", "yuv420p10le", 0),
        ("rotated.mp4", "h264", "yuv420p", 90),
        ("vp9_opus.webm", "vp9", "yuv420p", 0),
        ("odd_size.mp4", "h264", "yuv444p", 0),
    ]:
        source_info = toolkit.probe(clip(name))
        for segment in toolkit.split(clip(name), tmp_path / name, 0.5):
            info = toolkit.probe(segment.path)
            assert (info.codec, info.pixel_format, info.rotation) == (codec, pix_fmt, rotation)
            assert (info.width, info.height) == (source_info.width, source_info.height)
            assert not info.has_audio
            with av.open(str(segment.path)) as container:
                assert container.format.name.startswith("mov,mp4")
                assert len(container.streams) == 1


def test_long_gop_segment_runs_to_the_next_keyframe(
    toolkit: PyAVToolkit, clip: Callable[[str], Path], tmp_path: Path
) -> None:
    # Keyframes every 2.5 s; asking for 1 s segments gives 2.5 s segments.
    segments = toolkit.split(clip("bframes_long_gop.mp4"), tmp_path, 1.0)
    assert [s.plan.frame_count for s in segments] == [60, 36]
    assert [s.plan.start_s for s in segments] == pytest.approx([0.0, 2.5])


def test_bframe_segment_starts_with_negative_dts_yet_plays_from_zero(
    toolkit: PyAVToolkit, clip: Callable[[str], Path], tmp_path: Path
) -> None:
    segments = toolkit.split(clip("bframes_long_gop.mp4"), tmp_path, 1.0)
    with av.open(str(segments[1].path)) as container:
        first = next(p for p in container.demux(video=0) if p.size)
        assert first.dts is not None and first.pts is not None
        assert first.dts < 0 <= first.pts  # decode delay kept, as in the source
    assert presentation_times(segments[1].path)[0] == 0.0


def test_output_folder_holds_only_segments_named_in_index_order(
    toolkit: PyAVToolkit, clip: Callable[[str], Path], tmp_path: Path
) -> None:
    source = make_clip(tmp_path / "short_gop.mp4", gop=4, audio=False)  # 12 GOPs
    out = tmp_path / "segments"
    segments = toolkit.split(source, out, 0.1)
    assert len(segments) == 12  # so "10" and "11" must sort after "9"
    assert sorted(p.name for p in out.iterdir()) == [s.path.name for s in segments]


def test_one_segment_when_target_is_longer_than_the_video(
    toolkit: PyAVToolkit, clip: Callable[[str], Path], tmp_path: Path
) -> None:
    segments = toolkit.split(clip("h264.mp4"), tmp_path, 60)
    assert [s.plan.frame_count for s in segments] == [48]
    assert isinstance(segments[0], SegmentFile)


def test_non_positive_target_is_refused(
    toolkit: PyAVToolkit, clip: Callable[[str], Path], tmp_path: Path
) -> None:
    with pytest.raises(MediaError, match="positive number of seconds"):
        toolkit.split(clip("h264.mp4"), tmp_path, 0)


def test_cut_short_source_fails_and_leaves_no_segments(
    toolkit: PyAVToolkit, tmp_path: Path
) -> None:
    whole = make_clip(tmp_path / "whole.mp4", faststart=True, seconds=2.0)
    cut = truncate(whole, tmp_path / "cut.mp4", 0.5)
    out = tmp_path / "segments"
    try:
        segments = toolkit.split(cut, out, 0.5)
    except MediaError as exc:
        assert "cut short" in str(exc) or "damaged" in str(exc)
        assert list(out.glob("*")) == []
    else:  # FFmpeg may just stop at the cut: then what is there must be whole and valid
        assert sum(s.plan.frame_count for s in segments) < 48


def test_vfr_b_frame_segment_lasts_until_the_next_segments_first_picture(
    toolkit: PyAVToolkit, clip: Callable[[str], Path], tmp_path: Path
) -> None:
    # Its length as readers measure it (latest pts + duration) is the plan's duration.
    # Here one segment's latest picture has a dts gap longer than its display time.
    segments = toolkit.split(clip("vfr_bframes.mp4"), tmp_path, 0.4)
    assert len(segments) >= 3
    for segment, following in itertools.pairwise(segments):
        with av.open(str(segment.path)) as container:
            stream = container.streams.video[0]
            assert stream.time_base is not None
            end = max((p.pts or 0) + (p.duration or 0) for p in container.demux(stream) if p.size)
            assert float(end * stream.time_base) == pytest.approx(
                following.plan.start_s - segment.plan.start_s, abs=1e-9
            )
