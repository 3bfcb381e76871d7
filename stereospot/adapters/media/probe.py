"""probe(): what a video is, measured from its packets rather than trusted from its header.

The measuring is the engine's (inference_server.probe.scan_video, PyAV only), so the media
toolkit and the engine agree on every file: one pass over the video packets (no decoding,
except the first picture, which proves the stream decodes and carries the display
rotation) gives the exact frame count, the keyframe spacing, whether the frame rate
varies, and whether the file is cut short. Here each way a file can be unusable becomes
a sentence for the user.
"""

from __future__ import annotations

from pathlib import Path

from inference_server.probe import scan_video
from stereospot.adapters.media.source import check_file, open_video
from stereospot.domain.errors import MediaError
from stereospot.domain.media import VideoInfo


def probe(path: Path) -> VideoInfo:
    size = check_file(path)
    with open_video(path) as (container, stream):
        facts = scan_video(container, stream)
    if facts.damage:
        raise MediaError(
            f"The video is damaged or cut short after about {facts.damaged_after_s or 0:.1f} s"
            f" ({facts.damage})."
        )
    if facts.frame_count == 0 or not facts.decoded:
        raise MediaError("The video has no picture that can be decoded; the file is damaged.")
    if facts.declared_frames and facts.frame_count < facts.declared_frames:
        raise MediaError(
            f"The video is cut short: its index lists {facts.declared_frames} frames but only "
            f"{facts.frame_count} are in the file, so the upload probably did not finish."
        )
    duration = facts.duration_s()
    declared_s = facts.declared_duration_s
    if declared_s is not None and duration < declared_s * 0.9 - 0.5:
        raise MediaError(
            f"The video is cut short: it should last {declared_s:.1f} s but its pictures "
            f"stop at {duration:.1f} s."
        )
    return VideoInfo(
        duration_s=duration,
        fps=facts.frame_count / duration if duration > 0 else float(facts.rate),
        variable_frame_rate=facts.variable_rate,
        width=facts.width,
        height=facts.height,
        rotation=facts.rotation,
        pixel_format=facts.pixel_format,
        bit_depth=facts.bits,
        codec=facts.codec,
        frame_count=facts.frame_count,
        frame_count_exact=True,
        keyframe_interval_s=facts.keyframe_interval_s(),
        has_audio=facts.has_audio,
        audio_codec=facts.audio_codec,
        size_bytes=size,
    )
