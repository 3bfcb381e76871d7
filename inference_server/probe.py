"""What a video stream is, measured once, the same way for everyone who asks.

The engine (video_io.probe_source, to decode and encode) and the media toolkit
(stereospot.adapters.media.probe, to plan segments and tell users what is wrong with a
file) both read a video through `scan_video`, so they agree on its rotation, frame count,
frame rate (constant or variable), picture size, bit depth and colour.

One pass over the video packets (no decoding, except up to the first picture, which proves
the stream decodes and carries the display rotation and colour). This module needs PyAV
only (no torch): the media workers import it without the engine's heavy parts.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import av
import av.error
from av.container import InputContainer
from av.stream import Discard
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from inference_server.hdr import HdrMetadata, read_hdr_metadata

# Frame intervals that differ by more than this share of the typical one (and by more
# than 2 clock ticks: rounding of the time base) mean a variable frame rate.
VFR_TOLERANCE = 0.05
DEFAULT_TIME_BASE = Fraction(1, 90_000)

# Colour codes (ISO/IEC 23091-2) when neither the picture nor the stream says.
_UNSPECIFIED = 2
_RANGE_UNSPECIFIED, _RANGE_FULL = 0, 2


def display_rotation(degrees: float | None) -> int:
    """A display matrix's rotation as 0, 90, 180 or 270 (counter-clockwise): the nearest
    quarter turn, a tie going to the next one (45 -> 90, -90 -> 270)."""
    return int(((degrees or 0.0) % 360 + 45) // 90) * 90 % 360


@dataclass(frozen=True)
class Colour:
    """The picture's colour description, as FFmpeg's integer codes."""

    primaries: int
    trc: int
    matrix: int
    range: int


@dataclass(frozen=True)
class StreamFacts:
    """A video stream as measured by scan_video. Times are in `time_base` ticks."""

    codec: str
    width: int  # of the decoded pictures (0 when none decoded)
    height: int
    rotation: int  # display rotation, counter-clockwise: 0, 90, 180 or 270
    pixel_format: str  # of the decoded pictures ("" when none decoded)
    bits: int  # bits per sample of the decoded pictures
    colour: Colour
    time_base: Fraction
    rate: Fraction  # the average frame rate the stream declares (or guesses)
    declared_frames: int  # the index's frame count (0 when it has none)
    declared_duration_s: float | None
    frame_count: int  # video packets seen (all of them when `complete`)
    complete: bool  # the scan saw every packet (not stopped at max_packets or damage)
    damaged_after_s: float | None  # where reading the packets failed, if it did
    damage: str  # FFmpeg's words for that failure ("" when none)
    start_pts: int | None
    last_pts: int | None  # the latest frame start
    end_pts: int | None  # the latest frame start + duration
    intervals: tuple[int, ...]  # between consecutive frame starts, presentation order
    keyframe_gaps: tuple[int, ...]  # between consecutive keyframes
    keyframes: int
    has_audio: bool
    audio_codec: str | None
    hdr: HdrMetadata = field(default_factory=HdrMetadata)  # HDR10 static metadata

    @property
    def decoded(self) -> bool:
        return self.width > 0 and self.height > 0

    def duration_s(self) -> float:
        """From the first frame's start to the last frame's end (the last frame lasts a
        typical interval when its packet has no duration)."""
        if self.start_pts is None or self.last_pts is None:
            return 0.0
        end = self.end_pts if self.end_pts is not None else self.last_pts
        if end <= self.last_pts:
            end = self.last_pts + _median(self.intervals)
        return float((end - self.start_pts) * self.time_base)

    @property
    def variable_rate(self) -> bool:
        """Frame intervals differ by more than rounding (VFR_TOLERANCE, 2 ticks)."""
        if len(self.intervals) < 2:
            return False
        allowed = max(2, _median(self.intervals) * VFR_TOLERANCE)
        return max(self.intervals) - min(self.intervals) > allowed

    def keyframe_interval_s(self) -> float | None:
        """The longest distance between keyframes (the whole length with one keyframe)."""
        if not self.keyframes:
            return None
        if not self.keyframe_gaps:
            return self.duration_s()
        return float(max(self.keyframe_gaps) * self.time_base)


def _median(values: tuple[int, ...]) -> int:
    return sorted(values)[len(values) // 2] if values else 0


def scan_video(
    container: InputContainer, stream: VideoStream, max_packets: int | None = None
) -> StreamFacts:
    """Measure `stream` of a freshly opened `container` (the scan reads from packet 0).

    max_packets: stop after this many video packets (a long film is known by its first
    minutes; `complete` is then False). A damaged packet stream stops the scan too, with
    `damaged_after_s` and `damage` saying where and why; callers decide whether that is
    an error. Other streams are discarded while scanning.
    """
    for other in container.streams:
        if other.index != stream.index:
            other.discard = Discard.all  # audio and data: we only count pictures
    time_base = stream.time_base or DEFAULT_TIME_BASE
    starts: list[int] = []
    keyframes: list[int] = []
    end: int | None = None
    first: VideoFrame | None = None
    complete = True
    damage = ""
    try:
        for packet in container.demux(stream):
            if packet.size == 0 or packet.is_discard:
                continue
            pts = packet.pts if packet.pts is not None else packet.dts
            if pts is None:
                complete, damage = False, "its frames carry no timestamps"
                break
            starts.append(pts)
            if packet.is_keyframe:
                keyframes.append(pts)
            finish = pts + (packet.duration or 0)
            end = finish if end is None else max(end, finish)
            if first is None:
                first = _decode_first(stream, packet)
            if max_packets is not None and len(starts) >= max_packets:
                complete = False
                break
    except av.error.FFmpegError as exc:
        complete = False
        damage = exc.strerror or str(exc)
    if first is None and starts and not damage:
        first = _decode_first(stream, None)  # a decoder with delay: flush it
    return _facts(container, stream, time_base, starts, keyframes, end, first, complete, damage)


def _facts(
    container: InputContainer,
    stream: VideoStream,
    time_base: Fraction,
    starts: list[int],
    keyframes: list[int],
    end: int | None,
    first: VideoFrame | None,
    complete: bool,
    damage: str,
) -> StreamFacts:
    ordered = sorted(starts)
    intervals = tuple(b - a for a, b in itertools.pairwise(ordered) if b > a)
    keys = sorted(keyframes)
    audio = container.streams.audio[0] if container.streams.audio else None
    facts = StreamFacts(
        codec=stream.codec_context.codec.canonical_name,
        width=first.width if first is not None else 0,
        height=first.height if first is not None else 0,
        rotation=display_rotation(first.rotation if first is not None else 0),
        pixel_format=first.format.name if first is not None else "",
        bits=max(c.bits for c in first.format.components) if first is not None else 8,
        colour=_colour(stream, first),
        time_base=time_base,
        rate=Fraction(stream.average_rate or stream.guessed_rate or 30),
        declared_frames=int(stream.frames or 0),
        declared_duration_s=_declared_duration_s(container, stream),
        frame_count=len(starts),
        complete=complete,
        damaged_after_s=None,
        damage=damage,
        start_pts=ordered[0] if ordered else None,
        last_pts=ordered[-1] if ordered else None,
        end_pts=end,
        intervals=intervals,
        keyframe_gaps=tuple(b - a for a, b in itertools.pairwise(keys)),
        keyframes=len(keys),
        has_audio=audio is not None,
        audio_codec=audio.codec_context.codec.canonical_name if audio is not None else None,
        hdr=read_hdr_metadata(first) if first is not None else HdrMetadata(),
    )
    return replace(facts, damaged_after_s=facts.duration_s()) if damage else facts


def _decode_first(stream: VideoStream, packet: av.Packet[Any] | None) -> VideoFrame | None:
    """The first picture, once the decoder gives one (None while it is still filling,
    or when this packet does not decode: players skip such a packet too)."""
    try:
        frames = stream.decode(packet)
    except av.error.InvalidDataError:
        return None
    return frames[0] if frames else None


def _colour(stream: VideoStream, first: VideoFrame | None) -> Colour:
    ctx = stream.codec_context

    def code(frame_value: Any, stream_value: Any, default: int) -> int:
        return int(frame_value or stream_value or default)

    colour = Colour(
        primaries=code(first and first.color_primaries, ctx.color_primaries, _UNSPECIFIED),
        trc=code(first and first.color_trc, ctx.color_trc, _UNSPECIFIED),
        matrix=code(first and first.colorspace, ctx.colorspace, _UNSPECIFIED),
        range=code(first and first.color_range, ctx.color_range, _RANGE_UNSPECIFIED),
    )
    if first is not None and first.format.name == "yuvj420p":  # JPEG-style: full range
        colour = Colour(colour.primaries, colour.trc, colour.matrix, _RANGE_FULL)
    return colour


def _declared_duration_s(container: InputContainer, stream: VideoStream) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return None
