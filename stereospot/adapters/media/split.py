"""split(): keyframe-aligned, stream-copied, video-only mp4 segments, streamed packet by packet.

A segment runs from a keyframe until the first keyframe at least `target_seconds` later, so
a long GOP simply makes a longer segment. Each packet goes to exactly one segment, shifted
so the segment's first picture is at time 0. A B-frame stream keeps its decode delay: the
first packets have negative dts, which the mp4 muxer records with an edit list, exactly as
the source did, so the segment still plays from 0.
"""

from __future__ import annotations

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
        self.container: OutputContainer = av.open(str(path), mode="w", format="mp4")
        self.stream = self.container.add_stream_from_template(template)

    def write(self, packet: Packet[Any], pts: int, dts: int | None) -> None:
        self.count += 1
        self.last_pts = max(self.last_pts, pts)
        self.end = max(self.end, pts + (packet.duration or 0))
        packet.pts = pts - self.origin
        packet.dts = None if dts is None else dts - self.origin
        packet.stream = self.stream
        self.container.mux(packet)

    def close(self, time_base: Fraction, first_pts: int, typical_gap: int) -> SegmentFile:
        self.container.close()
        end = self.end if self.end > self.last_pts else self.last_pts + typical_gap
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
    segments: list[SegmentFile] = []
    with open_video(source) as (container, stream):
        for other in container.streams:
            if other.index != stream.index:
                other.discard = Discard.all
        time_base = stream.time_base or Fraction(1, 90_000)
        writer: _SegmentWriter | None = None
        first_pts: int | None = None
        typical_gap = 0
        try:
            for packet in container.demux(stream):
                if packet.size == 0 or packet.is_discard:
                    continue
                pts = packet.pts if packet.pts is not None else packet.dts
                if pts is None:
                    raise MediaError("The video's frames carry no timestamps; it is damaged.")
                if first_pts is None:
                    first_pts = pts
                if writer is not None and _is_cut(packet, pts - writer.origin, time_base, target):
                    segments.append(writer.close(time_base, first_pts, typical_gap))
                    writer = None
                if writer is None:
                    path = out_dir / segment_name(len(segments))
                    written.append(path)
                    writer = _SegmentWriter(path, len(segments), stream, pts)
                if packet.duration:
                    typical_gap = packet.duration
                writer.write(packet, pts, packet.dts)
        except av.error.FFmpegError as exc:
            done = float(((writer.last_pts if writer else 0) - (first_pts or 0)) * time_base)
            if writer is not None:
                writer.container.close()
            raise MediaError(
                f"The video is damaged or cut short after about {done:.1f} s ({exc.strerror})."
            ) from exc
        if writer is None or first_pts is None:
            raise MediaError("The video has no pictures.")
        segments.append(writer.close(time_base, first_pts, typical_gap))
    return segments


def _is_cut(packet: Packet[Any], elapsed: int, time_base: Fraction, target: Fraction) -> bool:
    """A new segment starts at a keyframe once the current one has reached the target."""
    return packet.is_keyframe and elapsed * time_base >= target - _TOLERANCE_S
