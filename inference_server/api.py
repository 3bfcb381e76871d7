"""The engine's public API: convert a video (or an image) to a stereo format.

Other parts of StereoSpot call only this module (the local inference backend, the
servers, the `stereospot convert` command).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from inference_server.depth import load_estimator
from inference_server.device import resolve_device
from inference_server.encoding import ENCODERS, SOFTWARE, choose_encoder
from inference_server.layout import I420, PlaneLayout, output_layout
from inference_server.packing import output_size
from inference_server.pipeline import (
    ArrayPool,
    BackgroundSink,
    StageClock,
    StereoProcessor,
    background_iter,
    rotate_i420,
)
from inference_server.temporal import window_frames
from inference_server.video_io import (
    Encoder,
    VideoSource,
    decode_batches,
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
    encoder: str = "auto"  # auto (NVENC on a GPU when usable) | libx264 | h264_nvenc | hevc_nvenc
    profile: bool = False  # charge GPU time to its stage (syncs: slower; see StageClock)


@dataclass(frozen=True)
class ConversionStats:
    frames: int
    seconds: float
    device: str
    depth_model: str  # what actually ran (e.g. "builtin" after an auto fallback)
    encoder: str = "libx264"  # what actually encoded
    stages: dict[str, float] = field(default_factory=dict)  # busy seconds (StageClock)


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
    if options.encoder.strip().lower() not in ENCODERS:
        raise MediaError(f"Unknown encoder {options.encoder!r}: use {', '.join(ENCODERS)}.")


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
    layout = output_layout(settings, source.colour.trc, source.bits)
    sync = torch.cuda.synchronize if options.profile and device.type == "cuda" else None
    processor = StereoProcessor(
        estimator,
        settings,
        output_format,
        source.colour,
        window_frames(float(source.rate)),
        layout,
        StageClock(sync),
    )
    encoder = _encoder(options.encoder, device, layout, settings.lossless)
    with torch.inference_mode(), _torch_threads(device):
        if warmup_path is not None and options.warmup_seconds > 0:
            _warm_up(processor, Path(warmup_path), options, source, device, layout)
        frames = _run(
            processor, Path(input_path), Path(output_path), output_format, source,
            options, device, on_progress, copy_audio, layout, settings.lossless, encoder,
        )  # fmt: skip
    return ConversionStats(
        frames=frames,
        seconds=time.perf_counter() - started,
        device=str(device),
        depth_model=estimator.name,
        encoder=encoder,
        stages=dict(processor.clock.seconds),
    )


def _encoder(wanted: str, device: torch.device, layout: PlaneLayout, lossless: bool) -> str:
    """The video encoder: libx265 for 10-bit, libx264 for lossless or 4:4:4, otherwise
    as asked (NVENC on a GPU where it opens, see encoding.choose_encoder)."""
    if layout.bits > 8:
        return "libx265"
    if lossless or layout != I420:
        return SOFTWARE
    return choose_encoder(wanted, device.type == "cuda")


@contextlib.contextmanager
def _torch_threads(device: torch.device) -> Iterator[None]:
    """On a CPU, torch gets a quarter of the cores and the decoder and libx264 the rest.

    libx264 is the larger half of the work and threads itself; torch's ops are small and
    many, and with more threads each waits for the slowest one (badly so when the cores
    are shared), so one torch thread per four cores is the better split.
    """
    if device.type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, _usable_cores() // 4))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _usable_cores() -> int:
    """The cores this process may run on (its affinity), where the OS tells."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _warm_up(
    processor: StereoProcessor,
    warmup_path: Path,
    options: EngineOptions,
    source: VideoSource,
    device: torch.device,
    layout: PlaneLayout,
) -> None:
    tail = decode_tail(warmup_path, options.warmup_seconds, layout)
    if tail and tail[0].shape != (layout.rows(source.height), source.width):
        log.warning("warm-up segment %s has another frame size; skipped", warmup_path.name)
        return
    for start in range(0, len(tail), options.batch_size):
        chunk = torch.from_numpy(np.stack(tail[start : start + options.batch_size]))
        processor.warm_up(_to_display(chunk.to(device), source.rotation, layout))


def _to_display(frames: torch.Tensor, rotation: int, layout: PlaneLayout) -> torch.Tensor:
    """Stored frames -> display orientation (a copy only when rotated)."""
    if not rotation:
        return frames
    height, width = layout.height(frames.shape[-2]), frames.shape[-1]
    if rotation in (90, 270):
        height, width = width, height
    out = torch.empty(
        (frames.shape[0], layout.rows(height), width), dtype=frames.dtype, device=frames.device
    )
    return rotate_i420(frames, rotation // 90, out, layout)


# frames, count, pts, durations, and (on a GPU) the event after which the frames are there
EncodeItem = tuple[np.ndarray, int, list[int], list[int], "torch.cuda.Event | None"]


def _event(device: torch.device) -> torch.cuda.Event | None:
    """A CUDA event recorded now on the current stream (None on a CPU)."""
    if device.type != "cuda":
        return None
    event = torch.cuda.Event()  # type: ignore[no-untyped-call]
    event.record()
    return event


def _run(
    processor: StereoProcessor,
    input_path: Path,
    output_path: Path,
    output_format: StereoFormat,
    source: VideoSource,
    options: EngineOptions,
    device: torch.device,
    on_progress: Callable[[int, int], None] | None,
    copy_audio: bool,
    layout: PlaneLayout,
    lossless: bool,
    encoder_name: str,
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
        layout=layout,
        lossless=lossless,
        encoder=encoder_name,
    )
    size = options.batch_size
    clock = processor.clock
    dtype = layout.numpy_dtype
    # On a GPU, frames cross in page-locked arrays, so both copies run asynchronously.
    pinned = device.type == "cuda"
    inputs = ArrayPool((size, layout.rows(source.height), source.width), dtype, pinned=pinned)
    outputs = ArrayPool((size, layout.rows(out_h), out_w), dtype, pinned=pinned)
    # On a CPU with stored = display orientation the output is rendered straight into
    # the array the encoder reads; otherwise into a device buffer, then copied.
    direct = device.type == "cpu" and not source.rotation

    def encode(item: EncodeItem) -> None:
        frames, count, pts_list, durations, ready = item
        if ready is not None:
            ready.synchronize()  # the copy to `frames` has landed
        with clock.stage("encode", on_gpu=False):
            for index in range(count):
                encoder.write(frames[index], pts_list[index], durations[index])
        outputs.give(frames)

    sink: BackgroundSink[EncodeItem] = BackgroundSink(encode)
    decoded = clock.timed(decode_batches(input_path, source, size, inputs, layout), "decode")
    done = 0
    try:
        for batch in background_iter(decoded):
            count = len(batch.pts)
            with clock.stage("copies"):
                frames = torch.from_numpy(batch.frames[:count]).to(device, non_blocking=pinned)
            uploaded = _event(device)
            host = outputs.take()
            target = torch.from_numpy(host[:count])
            if direct:
                processor.process(frames, target)
            else:
                packed = torch.empty(
                    (count, *_packed_shape(output_format, display_w, display_h, layout)),
                    dtype=layout.torch_dtype,
                    device=device,
                )
                processor.process(_to_display(frames, source.rotation, layout), packed)
                with clock.stage("copies"):
                    back = _to_display(packed, (360 - source.rotation) % 360, layout)
                    target.copy_(back, non_blocking=pinned)
            ready = _event(device)
            if uploaded is not None:
                uploaded.synchronize()  # long done by now; then the decoder may reuse it
            inputs.give(batch.frames)
            sink.put((host, count, batch.pts, batch.durations, ready))
            done += count
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


def _packed_shape(
    fmt: StereoFormat, width: int, height: int, layout: PlaneLayout
) -> tuple[int, int]:
    """Shape of one packed output frame (rows, columns), display orientation."""
    out_w, out_h = output_size(fmt, width, height)
    return layout.rows(out_h), out_w


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
