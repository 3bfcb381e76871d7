"""Frame timing survives conversion: VFR durations, the last frame's, joined segments."""

from __future__ import annotations

import itertools
from pathlib import Path

import av

from inference_server.api import convert_video
from inference_server.video_io import probe_source
from stereospot.adapters.media.pyav_toolkit import PyAVToolkit
from stereospot.domain.formats import ConversionSettings, StereoFormat
from tests.media_clips import make_clip

BUILTIN = ConversionSettings(depth_model="builtin")


def packets(path: Path) -> list[tuple[int, int, int]]:
    """(pts, dts, duration) of every video packet, in decode order."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        found = []
        for packet in container.demux(stream):
            if packet.size:
                assert packet.pts is not None and packet.dts is not None
                found.append((packet.pts, packet.dts, packet.duration or 0))
        return found


def end_of(path: Path) -> int:
    """The latest pts + duration: how the video toolkit measures a segment's length."""
    return max(pts + duration for pts, _, duration in packets(path))


def display_durations(path: Path) -> list[int]:
    """Each frame's duration by presentation time; the last one lasts to the end."""
    starts = sorted(pts for pts, _, _ in packets(path))
    return [b - a for a, b in itertools.pairwise(starts)] + [end_of(path) - starts[-1]]


def test_vfr_packets_keep_every_frames_duration(tmp_path: Path) -> None:
    source = make_clip(tmp_path / "vfr.mp4", seconds=1.0, fps=24, width=64, height=48,
                       vfr=True, bframes=2, audio=False)  # fmt: skip
    assert probe_source(source).variable_rate
    out = tmp_path / "out.mp4"
    convert_video(source, out, output_format=StereoFormat.HALF_SBS, settings=BUILTIN)
    converted = packets(out)
    assert [pts for pts, _, _ in converted] == sorted(pts for pts, _, _ in packets(source))
    # Packets in presentation order, each with its own frame's duration, the last one's
    # included: the segment ends exactly where the source did.
    assert [duration for _, _, duration in converted] == display_durations(source)
    assert end_of(out) == end_of(source)
    assert len(set(display_durations(source))) > 1  # really variable


def test_constant_rate_keeps_b_frames_and_its_end(tmp_path: Path) -> None:
    source = make_clip(tmp_path / "cfr.mp4", seconds=1.0, fps=24, width=64, height=48,
                       audio=False)  # fmt: skip
    assert not probe_source(source).variable_rate
    out = tmp_path / "out.mp4"
    convert_video(source, out, output_format=StereoFormat.HALF_SBS, settings=BUILTIN)
    converted = packets(out)
    assert any(pts != dts for pts, dts, _ in converted)  # reordered: B-frames still used
    assert end_of(out) == end_of(source)


def test_joined_vfr_segments_keep_the_timeline_of_the_joined_sources(tmp_path: Path) -> None:
    """Converting adds no drift: converted segments join into the same frame times as
    the source segments themselves do (each converted segment has its source's length)."""
    source = make_clip(tmp_path / "vfr.mp4", seconds=3.0, fps=24, width=64, height=48,
                       vfr=True, bframes=2, gop=12, audio=False)  # fmt: skip
    toolkit = PyAVToolkit()
    segments = [s.path for s in toolkit.split(source, tmp_path / "segments", 1.0)]
    assert len(segments) >= 3
    converted = []
    for segment in segments:
        out = tmp_path / f"3d_{segment.name}"
        convert_video(segment, out, output_format=StereoFormat.HALF_SBS, settings=BUILTIN)
        assert end_of(out) == end_of(segment)
        converted.append(out)
    toolkit.concat(segments, None, tmp_path / "joined_sources.mp4")
    toolkit.concat(converted, None, tmp_path / "joined.mp4")
    expected, result = (frame_times(tmp_path / n) for n in ("joined_sources.mp4", "joined.mp4"))
    assert len(result) == len(expected) == len(frame_times(source))
    assert result == expected


def frame_times(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        return [round(frame.time or 0.0, 6) for frame in container.decode(video=0)]
