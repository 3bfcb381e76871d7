"""Streaming decode and encode with PyAV: YUV 4:2:0 planes in, H.264 out.

Frames travel as one uint8 array per frame in the "I420" layout PyAV uses for yuv420p
(`(H * 3 // 2, W)`: the Y plane, then U, then V). Odd sizes are cropped by one pixel on
the right/bottom, because 4:2:0 H.264 in browsers needs even dimensions.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

import av
import numpy as np

from inference_server.colour import ColourInfo
from inference_server.encoding import SOFTWARE, codec_options, set_threads
from inference_server.hdr import HdrMetadata
from inference_server.layout import I420, PlaneLayout
from inference_server.probe import scan_video
from stereospot.domain.errors import MediaError

log = logging.getLogger(__name__)

# Layout-identical to yuv420p; the "j" variant only says full range (kept via ColourInfo).
_NATIVE_FORMATS = {"yuv420p", "yuvj420p"}
MUXER_OPTIONS = {"movflags": "+faststart"}


@dataclass(frozen=True)
class VideoSource:
    """What the encoder needs to know about the input stream."""

    width: int  # even, after the crop
    height: int
    time_base: Fraction
    rate: Fraction
    total_frames: int  # best estimate, for progress (0 when unknown)
    rotation: int  # counter-clockwise degrees, multiple of 90
    colour: ColourInfo
    cropped: tuple[int, int]  # pixels dropped on the right and bottom (0 or 1)
    variable_rate: bool = False  # frame durations differ (see probe.StreamFacts)
    last_pts: int | None = None  # the latest frame start, when the scan saw every packet
    bits: int = 8  # bits per sample of the decoded pictures
    hdr: HdrMetadata = field(default_factory=HdrMetadata)  # HDR10 static metadata


@dataclass(frozen=True)
class DecodedFrame:
    i420: np.ndarray  # (H*3//2, W) uint8
    pts: int
    duration: int  # until the next frame; the last one: until the stream's end


@dataclass(frozen=True)
class DecodedBatch:
    frames: np.ndarray  # (batch_size, H*3//2, W) uint8; the first len(pts) are filled
    pts: list[int]
    durations: list[int]


def open_input(path: Path) -> av.container.InputContainer:
    if not path.is_file():
        raise MediaError(f"The input file {path} does not exist.")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise MediaError(f"{path.name} is not a video file we can read ({exc}).") from exc
    if not container.streams.video:
        container.close()
        raise MediaError(f"{path.name} has no video stream.")
    return container


def probe_source(path: Path) -> VideoSource:
    """The stream as inference_server.probe measures it (for the media toolkit too): the
    first picture (rotation, actual size, colour) and the packet timestamps (frame count,
    variable frame rate, the last frame's start)."""
    with open_input(path) as container:
        facts = scan_video(container, container.streams.video[0], max_packets=SCAN_PACKETS)
    if not facts.decoded:
        raise MediaError(f"{path.name} contains no decodable video frame.")
    width, height = facts.width, facts.height
    if width < 2 or height < 2:
        raise MediaError(f"{path.name} is {width}x{height}: too small to convert.")
    total = facts.frame_count if facts.complete else facts.declared_frames
    if total <= 0 and facts.declared_duration_s:
        total = round(facts.declared_duration_s * float(facts.rate))
    colour = facts.colour
    return VideoSource(
        width=width - width % 2,
        height=height - height % 2,
        time_base=facts.time_base,
        rate=facts.rate,
        total_frames=max(total, 0),
        rotation=facts.rotation,
        colour=ColourInfo(
            primaries=colour.primaries, trc=colour.trc, matrix=colour.matrix, range=colour.range
        ),
        cropped=(width % 2, height % 2),
        variable_rate=facts.variable_rate,
        last_pts=facts.last_pts if facts.complete else None,
        bits=facts.bits,
        hdr=facts.hdr,
    )


SCAN_PACKETS = 20_000  # a segment is scanned whole; a long film by its first minutes


def frame_to_i420(
    frame: av.VideoFrame,
    width: int,
    height: int,
    out: np.ndarray | None = None,
    layout: PlaneLayout = I420,
) -> np.ndarray:
    """One decoded frame -> (layout.rows(height), width) planes (into `out`), cropping
    odd edges. Any other pixel format is converted by FFmpeg's swscale (`reformat`)."""
    fmt = layout.pix_fmt
    native = frame.format.name == fmt or (layout is I420 and frame.format.name in _NATIVE_FORMATS)
    if not native or frame.width < width or frame.height < height:
        frame = frame.reformat(width=max(width, frame.width), height=max(height, frame.height),
                               format=fmt)  # fmt: skip
    if out is None:
        out = np.empty((layout.rows(height), width), dtype=layout.numpy_dtype)
    out[:height] = _plane(frame, 0, layout)[:height, :width]
    shift = layout.chroma_shift
    ch, cw = height >> shift, width >> shift
    chroma = out[height:].reshape(-1)
    chroma[: ch * cw] = _plane(frame, 1, layout)[:ch, :cw].reshape(-1)
    chroma[ch * cw :] = _plane(frame, 2, layout)[:ch, :cw].reshape(-1)
    return out


def _plane(frame: av.VideoFrame, index: int, layout: PlaneLayout = I420) -> np.ndarray:
    plane = frame.planes[index]
    dtype = layout.numpy_dtype
    rows: np.ndarray = np.frombuffer(memoryview(plane), dtype=dtype)
    size = np.dtype(dtype).itemsize
    return rows.reshape(-1, plane.line_size // size)[: plane.height, : plane.width]


# Players show a video with a damaged packet here and there; so do we: such packets are
# skipped (the frame before lasts longer). Only widespread damage stops the conversion.
DAMAGED_PACKETS_ALLOWED = 3
DAMAGED_SHARE_ALLOWED = 0.15


def _tolerant_decode(
    container: av.container.InputContainer, stream: av.VideoStream
) -> Iterator[av.VideoFrame]:
    packets = damaged = 0
    for packet in container.demux(stream):
        packets += 1
        try:
            frames = packet.decode()
        except av.error.InvalidDataError:
            damaged += 1
            if damaged > max(DAMAGED_PACKETS_ALLOWED, DAMAGED_SHARE_ALLOWED * packets):
                raise
            log.warning("skipped a damaged video packet (%d so far)", damaged)
            continue
        yield from frames


def _timed_frames(
    path: Path, source: VideoSource, seek_pts: int | None = None
) -> Iterator[tuple[av.VideoFrame, int, int]]:
    """(frame, pts, duration) in presentation order, pts strictly increasing (repaired if
    needed). A frame lasts until the next one starts; the last one until the stream's
    end, the latest pts + duration of any frame (how the video toolkit measures a
    segment), so converted segments join without drifting. With `seek_pts`, decoding
    starts at the keyframe at or before it."""
    frame_step = max(1, round(1 / (source.rate * source.time_base))) if source.rate else 1
    held: tuple[av.VideoFrame, int] | None = None
    last_step = frame_step
    end = 0
    with open_input(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            if seek_pts is not None:
                container.seek(seek_pts, stream=stream, backward=True, any_frame=False)
            for frame in _tolerant_decode(container, stream):
                pts = frame.pts
                if pts is None:
                    pts = 0 if held is None else held[1] + frame_step
                if held is not None and pts <= held[1]:
                    pts = held[1] + 1
                end = max(end, pts + (frame.duration or 0))
                if held is not None:
                    last_step = pts - held[1]
                    yield held[0], held[1], last_step
                held = (frame, pts)
        except av.error.FFmpegError as exc:
            # The path is a worker's scratch file and errno means nothing to a user.
            detail = (getattr(exc, "strerror", None) or "unreadable data").rstrip(".")
            raise MediaError(
                f"The video is damaged: a part of it could not be decoded ({detail})."
            ) from exc
    if held is not None:
        yield held[0], held[1], end - held[1] if end > held[1] else last_step


def decode_frames(path: Path, source: VideoSource) -> Iterator[DecodedFrame]:
    """Every frame in presentation order, with its pts and duration (see _timed_frames)."""
    for frame, pts, duration in _timed_frames(path, source):
        yield DecodedFrame(frame_to_i420(frame, source.width, source.height), pts, duration)


class ArraySource(Protocol):
    def take(self) -> np.ndarray: ...


def decode_batches(
    path: Path,
    source: VideoSource,
    batch_size: int,
    arrays: ArraySource,
    layout: PlaneLayout = I420,
) -> Iterator[DecodedBatch]:
    """Frames decoded straight into (batch_size, rows, W) arrays taken from `arrays`."""
    batch: DecodedBatch | None = None
    for frame, pts, duration in _timed_frames(path, source):
        if batch is None:
            batch = DecodedBatch(arrays.take(), [], [])
        frame_to_i420(
            frame, source.width, source.height, out=batch.frames[len(batch.pts)], layout=layout
        )
        batch.pts.append(pts)
        batch.durations.append(duration)
        if len(batch.pts) == batch_size:
            yield batch
            batch = None
    if batch is not None:
        yield batch


def decode_tail(path: Path, seconds: float, layout: PlaneLayout = I420) -> list[np.ndarray]:
    """The frames of the last `seconds` of a video (the warm-up for the next segment).

    Decoding starts at the keyframe before the tail when the file can seek there (the
    same frames as decoding it all, for a fraction of the work); otherwise at the start.
    """
    source = probe_source(path)
    if source.last_pts is not None:
        window_start = source.last_pts - round(seconds / source.time_base)
        try:
            tail = _tail(path, source, seconds, max(0, window_start), layout)
        except MediaError:
            tail = None
        if tail is not None:
            return tail
    tail = _tail(path, source, seconds, None, layout)
    assert tail is not None
    return tail


def _tail(
    path: Path,
    source: VideoSource,
    seconds: float,
    seek_pts: int | None,
    layout: PlaneLayout = I420,
) -> list[np.ndarray] | None:
    """Frames starting strictly inside the last `seconds` before the latest frame start;
    None when a seek landed too late to see the whole window."""
    kept: list[tuple[float, np.ndarray]] = []
    end = 0.0
    first: float | None = None
    for frame, pts, _ in _timed_frames(path, source, seek_pts):
        t = float(pts * source.time_base)
        first = t if first is None else first
        end = max(end, t)
        kept.append((t, frame_to_i420(frame, source.width, source.height, layout=layout)))
        while kept and kept[0][0] < end - seconds - 1e-6:
            kept.pop(0)
    if seek_pts is not None and (first is None or first > end - seconds + 1e-6):
        return None
    return [img for t, img in kept if t > end - seconds + 1e-6 or len(kept) == 1]


class Encoder:
    """Video writer keeping pts, time base, rotation and colour metadata: libx264 (or
    NVENC, when chosen, see encoding.py) for 8-bit layouts, libx265 (main10 / main 4:4:4
    10) for 10-bit; `lossless` is qp 0."""

    def __init__(
        self,
        path: Path,
        *,
        width: int,
        height: int,
        source: VideoSource,
        crf: int,
        preset: str,
        audio_from: Path | None = None,
        layout: PlaneLayout = I420,
        lossless: bool = False,
        encoder: str = SOFTWARE,
    ) -> None:
        # faststart is the mp4 muxer's: the index (moov) is moved before the media data
        # when the file is closed, so a player can start before the whole file is there.
        self._container = av.open(str(path), mode="w", container_options=MUXER_OPTIONS)
        self._layout = layout
        self._durations: dict[int, int] = {}
        self._audio_input: av.container.InputContainer | None = None
        self._audio_stream: av.audio.stream.AudioStream | None = None
        hevc = layout.bits > 8
        codec = "libx265" if hevc else encoder
        stream = self._container.add_stream(codec, rate=source.rate)
        assert isinstance(stream, av.VideoStream)
        stream.width = width
        stream.height = height
        stream.pix_fmt = layout.pix_fmt
        stream.time_base = source.time_base
        ctx = stream.codec_context
        ctx.time_base = source.time_base
        ctx.color_primaries = source.colour.primaries
        ctx.color_trc = source.colour.trc
        ctx.colorspace = source.colour.matrix
        ctx.color_range = source.colour.range
        options = {"preset": preset}
        if hevc:
            stream.codec_tag = "hvc1"  # what Apple players look for
            params = ["lossless=1" if lossless else f"crf={crf}", *source.hdr.x265_params()]
            options["x265-params"] = ":".join([*params, "log-level=error"])
        elif lossless:
            options["qp"] = "0"
        else:
            options.update(codec_options(codec, crf, preset))
        ctx.options = options
        set_threads(ctx, codec)
        if source.variable_rate:
            # Without B-frames, packets are in presentation order and an mp4 sample's
            # duration (the gap to the next one) is the frame's own: VFR timing, the
            # last frame's included, survives as packet durations.
            ctx.max_b_frames = 0
        if source.rotation:
            stream.set_display_rotation(source.rotation)
        self._stream = stream
        self._source = source
        if audio_from is not None:
            self._add_audio(audio_from)

    def _add_audio(self, path: Path) -> None:
        """Declares a stream-copied audio track (streams must exist before the header)."""
        audio_input = av.open(str(path))
        if not audio_input.streams.audio:
            audio_input.close()
            return
        self._audio_input = audio_input
        self._audio_stream = self._container.add_stream_from_template(audio_input.streams.audio[0])

    def write(self, i420: np.ndarray, pts: int, duration: int = 0) -> None:
        frame = _to_frame(i420, self._layout)
        frame.pts = pts
        if duration > 0:
            frame.duration = duration
            self._durations[pts] = duration
        frame.time_base = self._source.time_base
        frame.color_range = self._source.colour.range
        frame.colorspace = self._source.colour.matrix
        frame.color_primaries = self._source.colour.primaries
        frame.color_trc = self._source.colour.trc
        for packet in self._stream.encode(frame):
            self._mux(packet)

    def _mux(self, packet: av.Packet[Any]) -> None:
        """Muxes a video packet with its frame's duration (the encoder may guess another)."""
        if packet.pts is not None:
            packet.duration = self._durations.pop(packet.pts, packet.duration)
        self._container.mux(packet)

    def close(self) -> None:
        for packet in self._stream.encode(None):
            self._mux(packet)
        if self._audio_input is not None and self._audio_stream is not None:
            with self._audio_input:
                for packet in self._audio_input.demux(self._audio_input.streams.audio[0]):
                    if packet.dts is None:
                        continue
                    packet.stream = self._audio_stream
                    self._container.mux(packet)
        self._container.close()

    def abort(self) -> None:
        if self._audio_input is not None:
            self._audio_input.close()
        try:
            self._container.close()
        except av.error.FFmpegError:
            log.debug("closing an aborted output failed", exc_info=True)


def _to_frame(planes: np.ndarray, layout: PlaneLayout) -> av.VideoFrame:
    """(rows, W) planes in `layout` -> a VideoFrame of the layout's pixel format."""
    if layout is I420 or layout.pix_fmt == "yuv420p":
        return av.VideoFrame.from_ndarray(planes, format="yuv420p")
    height, width = layout.height(planes.shape[0]), planes.shape[1]
    frame = av.VideoFrame(width, height, layout.pix_fmt)
    shift = layout.chroma_shift
    ch, cw = height >> shift, width >> shift
    chroma = planes[height:].reshape(-1)
    sources = (
        planes[:height],
        chroma[: ch * cw].reshape(ch, cw),
        chroma[ch * cw :].reshape(ch, cw),
    )
    for index, source in enumerate(sources):
        _plane(frame, index, layout)[:] = source
    return frame
