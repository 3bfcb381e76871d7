"""concat(): converted segments end to end by stream copy, plus the source's audio, faststart.

Video: segment k's pictures are shifted so it starts where segment k-1 ended (no gap, no
overlap). Segments made by separate encoder runs may start with different decode delays
(B-frames), so every segment's decode timeline is moved back by the largest delay D: dts
stays strictly increasing across boundaries and never passes pts.

Audio: copied bit-exact from the source when mp4 can carry its codec, otherwise
transcoded to AAC. It is aligned on the source's first picture, interleaved with the
video by time, and packets starting at or after the end of the video are dropped, so
audio and video end within one audio packet (< one frame) of each other.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av
import av.error
from av.audio.stream import AudioStream
from av.container import InputContainer, OutputContainer
from av.packet import Packet
from av.stream import Discard, Stream
from av.video.stream import VideoStream

from stereospot.adapters.media.parameter_sets import inband_parameter_sets
from stereospot.adapters.media.source import check_file, open_video
from stereospot.domain.errors import MediaError

# Audio codecs mp4 carries that browsers and players handle; others are transcoded to AAC.
COPYABLE_AUDIO_CODECS = frozenset({"aac", "mp3", "opus", "alac", "ac3", "eac3", "flac"})
TRANSCODE_AUDIO_BITRATE = 192_000
_DEFAULT_LAYOUTS = {1: "mono", 2: "stereo", 6: "5.1", 8: "7.1"}

if TYPE_CHECKING:  # Packet is generic only in the stubs
    AnyPacket = Packet[Any]


@dataclass(frozen=True)
class _SegmentHead:
    """What concat must know about a segment before muxing it."""

    path: Path
    time_base: Fraction
    first_pts: int
    first_dts: int
    codec: str
    size: tuple[int, int]
    frame_s: Fraction  # nominal frame interval, for a last packet without a duration
    extradata: bytes  # the segment's parameter sets (avcC / hvcC)

    @property
    def delay(self) -> Fraction:  # decode delay of the first picture, in seconds
        return (self.first_pts - self.first_dts) * self.time_base


def concat(segments: Sequence[Path], audio_source: Path | None, out: Path) -> None:
    if not segments:
        raise MediaError("There are no segments to join.")
    # Each segment is opened twice: for its first packet now (the decode delays of all
    # of them set the output's timeline), for its packets later. An mp4 segment opens
    # in about 1 ms without decoding a picture (source.QUICK_OPEN_OPTIONS; ~50-100 ms at
    # 1080p with FFmpeg's default probing), and only one is open at a time, so any
    # number of segments stays within the file-handle limit.
    heads = [_read_head(path, i) for i, path in enumerate(segments)]
    _check_compatible(heads)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial.mp4")
    try:
        _write(heads, audio_source, partial)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)


def _read_head(path: Path, index: int) -> _SegmentHead:
    try:
        head = _first_packet_head(path)
    except MediaError as exc:
        raise MediaError(f"Segment {index} ({path.name}) cannot be used: {exc}") from exc
    if head is None:
        raise MediaError(f"Segment {index} ({path.name}) has no pictures.")
    return head


def _first_packet_head(path: Path) -> _SegmentHead | None:
    with open_video(path, quick=True) as (container, stream):
        for packet in container.demux(stream):
            if packet.size == 0 or packet.pts is None:
                continue
            dts = packet.dts if packet.dts is not None else packet.pts
            return _SegmentHead(
                path=path,
                time_base=stream.time_base or Fraction(1, 90_000),
                first_pts=packet.pts,
                first_dts=min(dts, packet.pts),
                codec=stream.codec_context.codec.canonical_name,
                size=(stream.codec_context.width, stream.codec_context.height),
                frame_s=1 / Fraction(stream.average_rate or stream.guessed_rate or 25),
                extradata=bytes(stream.codec_context.extradata or b""),
            )
    return None


def _check_compatible(heads: list[_SegmentHead]) -> None:
    first = heads[0]
    for i, head in enumerate(heads[1:], start=1):
        if (head.codec, head.size) != (first.codec, first.size):
            raise MediaError(
                f"Segment {i} is {head.codec} {head.size[0]}x{head.size[1]} but segment 0 "
                f"is {first.codec} {first.size[0]}x{first.size[1]}; every segment must have "
                "the same codec and size to be joined."
            )


def _write(heads: list[_SegmentHead], audio_source: Path | None, out: Path) -> None:
    options = {"movflags": "faststart"}
    with av.open(str(out), mode="w", format="mp4", options=options) as output:
        # A full open for the template: its probe fills in what the header leaves unknown
        # (pixel format, colour details), which the output's stream description keeps.
        with open_video(heads[0].path) as (_, template):
            video_out = output.add_stream_from_template(template)
        video = _VideoPackets(heads, video_out)
        audio = _open_audio(audio_source, output) if audio_source is not None else None
        try:
            _interleave(output, video, audio)
        finally:
            if audio is not None:
                audio.close()


class _VideoPackets:
    """Every segment's packets in order, retimed onto one timeline (seconds as Fraction)."""

    def __init__(self, heads: list[_SegmentHead], stream: Stream) -> None:
        self.heads = heads
        self.stream = stream
        self.time_base = heads[0].time_base
        self.max_delay = max(head.delay for head in heads)
        self.end = Fraction(0)  # end of the last finished segment, in seconds
        self.finished = False

    def __iter__(self) -> Iterator[tuple[Fraction, AnyPacket]]:
        last_dts: int | None = None
        active = self.heads[0].extradata  # parameter sets the decoder holds
        for index, head in enumerate(self.heads):
            offset = self.end  # where this segment starts on the output timeline
            seg_end = offset
            prefix = b""
            if head.extradata != active:
                prefix = inband_parameter_sets(head.codec, head.extradata)
                active = head.extradata
            with open_video(head.path, quick=True) as (container, stream):
                for other in container.streams:
                    if other.index != stream.index:
                        other.discard = Discard.all
                for pts_in, packet in _demux(container, stream, head.path, index):
                    pts_s = (pts_in - head.first_pts) * head.time_base + offset
                    dts_raw = packet.dts if packet.dts is not None else pts_in
                    dts_s = (dts_raw - head.first_dts) * head.time_base + offset - self.max_delay
                    pts = round(pts_s / self.time_base)
                    dts = min(round(dts_s / self.time_base), pts)
                    if last_dts is not None and dts <= last_dts:
                        dts = last_dts + 1  # rounding between time bases only
                        if dts > pts:
                            raise MediaError(
                                f"Segment {index} ({head.path.name}) has timestamps that "
                                "cannot be joined after the previous segment."
                            )
                    last_dts = dts
                    duration = (packet.duration or 0) * head.time_base
                    seg_end = max(seg_end, pts_s + (duration or head.frame_s))
                    if prefix:
                        packet = _with_prefix(packet, prefix)
                        prefix = b""
                    packet.pts, packet.dts = pts, dts
                    packet.duration = round(duration / self.time_base)
                    packet.time_base = self.time_base
                    packet.stream = self.stream
                    yield Fraction(dts) * self.time_base, packet
            self.end = seg_end
        self.finished = True


def _with_prefix(packet: AnyPacket, prefix: bytes) -> AnyPacket:
    """A copy of `packet` whose data starts with `prefix`."""
    joined = av.Packet(prefix + bytes(packet))
    joined.pts, joined.dts, joined.duration = packet.pts, packet.dts, packet.duration
    joined.time_base = packet.time_base
    joined.is_keyframe = packet.is_keyframe
    return joined


def _demux(
    container: InputContainer, stream: VideoStream, path: Path, index: int
) -> Iterator[tuple[int, AnyPacket]]:
    try:
        for packet in container.demux(stream):
            if packet.size and packet.pts is not None:
                yield packet.pts, packet
    except av.error.FFmpegError as exc:
        raise MediaError(
            f"Segment {index} ({path.name}) is damaged or cut short ({exc.strerror})."
        ) from exc


class _AudioSource:
    """The source's first audio track as packets ready for the output, aligned on video."""

    def __init__(self, container: InputContainer, video_start: Fraction) -> None:
        self.container = container  # opened once, fully probed: audio details come from it
        self.stream: AudioStream = container.streams.audio[0]
        for other in container.streams:
            if other.index != self.stream.index:
                other.discard = Discard.all
        self.video_start = video_start
        self.copy = self.stream.codec_context.codec.canonical_name in COPYABLE_AUDIO_CODECS

    def add_output(self, output: OutputContainer) -> None:
        self.out: AudioStream
        if self.copy:
            self.out = output.add_stream_from_template(self.stream)
        else:
            self.out = output.add_stream("aac", rate=self.stream.codec_context.sample_rate)
            # Default channel order for the count: some sources leave the order unset.
            channels = self.stream.codec_context.channels
            self.out.layout = _DEFAULT_LAYOUTS.get(channels, self.stream.codec_context.layout)
            self.out.bit_rate = TRANSCODE_AUDIO_BITRATE

    def close(self) -> None:
        self.container.close()

    def __iter__(self) -> Iterator[tuple[Fraction, AnyPacket]]:
        return self._copied() if self.copy else self._transcoded()

    def _copied(self) -> Iterator[tuple[Fraction, AnyPacket]]:
        time_base = self.stream.time_base or Fraction(1, 90_000)
        shift = round(self.video_start / time_base)
        for packet in self.container.demux(self.stream):
            if packet.size == 0 or packet.pts is None:
                continue
            pts = packet.pts - shift
            if pts + (packet.duration or 0) < 0:
                continue  # entirely before the first picture (encoder priming ending at 0 stays)
            packet.pts = pts
            packet.dts = pts if packet.dts is None else packet.dts - shift
            packet.stream = self.out
            yield Fraction(pts) * time_base, packet

    def _transcoded(self) -> Iterator[tuple[Fraction, AnyPacket]]:
        """Decode, resample to the AAC encoder's format, encode; timed from the first kept
        sample, which lands at max(0, its source time - the first picture's time)."""
        rate = self.out.rate
        time_base = Fraction(1, rate)
        resampler = av.AudioResampler(format="fltp", layout=self.out.layout, rate=rate)
        origin: int | None = None  # output pts of the first kept sample
        samples = 0
        frames = self._decoded()
        for frame in _with_flush(frames):
            if origin is None and frame is not None and frame.pts is not None:
                start = frame.pts * (frame.time_base or time_base) - self.video_start
                origin = max(round(start / time_base), 0)
            for resampled in resampler.resample(frame):
                resampled.pts = (origin or 0) + samples
                resampled.time_base = time_base
                samples += resampled.samples
                yield from self._timed(self.out.encode(resampled), time_base)
        yield from self._timed(self.out.encode(None), time_base)

    def _decoded(self) -> Iterator[av.AudioFrame]:
        for frame in self.container.decode(self.stream):
            if frame.pts is None or frame.time_base is None:
                continue
            end = (frame.pts + frame.samples) * frame.time_base - self.video_start
            if end > 0:  # frames entirely before the first picture are not needed
                yield frame

    @staticmethod
    def _timed(
        packets: list[AnyPacket], time_base: Fraction
    ) -> Iterator[tuple[Fraction, AnyPacket]]:
        for packet in packets:
            yield Fraction(packet.pts or 0) * (packet.time_base or time_base), packet


def _with_flush(frames: Iterator[av.AudioFrame]) -> Iterator[av.AudioFrame | None]:
    yield from frames
    yield None  # flushes the resampler


def _video_start_s(path: Path) -> Fraction:
    """Time of the source's first picture: the zero of the converted video."""
    head = _first_packet_head(path)
    return Fraction(0) if head is None else head.first_pts * head.time_base


def _open_audio(path: Path, output: OutputContainer) -> _AudioSource | None:
    check_file(path)
    container = av.open(str(path))
    try:
        if not container.streams.audio:
            container.close()
            return None
        audio = _AudioSource(container, _video_start_s(path))
        audio.add_output(output)
    except BaseException:
        container.close()
        raise
    return audio


def _interleave(output: OutputContainer, video: _VideoPackets, audio: _AudioSource | None) -> None:
    """Write packets in time order; audio starting at or after the video's end is dropped.

    While video packets remain, an audio packet is only emitted before a later video
    packet, so it starts before the end; once the video is done its end is exact.
    """
    streams: list[Iterator[tuple[Fraction, AnyPacket]]] = [iter(video)]
    if audio is not None:
        streams.append(iter(audio))
    for time, packet in heapq.merge(*streams, key=lambda item: item[0]):
        if video.finished and packet.stream is not video.stream and time >= video.end:
            continue
        output.mux(packet)
