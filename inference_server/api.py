"""The engine's public API: convert a video (or an image) to a stereo format.

Other parts of StereoSpot call only this module (the local inference backend, the
servers, the `stereospot convert` command).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from inference_server.depth import load_estimator
from inference_server.device import resolve_device
from inference_server.packing import output_size
from inference_server.pipeline import (
    BackgroundSink,
    FrameGeometry,
    StereoProcessor,
    background_iter,
    i420_to_planes,
    planes_to_i420,
)
from inference_server.temporal import window_frames
from inference_server.video_io import (
    DecodedFrame,
    Encoder,
    VideoSource,
    decode_frames,
    decode_tail,
    probe_source,
)
from stereospot.domain.errors import MediaError
from stereospot.domain.formats import ConversionSettings, StereoFormat

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineOptions:
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    crf: int = 18
    preset: str = "veryfast"
    batch_size: int = 8
    depth_video: Path | None = None
    warmup_seconds: float = 1.0


@dataclass(frozen=True)
class ConversionStats:
    frames: int
    seconds: float
    device: str
    depth_model: str  # what actually ran (e.g. "builtin" after an auto fallback)


def _batched(frames: Iterator[DecodedFrame], size: int) -> Iterator[list[DecodedFrame]]:
    while batch := list(itertools.islice(frames, size)):
        yield batch


def _display_size(source: VideoSource) -> tuple[int, int]:
    if source.rotation in (90, 270):
        return source.height, source.width
    return source.width, source.height


def _check_options(options: EngineOptions) -> None:
    if options.batch_size < 1:
        raise MediaError("The batch size must be at least 1.")
    if not 0 <= options.crf <= 51:
        raise MediaError("The CRF must be between 0 and 51.")
    if options.warmup_seconds < 0:
        raise MediaError("The warm-up must not be negative.")


def convert_video(
    input_path: Path,
    output_path: Path,
    *,
    output_format: StereoFormat,
    settings: ConversionSettings,
    options: EngineOptions = EngineOptions(),
    warmup_path: Path | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    copy_audio: bool = False,
) -> ConversionStats:
    """Converts `input_path` to a stereo video at `output_path` (H.264 mp4, yuv420p).

    Frame count, per-frame timestamps, rotation and colour metadata are kept. Odd frame
    sizes are cropped by one pixel on the right/bottom. Raises MediaError for inputs a
    user can fix (not a video, unknown depth model, ...).
    """
    _check_options(options)
    started = time.perf_counter()
    device = resolve_device(options.device)
    source = probe_source(Path(input_path))
    estimator = load_estimator(settings.depth_model, device, options.depth_video)
    geometry = FrameGeometry(source.width, source.height, source.rotation)
    processor = StereoProcessor(
        estimator,
        settings,
        output_format,
        source.colour,
        window_frames(float(source.rate)),
    )
    with torch.inference_mode():
        if warmup_path is not None and options.warmup_seconds > 0:
            _warm_up(processor, Path(warmup_path), options, source, device)
        frames = _run(
            processor, Path(input_path), Path(output_path), output_format, source,
            geometry, options, device, on_progress, copy_audio,
        )  # fmt: skip
    return ConversionStats(
        frames=frames,
        seconds=time.perf_counter() - started,
        device=str(device),
        depth_model=estimator.name,
    )


def _warm_up(
    processor: StereoProcessor,
    warmup_path: Path,
    options: EngineOptions,
    source: VideoSource,
    device: torch.device,
) -> None:
    tail = decode_tail(warmup_path, options.warmup_seconds)
    if tail and tail[0].shape != (source.height * 3 // 2, source.width):
        log.warning("warm-up segment %s has another frame size; skipped", warmup_path.name)
        return
    geometry = FrameGeometry(source.width, source.height, source.rotation)
    for start in range(0, len(tail), options.batch_size):
        chunk = tail[start : start + options.batch_size]
        processor.warm_up(i420_to_planes(chunk, geometry, device))


def _run(
    processor: StereoProcessor,
    input_path: Path,
    output_path: Path,
    output_format: StereoFormat,
    source: VideoSource,
    geometry: FrameGeometry,
    options: EngineOptions,
    device: torch.device,
    on_progress: Callable[[int, int], None] | None,
    copy_audio: bool,
) -> int:
    display_w, display_h = _display_size(source)
    out_w, out_h = output_size(output_format, display_w, display_h)
    if source.rotation in (90, 270):
        out_w, out_h = out_h, out_w
    output_path.parent.mkdir(parents=True, exist_ok=True)
    encoder = Encoder(
        output_path,
        width=out_w,
        height=out_h,
        source=source,
        crf=options.crf,
        preset=options.preset,
        audio_from=input_path if copy_audio else None,
    )

    def encode(item: tuple[list[np.ndarray], list[int]]) -> None:
        images, pts_list = item
        for image, pts in zip(images, pts_list, strict=True):
            encoder.write(image, pts)

    sink: BackgroundSink[tuple[list[np.ndarray], list[int]]] = BackgroundSink(encode)
    done = 0
    try:
        batches = _batched(decode_frames(input_path, source), options.batch_size)
        for batch in background_iter(batches):
            planes = i420_to_planes([f.i420 for f in batch], geometry, device)
            images = planes_to_i420(processor.process(planes), source.rotation)
            sink.put((images, [f.pts for f in batch]))
            done += len(batch)
            if on_progress is not None:
                on_progress(done, max(done, source.total_frames))
        sink.close()
        if done == 0:
            raise MediaError(f"{input_path.name} contains no video frames.")
        encoder.close()
    except BaseException:
        try:
            sink.close()
        except BaseException:  # the first error is the one to report
            log.debug("encoder thread failed after an earlier error", exc_info=True)
        encoder.abort()
        output_path.unlink(missing_ok=True)
        raise
    return done


def convert_image(
    input_path: Path,
    output_path: Path,
    *,
    output_format: StereoFormat,
    settings: ConversionSettings,
    options: EngineOptions = EngineOptions(),
) -> None:
    """Converts a still image (PNG/JPEG) to a stereo image (format from output suffix)."""
    from inference_server.still import convert_still

    _check_options(options)
    device = resolve_device(options.device)
    estimator = load_estimator(settings.depth_model, device, options.depth_video)
    with torch.inference_mode():
        convert_still(Path(input_path), Path(output_path), output_format, settings, estimator)


__all__ = ["ConversionStats", "EngineOptions", "convert_image", "convert_video"]
