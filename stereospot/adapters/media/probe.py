"""probe(): what a video is, measured from its packets rather than trusted from its header.

One pass over the video packets (no decoding, except the first picture, which proves the
stream decodes and carries the display rotation) gives the exact frame count, the
keyframe spacing, whether the frame rate varies, and whether the file is cut short.
"""

from __future__ import annotations

import itertools
from array import array
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error
from av.stream import Discard
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from stereospot.adapters.media.source import check_file, open_video
from stereospot.domain.errors import MediaError
from stereospot.domain.media import VideoInfo

# Frame intervals that differ by more than this (and by more than 2 clock ticks) mean VFR.
_VFR_TOLERANCE = 0.05


def probe(path: Path) -> VideoInfo:
    size = check_file(path)
    with open_video(path) as (container, stream):
        scan = _scan_packets(container, stream)
        audio = container.streams.audio[0] if container.streams.audio else None
        audio_codec = audio.codec_context.codec.canonical_name if audio is not None else None
        declared = stream.frames
        declared_s = _declared_duration_s(container.duration, stream)
        width, height = stream.codec_context.width, stream.codec_context.height
        codec = stream.codec_context.codec.canonical_name
        average_rate = float(stream.average_rate or 1)
    if scan.count == 0 or scan.first_frame is None:
        raise MediaError("The video has no picture that can be decoded; the file is damaged.")
    if declared and scan.count < declared:
        raise MediaError(
            f"The video is cut short: its index lists {declared} frames but only "
            f"{scan.count} are in the file, so the upload probably did not finish."
        )
    duration = scan.duration_s()
    if declared_s is not None and duration < declared_s * 0.9 - 0.5:
        raise MediaError(
            f"The video is cut short: it should last {declared_s:.1f} s but its pictures "
            f"stop at {duration:.1f} s."
        )
    pix_fmt = scan.first_frame.format.name
    return VideoInfo(
        duration_s=duration,
        fps=scan.count / duration if duration > 0 else average_rate,
        variable_frame_rate=scan.variable_rate(),
        width=width,
        height=height,
        rotation=_normalise_rotation(scan.first_frame.rotation),
        pixel_format=pix_fmt,
        bit_depth=_bit_depth(pix_fmt),
        codec=codec,
        frame_count=scan.count,
        frame_count_exact=True,
        keyframe_interval_s=scan.keyframe_interval_s(),
        has_audio=audio is not None,
        audio_codec=audio_codec,
        size_bytes=size,
    )


class _Scan:
    """Running totals over the video packets, in the stream's time base."""

    def __init__(self, time_base: Fraction) -> None:
        self.time_base = time_base
        self.count = 0
        self.pts = array("q")
        self.keyframes = array("q")
        self.start: int | None = None
        self.end: int | None = None
        self.first_frame: VideoFrame | None = None

    def add(self, pts: int, duration: int, keyframe: bool) -> None:
        self.count += 1
        self.pts.append(pts)
        if keyframe:
            self.keyframes.append(pts)
        self.start = pts if self.start is None else min(self.start, pts)
        end = pts + duration
        self.end = end if self.end is None else max(self.end, end)

    def intervals(self) -> list[int]:
        ordered = sorted(self.pts)
        return [b - a for a, b in itertools.pairwise(ordered) if b > a]

    def duration_s(self) -> float:
        if self.start is None or self.end is None:
            return 0.0
        end = self.end
        if end <= max(self.pts):  # last packet had no duration: assume a typical interval
            gaps = self.intervals()
            end = max(self.pts) + (sorted(gaps)[len(gaps) // 2] if gaps else 0)
        return float((end - self.start) * self.time_base)

    def variable_rate(self) -> bool:
        gaps = self.intervals()
        if len(gaps) < 2:
            return False
        median = sorted(gaps)[len(gaps) // 2]
        allowed = max(2, median * _VFR_TOLERANCE)
        return max(gaps) - min(gaps) > allowed

    def keyframe_interval_s(self) -> float | None:
        keys = sorted(self.keyframes)
        if not keys:
            return None
        if len(keys) == 1:
            return self.duration_s()
        return float(max(b - a for a, b in itertools.pairwise(keys)) * self.time_base)


def _scan_packets(container: av.container.InputContainer, stream: VideoStream) -> _Scan:
    time_base = stream.time_base or Fraction(1, 90_000)
    scan = _Scan(time_base)
    for other in container.streams:
        if other.index != stream.index:
            other.discard = Discard.all  # skip audio and data: we only count pictures
    try:
        for packet in container.demux(stream):
            if packet.size == 0 or packet.is_discard:
                continue
            pts = packet.pts if packet.pts is not None else packet.dts
            if pts is None:
                raise MediaError("The video's frames carry no timestamps; the file is damaged.")
            scan.add(pts, packet.duration or 0, packet.is_keyframe)
            if scan.first_frame is None:
                scan.first_frame = _decode_first(stream, packet)
    except av.error.FFmpegError as exc:
        where = scan.duration_s()
        raise MediaError(
            f"The video is damaged or cut short after about {where:.1f} s ({exc.strerror})."
        ) from exc
    if scan.first_frame is None and scan.count:
        scan.first_frame = _decode_first(stream, None)
    return scan


def _decode_first(stream: VideoStream, packet: av.Packet[Any] | None) -> VideoFrame | None:
    frames = stream.decode(packet)
    return frames[0] if frames else None


def _declared_duration_s(container_duration: int | None, stream: VideoStream) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container_duration:
        return container_duration / av.time_base
    return None


def _normalise_rotation(degrees: float) -> int:
    return round(degrees / 90.0) * 90 % 360


def _bit_depth(pix_fmt: str) -> int:
    try:
        return max(c.bits for c in av.VideoFormat(pix_fmt).components)
    except (ValueError, av.error.FFmpegError):
        return 8
