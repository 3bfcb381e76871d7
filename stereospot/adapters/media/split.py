"""split(): keyframe-aligned, stream-copied, video-only mp4 segments, streamed packet by packet.

A segment runs from a keyframe until the first keyframe at least `target_seconds` later, so
a long GOP simply makes a longer segment. Each packet goes to exactly one segment, shifted
so the segment's first picture is at time 0. A B-frame stream keeps its decode delay: the
first packets have negative dts, which the mp4 muxer records with an edit list, exactly as
the source did, so the segment still plays from 0.
"""

from __future__ import annotations

from collections import deque
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error
from av.container import OutputContainer
from av.packet import Packet
from av.stream import Discard
from av.video.stream import VideoStream

from stereospot.adapters.media.source import open_video
from stereospot.domain.errors import MediaError
from stereospot.domain.media import SegmentFile
from stereospot.domain.model import SegmentPlanEntry

# Keyframes this close to the target (in seconds) count as reaching it: timestamp rounding.
_TOLERANCE_S = Fraction(1, 1000)
# Packets read past a candidate keyframe to find its leading pictures, if any.
_LOOKAHEAD = 64
# Packets held back per segment so their dts can still be adjusted when it ends (see
# _SegmentWriter._finish_packets): more than any B-frame reorder depth.
_TAIL = 16


def segment_name(index: int) -> str:
    """File name of segment `index`; name order is index order."""
    return f"segment_{index:05d}.mp4"


class _SegmentWriter:
    """One open output segment and the bookkeeping for its plan entry."""

    def __init__(self, path: Path, index: int, template: VideoStream, origin: int) -> None:
        self.path = path
        self.index = index
        self.origin = origin  # source pts of the segment's first picture
        self.count = 0
        self.end = origin  # largest pts + duration seen, in source ticks
        self.last_pts = origin
        self.tail: deque[Packet[Any]] = deque()  # last packets, muxed at close
        self.muxed: tuple[int | None, int | None] = (None, None)  # last muxed (pts, dts)
        self.container: OutputContainer = av.open(str(path), mode="w", format="mp4")
        self.stream = self.container.add_stream_from_template(template)

    def write(self, packet: Packet[Any], pts: int, dts: int | None) -> None:
        self.count += 1
        self.last_pts = max(self.last_pts, pts)
        self.end = max(self.end, pts + (packet.duration or 0))
        packet.pts = pts - self.origin
        packet.dts = None if dts is None else dts - self.origin
        packet.stream = self.stream
        self.tail.append(packet)
        if len(self.tail) > _TAIL:
            self._mux(self.tail.popleft())

    def _mux(self, packet: Packet[Any]) -> None:
        self.muxed = (packet.pts, packet.dts)
        self.container.mux(packet)

    def _finish_packets(self, length: int) -> None:
        """Mux the held tail so that the segment lasts exactly `length` ticks.

        Readers measure a segment as its latest pts + duration, and an mp4 stores each
        packet's duration as the gap to the next dts (only the last packet's is kept as
        given). With B-frames and a variable rate such a gap is another picture's display
        time and can reach past the segment's end, so the tail's dts are lowered until no
        gap does, and the last packet's duration is set to end exactly at `length`.
        """
        prev_pts, prev_dts = self.muxed
        for packet in self.tail:
            room = None if prev_pts is None else length - prev_pts
            if room and room > 0 and prev_dts is not None and packet.dts is not None:
                packet.dts = min(packet.dts, prev_dts + room)
            prev_pts, prev_dts = packet.pts, packet.dts
        last = self.tail[-1] if self.tail else None
        if last is not None and last.pts is not None and length > last.pts:
            last.duration = length - last.pts
        while self.tail:
            self._mux(self.tail.popleft())

    def close(
        self, time_base: Fraction, first_pts: int, typical_gap: int, next_origin: int | None
    ) -> SegmentFile:
        """Finish the file. The plan's duration runs to the next segment's first picture
        when there is one (packet durations can be rounded, e.g. to milliseconds)."""
        end = self.end if self.end > self.last_pts else self.last_pts + typical_gap
        if next_origin is not None:
            end = next_origin
        self._finish_packets(end - self.origin)
        self.container.close()
        return SegmentFile(
            path=self.path,
            plan=SegmentPlanEntry(
                index=self.index,
                start_s=float((self.origin - first_pts) * time_base),
                duration_s=float((end - self.origin) * time_base),
                frame_count=self.count,
            ),
        )


def split(source: Path, out_dir: Path, target_seconds: float) -> list[SegmentFile]:
    if not target_seconds > 0:
        raise MediaError("The segment length must be a positive number of seconds.")
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        return _split(source, out_dir, Fraction(target_seconds), written)
    except BaseException:
        for path in written:  # leave no half-made segments behind
            path.unlink(missing_ok=True)
        raise


def _split(source: Path, out_dir: Path, target: Fraction, written: list[Path]) -> list[SegmentFile]:
    with open_video(source) as (container, stream):
        for other in container.streams:
            if other.index != stream.index:
                other.discard = Discard.all
        splitter = _Splitter(stream, out_dir, target, written)
        try:
            for packet in container.demux(stream):
                if packet.size and not packet.is_discard:
                    splitter.feed(packet)
        except av.error.FFmpegError as exc:
            splitter.abandon()
            raise MediaError(
                f"The video is damaged or cut short after about {splitter.done_s():.1f} s "
                f"({exc.strerror})."
            ) from exc
        return splitter.finish()


class _Splitter:
    """Routes packets (decode order) to segments.

    A keyframe past the target is only a cut point if no picture after it in decode order
    is shown before it. Such "leading" pictures (open GOP: HEVC CRA, x264 --open-gop) may
    refer to the previous GOP and would not decode at the start of a new segment, so the
    keyframe and its lookahead stay in the current segment and the next keyframe is tried.
    """

    def __init__(
        self, stream: VideoStream, out_dir: Path, target: Fraction, written: list[Path]
    ) -> None:
        self.stream = stream
        self.out_dir = out_dir
        self.target = target
        self.written = written
        self.time_base = stream.time_base or Fraction(1, 90_000)
        self.segments: list[SegmentFile] = []
        self.writer: _SegmentWriter | None = None
        self.first_pts: int | None = None
        self.typical_gap = 0
        self.pending: list[tuple[int, Packet[Any]]] = []  # candidate keyframe + lookahead

    def feed(self, packet: Packet[Any]) -> None:
        pts = packet.pts if packet.pts is not None else packet.dts
        if pts is None:
            raise MediaError("The video's frames carry no timestamps; the file is damaged.")
        if self.first_pts is None:
            self.first_pts = pts
        if packet.duration:
            self.typical_gap = packet.duration
        if self.pending:
            self.pending.append((pts, packet))
            if pts > self.pending[0][0] or len(self.pending) > _LOOKAHEAD:
                self._resolve()
        elif self.writer is not None and self._reached_target(packet, pts):
            self.pending.append((pts, packet))
        else:
            self._write(pts, packet)

    def finish(self) -> list[SegmentFile]:
        if self.pending:
            self._resolve()
        if self.writer is None or self.first_pts is None:
            raise MediaError("The video has no pictures.")
        self._close()
        return self.segments

    def abandon(self) -> None:
        if self.writer is not None:
            self.writer.container.close()

    def done_s(self) -> float:
        last = self.writer.last_pts if self.writer else 0
        return float((last - (self.first_pts or 0)) * self.time_base)

    def _reached_target(self, packet: Packet[Any], pts: int) -> bool:
        assert self.writer is not None
        elapsed = (pts - self.writer.origin) * self.time_base
        return packet.is_keyframe and elapsed >= self.target - _TOLERANCE_S

    def _resolve(self) -> None:
        key_pts = self.pending[0][0]
        if all(pts > key_pts for pts, _ in self.pending[1:]):
            self._close(next_origin=key_pts)
        pending, self.pending = self.pending, []
        for pts, packet in pending:
            self._write(pts, packet)

    def _write(self, pts: int, packet: Packet[Any]) -> None:
        if self.writer is None:
            path = self.out_dir / segment_name(len(self.segments))
            self.written.append(path)
            self.writer = _SegmentWriter(path, len(self.segments), self.stream, pts)
        self.writer.write(packet, pts, packet.dts)

    def _close(self, next_origin: int | None = None) -> None:
        assert self.writer is not None and self.first_pts is not None
        self.segments.append(
            self.writer.close(self.time_base, self.first_pts, self.typical_gap, next_origin)
        )
        self.writer = None
