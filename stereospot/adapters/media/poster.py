"""A poster frame of a video as a JPEG: what the player shows before play, and the job
lists' thumbnails."""

from __future__ import annotations

from pathlib import Path

import av

from stereospot.domain.errors import MediaError

POSTER_MAX_WIDTH = 1280


def poster(video: Path, out: Path, at_fraction: float = 0.3) -> None:
    """The first frame at or after `at_fraction` of the video's length (the very first
    frame for short or unknown lengths), at most POSTER_MAX_WIDTH wide, as a JPEG."""
    try:
        with av.open(str(video)) as container:
            stream = container.streams.video[0]
            duration = float(container.duration or 0) / av.time_base
            target = duration * at_fraction if duration > 1 else 0.0
            if target > 0 and stream.time_base is not None:
                container.seek(int(target / stream.time_base), stream=stream, backward=True)
            chosen = None
            for frame in container.decode(stream):
                chosen = frame
                if frame.time is None or frame.time >= target:
                    break
        if chosen is None:
            raise MediaError("The video has no frame to show.")
        width = min(chosen.width, POSTER_MAX_WIDTH)
        height = max(2, round(chosen.height * width / chosen.width / 2) * 2)
        image = chosen.reformat(width=width, height=height, format="yuvj420p")
        with av.open(str(out), mode="w", format="image2") as output:
            encoder = output.add_stream("mjpeg", rate=1)
            assert isinstance(encoder, av.video.stream.VideoStream)
            encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuvj420p"
            encoder.codec_context.qmin = encoder.codec_context.qmax = 4
            for packet in encoder.encode(image):
                output.mux(packet)
            for packet in encoder.encode(None):
                output.mux(packet)
    except (av.error.FFmpegError, IndexError) as exc:
        raise MediaError("A poster frame could not be made from the video.") from exc
