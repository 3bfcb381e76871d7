"""Which video encoder writes the output, with what options and threads.

libx264 runs frame threads, as the ffmpeg CLI does: PyAV opens every codec with slice
threads, which on libx264 means `sliced-threads` (two slices on two cores, each frame
split across threads), about 1.45x slower than frame threads at the same settings. With
thread count 0 libx264 picks its own thread and lookahead-thread counts from the cores
this process may run on.

On a CUDA device the output can be encoded by NVENC (`h264_nvenc`, `hevc_nvenc`) where the
PyAV build has it and the driver opens it; otherwise libx264, said in one log line.
"""

from __future__ import annotations

import functools
import logging
from fractions import Fraction

import av

log = logging.getLogger(__name__)

SOFTWARE = "libx264"
HARDWARE = ("h264_nvenc", "hevc_nvenc")
ENCODERS = ("auto", SOFTWARE, *HARDWARE)

# x264 preset -> NVENC preset (p1 fastest .. p7 best), by their place in each scale.
_NVENC_PRESETS = {
    "ultrafast": "p1",
    "superfast": "p1",
    "veryfast": "p2",
    "faster": "p3",
    "fast": "p3",
    "medium": "p4",
    "slow": "p5",
    "slower": "p6",
    "veryslow": "p7",
    "placebo": "p7",
}


@functools.cache
def opens(codec: str) -> bool:
    """Whether `codec` is in this PyAV build and opens here (NVENC needs a driver)."""
    if codec not in av.codecs_available:
        return False
    try:
        ctx = av.CodecContext.create(codec, "w")
        assert isinstance(ctx, av.VideoCodecContext)
        ctx.width, ctx.height, ctx.pix_fmt = 256, 256, "yuv420p"
        ctx.time_base = Fraction(1, 30)
        ctx.open()
    except (av.error.FFmpegError, ValueError, TypeError, AssertionError) as exc:
        log.debug("encoder %s does not open here: %s", codec, exc)
        return False
    return True


def choose_encoder(wanted: str, on_gpu: bool) -> str:
    """'auto' -> h264_nvenc on a GPU when it opens, else libx264; a named hardware
    encoder that cannot open here falls back to libx264 with one log line."""
    name = wanted.strip().lower() or "auto"
    if name not in ENCODERS:
        raise ValueError(f"unknown encoder {wanted!r}: use {', '.join(ENCODERS)}")
    if name == SOFTWARE or (name == "auto" and not on_gpu):
        return SOFTWARE
    candidate = HARDWARE[0] if name == "auto" else name
    if opens(candidate):
        return candidate
    log.info("hardware encoder %s is not available here; encoding with %s", candidate, SOFTWARE)
    return SOFTWARE


def codec_options(codec: str, crf: int, preset: str) -> dict[str, str]:
    """The encoder's private options for a quality (x264 CRF scale) and an x264 preset."""
    if codec in HARDWARE:
        # Constant quality: VBR with a CQ target and no bitrate cap.
        return {"preset": _NVENC_PRESETS.get(preset, "p4"), "rc": "vbr", "cq": str(crf), "b": "0"}
    return {"crf": str(crf), "preset": preset}


def set_threads(ctx: av.VideoCodecContext, codec: str) -> None:
    """Frame threads with the encoder's own thread count (see the module docstring)."""
    if codec == SOFTWARE:
        ctx.thread_type = "FRAME"
        ctx.thread_count = 0
