"""Deterministic test clips made with PyAV, shared by every test that needs a video.

Frames carry real moving texture (a scrolling seeded noise field, a foreground block that
moves against it) so depth and stereo code has something to work on, and identical
arguments always give identical pixels. Clips are small and short on purpose.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from av.audio.stream import AudioStream
from av.video.stream import VideoStream
from numpy.typing import NDArray

CONTAINER_BY_SUFFIX = {
    ".mp4": "mp4",
    ".m4v": "mp4",
    ".mov": "mov",
    ".webm": "webm",
    ".mkv": "matroska",
}

# Audio that each container can carry without fuss.
DEFAULT_AUDIO_CODEC = {"mp4": "aac", "mov": "aac", "webm": "libopus", "matroska": "aac"}

AUDIO_RATE = 48_000
VFR_TIME_BASE = Fraction(1, 90_000)


def texture(width: int, height: int, seed: int = 7) -> NDArray[np.uint8]:
    """A smooth-but-detailed RGB noise field, wider than the frame so it can scroll."""
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 256, size=(height // 4 + 2, width // 4 + 2, 3), dtype=np.uint8)
    # Upscale blocks of noise then blur a little: texture with edges at several scales.
    field = np.repeat(np.repeat(noise, 4, axis=0), 4, axis=1).astype(np.float32)
    kernel = np.ones(5, dtype=np.float32) / 5.0
    for axis in (0, 1):
        field = np.apply_along_axis(lambda line: np.convolve(line, kernel, "same"), axis, field)
    return np.clip(field[:height, :width], 0, 255).astype(np.uint8)


def moving_frame(
    index: int, width: int, height: int, base: NDArray[np.uint8], pattern: str
) -> NDArray[np.uint8]:
    """Frame `index`: background scrolls left, a bright block drifts right and down."""
    if pattern == "still":
        return base[:height, :width].copy()
    shift = (index * 3) % (base.shape[1] - width + 1)
    frame = base[:height, shift : shift + width].copy()
    side = max(8, min(width, height) // 4)
    x = int((width - side) * (0.5 + 0.4 * math.sin(index / 9.0)))
    y = int((height - side) * (0.5 + 0.4 * math.cos(index / 13.0)))
    block = frame[y : y + side, x : x + side].astype(np.int16)
    frame[y : y + side, x : x + side] = np.clip(block + 90, 0, 255).astype(np.uint8)
    # A frame-number bar at the top makes every frame unique (helps catch duplicates).
    bits = np.array([(index >> b) & 1 for b in range(12)], dtype=np.uint8) * 255
    cell = max(1, width // 12)
    bar = np.repeat(bits, cell)[:width]
    frame[: max(2, height // 30), : bar.shape[0]] = bar[None, :, None]
    return frame


def frame_times(count: int, fps: int, vfr: bool) -> list[Fraction]:
    """Presentation times in seconds; VFR alternates short and long frame intervals."""
    if not vfr:
        return [Fraction(i, fps) for i in range(count)]
    times: list[Fraction] = []
    t = Fraction(0)
    for i in range(count):
        times.append(t)
        # Cycle of intervals averaging 1/fps: 0.5x, 1x, 1.5x the nominal interval.
        t += Fraction(1, fps) * Fraction((1, 2, 3)[i % 3], 2)
    return times


def make_clip(
    path: Path,
    *,
    seconds: float = 2.0,
    fps: int = 24,
    width: int = 320,
    height: int = 240,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    audio: bool = True,
    audio_codec: str | None = None,
    gop: int | None = None,
    bframes: int = 0,
    rotation: int = 0,
    vfr: bool = False,
    container: str | None = None,
    pattern: str = "moving",
    faststart: bool = False,
    open_gop: bool = False,
) -> Path:
    """Write a deterministic clip to `path` and return it.

    codec: libx264, libx265 (use pix_fmt="yuv420p10le" for 10-bit), libvpx-vp9, mpeg4, ffv1...
    gop: keyframe interval in frames (default: fps, one keyframe per second).
    rotation: display rotation in degrees, stored as a display matrix (like a phone does).
    open_gop: let B-frames after a keyframe refer to the GOP before it (HEVC CRA style).
    vfr: timestamps alternate between 0.5x, 1x and 1.5x the nominal frame interval.
    """
    path = Path(path)
    fmt = container or CONTAINER_BY_SUFFIX.get(path.suffix.lower(), "mp4")
    count = max(1, round(seconds * fps))
    times = frame_times(count, fps, vfr)
    gop = gop or fps
    options = {"movflags": "faststart"} if faststart and fmt in ("mp4", "mov") else {}
    with av.open(str(path), "w", format=fmt, options=options) as out:
        video = _video_stream(out, codec, fps, _encoder_options(codec, gop, bframes, open_gop))
        video.width = width
        video.height = height
        video.pix_fmt = pix_fmt
        video.codec_context.gop_size = gop
        video.codec_context.max_b_frames = bframes
        video.codec_context.thread_count = 1  # same bytes on every run
        time_base = VFR_TIME_BASE if vfr else Fraction(1, fps)
        video.codec_context.time_base = time_base
        video.time_base = time_base
        if rotation:
            video.set_display_rotation(rotation)
        sound = _add_audio(out, audio_codec or DEFAULT_AUDIO_CODEC[fmt]) if audio else None

        base = texture(width + count * 3 + 8, height)
        for i, t in enumerate(times):
            frame = av.VideoFrame.from_ndarray(
                moving_frame(i, width, height, base, pattern), format="rgb24"
            )
            frame.pts = int(t / time_base) if vfr else i
            frame.time_base = time_base
            out.mux(video.encode(frame))
        out.mux(video.encode(None))

        if sound is not None:
            end = times[-1] + (Fraction(1, fps) if not vfr else Fraction(3, 2 * fps))
            _write_tone(out, sound, float(end))
    return path


def _encoder_options(codec: str, gop: int, bframes: int, open_gop: bool = False) -> dict[str, str]:
    gop_params = f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes={bframes}"
    gop_params += f":open-gop={int(open_gop)}"
    if codec == "libx264":
        return {"preset": "veryfast", "x264-params": gop_params}
    if codec == "libx265":
        return {"preset": "ultrafast", "x265-params": gop_params + ":log-level=error"}
    if codec == "libvpx-vp9":
        return {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    return {}


def _video_stream(
    out: av.container.OutputContainer, codec: str, fps: int, options: dict[str, str]
) -> VideoStream:
    stream = out.add_stream(codec, rate=fps, options=options)
    assert isinstance(stream, VideoStream), f"{codec} is not a video codec"
    return stream


def _add_audio(out: av.container.OutputContainer, codec: str) -> AudioStream:
    stream = out.add_stream(codec, rate=AUDIO_RATE)
    assert isinstance(stream, AudioStream), f"{codec} is not an audio codec"
    stream.layout = "stereo"
    return stream


def _write_tone(out: av.container.OutputContainer, stream: AudioStream, seconds: float) -> None:
    """A 440 Hz tone (left) and 660 Hz tone (right) lasting `seconds`."""
    total = round(seconds * AUDIO_RATE)
    chunk = 1024
    for start in range(0, total, chunk):
        n = min(chunk, total - start)
        t = (np.arange(start, start + n) / AUDIO_RATE).astype(np.float32)
        samples = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 660 * t)]) * 0.3
        frame = av.AudioFrame.from_ndarray(
            samples.astype(np.float32)[None, :].reshape(1, -1), format="flt", layout="stereo"
        )
        frame.sample_rate = AUDIO_RATE
        frame.pts = start
        frame.time_base = Fraction(1, AUDIO_RATE)
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))


def make_audio_only(path: Path, seconds: float = 1.0, codec: str = "aac") -> Path:
    """An audio file with no video stream (.m4a/.mp4 with AAC by default)."""
    path = Path(path)
    fmt = CONTAINER_BY_SUFFIX.get(path.suffix.lower(), "mp4")
    with av.open(str(path), "w", format=fmt) as out:
        _write_tone(out, _add_audio(out, codec), seconds)
    return path


def make_image(path: Path, width: int = 64, height: int = 48, codec: str = "png") -> Path:
    """A single still picture (PNG by default, or codec="mjpeg" for a JPEG)."""
    path = Path(path)
    fmt = "image2"
    with av.open(str(path), "w", format=fmt) as out:
        stream = _video_stream(out, codec, 1, {})
        stream.width = width
        stream.height = height
        stream.pix_fmt = "rgb24" if codec == "png" else "yuvj420p"
        pixels = moving_frame(0, width, height, texture(width + 8, height), "moving")
        out.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        out.mux(stream.encode(None))
    return path


def truncate(source: Path, dest: Path, fraction: float = 0.5) -> Path:
    """Copy the first `fraction` of source's bytes to dest (an interrupted upload)."""
    data = Path(source).read_bytes()
    Path(dest).write_bytes(data[: int(len(data) * fraction)])
    return Path(dest)


def decoded_frame_count(path: Path) -> int:
    """Frames a decoder actually produces from the file's first video stream."""
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def reencode(
    source: Path,
    dest: Path,
    *,
    width_factor: int = 2,
    bframes: int = 0,
    codec: str = "libx264",
) -> Path:
    """Stand-in for the stereo engine: decode a segment, widen it (full side-by-side is 2x
    wide), and encode H.264 with the same frame timestamps, video only."""
    with av.open(str(source)) as inp, av.open(str(dest), "w", format="mp4") as out:
        src = inp.streams.video[0]
        assert src.time_base is not None
        width = src.codec_context.width * width_factor
        height = src.codec_context.height
        rate = src.average_rate or 24
        video = _video_stream(out, codec, 24, _encoder_options(codec, 250, bframes))
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.time_base = src.time_base
        video.time_base = src.time_base
        video.codec_context.framerate = Fraction(rate)
        video.codec_context.max_b_frames = bframes
        durations: dict[int | None, int] = {}  # pts -> source duration, kept for VFR
        for frame in inp.decode(src):
            wide = frame.reformat(width=width, height=height, format="yuv420p")
            wide.pts, wide.time_base = frame.pts, src.time_base
            durations[frame.pts] = frame.duration
            out.mux(_with_durations(video.encode(wide), durations))
        out.mux(_with_durations(video.encode(None), durations))
    return Path(dest)


def _with_durations(packets: list[Any], durations: dict[int | None, int]) -> list[Any]:
    """Encoders guess the last picture's duration; give each packet its source frame's."""
    for packet in packets:
        if durations.get(packet.pts):
            packet.duration = durations[packet.pts]
    return packets
