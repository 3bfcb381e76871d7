"""Opening a file the user gave us, and turning every way it can be unusable into a sentence.

FFmpeg's own messages ("Invalid data found when processing input") mean nothing to a user,
so each check here names what is wrong with the file in plain words.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import av
import av.error
from av.container import InputContainer
from av.video.stream import VideoStream

from stereospot.domain.errors import MediaError
from stereospot.domain.media import MAX_PICTURE_SIDE

# Codecs the pipeline can stream-copy into mp4 segments and the engine can decode.
SUPPORTED_VIDEO_CODECS = {
    "h264": "H.264",
    "hevc": "HEVC (H.265)",
    "vp9": "VP9",
    "av1": "AV1",
    "mpeg4": "MPEG-4 Part 2",
}

# Demuxers and codecs that hold still pictures rather than video.
_IMAGE_FORMATS = {"image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe"}
_IMAGE_CODECS = {"png": "PNG", "mjpeg": "JPEG", "webp": "WebP", "bmp": "BMP", "tiff": "TIFF"}

# Opening options that stop FFmpeg's stream probing from decoding pictures. By default it
# decodes several (H.264 with B-frames: until it has guessed the reorder delay), ~50-100 ms
# at 1080p. The mp4/mov demuxer reads the whole index from the header (codec, size, time
# base, frame rate, parameter sets, every packet's timestamps), so a stream copy needs no
# probing there; left unknown: pixel format and colour details.
QUICK_OPEN_OPTIONS = {"skip_frame": "all", "probesize": "32"}
_HEADER_COMPLETE_FORMAT = "mov"  # FFmpeg's mov,mp4,m4a,3gp,3g2,mj2 demuxer


def supported_codecs_sentence() -> str:
    names = list(SUPPORTED_VIDEO_CODECS.values())
    return ", ".join(names[:-1]) + " and " + names[-1]


def check_file(path: Path) -> int:
    """The file's size; raises MediaError if the path is not a non-empty regular file."""
    if not path.exists():
        raise MediaError(f"The file {path.name!r} does not exist.")
    if path.is_dir():
        raise MediaError(f"{path.name!r} is a folder, not a video file.")
    size = path.stat().st_size
    if size == 0:
        raise MediaError("The file is empty (0 bytes).")
    return size


@contextmanager
def open_video(path: Path, *, quick: bool = False) -> Iterator[tuple[InputContainer, VideoStream]]:
    """Open `path` and yield its first video stream, or raise MediaError saying why not.

    quick: for stream copy; an mp4/mov file is opened without decoding pictures
    (QUICK_OPEN_OPTIONS), any other container is probed fully as usual.
    """
    check_file(path)
    container = _open(path, QUICK_OPEN_OPTIONS if quick else None)
    if quick and _HEADER_COMPLETE_FORMAT not in container.format.name.split(","):
        container.close()  # e.g. MPEG-TS: the frame rate is only known by probing
        container = _open(path, None)
    try:
        yield container, _video_stream(container)
    finally:
        container.close()


def _open(path: Path, options: dict[str, str] | None) -> InputContainer:
    try:
        return av.open(str(path), mode="r", options=options)
    except av.error.FFmpegError as exc:
        raise MediaError(_unreadable_reason(path, exc)) from exc


def _unreadable_reason(path: Path, exc: av.error.FFmpegError) -> str:
    text = str(exc).lower()
    head = path.read_bytes()[:16] if path.is_file() else b""
    if "moov atom not found" in text or (head[4:8] == b"ftyp" and "invalid data" in text):
        return (
            "The video is cut short: its index (the mp4 'moov' box) is missing, so the "
            "upload or recording probably did not finish."
        )
    if _looks_like_text(path):
        return "This file is not a video: it contains text."
    return "This file is not a video FFmpeg can read (it may be damaged or in another format)."


def _looks_like_text(path: Path) -> bool:
    with path.open("rb") as handle:
        sample = handle.read(4096)
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in sample


def _video_stream(container: InputContainer) -> VideoStream:
    fmt = container.format.name
    videos = list(container.streams.video)
    if not videos:
        if container.streams.audio:
            raise MediaError("This file is not a video: it contains only audio.")
        raise MediaError("This file is not a video: it has no picture track.")
    stream = videos[0]
    codec = stream.codec_context.codec.canonical_name
    if fmt in _IMAGE_FORMATS or fmt.split(",")[0] in _IMAGE_FORMATS:
        kind = _IMAGE_CODECS.get(codec, "a still picture")
        raise MediaError(f"This file is an image ({kind}), not a video.")
    if codec not in SUPPORTED_VIDEO_CODECS:
        described = stream.codec_context.codec.long_name if codec != "none" else "unknown"
        raise MediaError(
            f"Unsupported video codec {codec!r} ({described}). StereoSpot accepts "
            f"{supported_codecs_sentence()} video."
        )
    width, height = stream.codec_context.width, stream.codec_context.height
    if width <= 0 or height <= 0:
        raise MediaError("The video's picture size is missing, so the file is damaged.")
    if max(width, height) > MAX_PICTURE_SIDE:
        raise MediaError(
            f"The video is {width}x{height}; the largest supported size is "
            f"{MAX_PICTURE_SIDE} pixels a side."
        )
    return stream
