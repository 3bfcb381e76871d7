"""`stereospot convert INPUT [OUTPUT]`: one video (or photo) to 3D on this machine.

A progress bar with fps and ETA goes to stderr; a file we cannot use exits with status 1
and a readable reason. Heavy imports (torch, av) happen inside the handler.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from stereospot.domain.formats import PixelFormat, StereoFormat, SyntheticView
from stereospot.entrypoints.cli.options import add_look_options

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "convert",
        help="Convert a 2D video or photo to stereoscopic 3D on this machine.",
        description="Convert a 2D video (or a PNG/JPEG photo) to stereoscopic 3D.",
    )
    parser.add_argument("input", type=Path, help="video file, or a .png/.jpg/.jpeg photo")
    parser.add_argument(
        "output",
        type=Path,
        nargs="?",
        help="output file (default: INPUT's name with the VR-player suffix of the format)",
    )
    add_look_options(parser)
    parser.add_argument(
        "--depth-model",
        default="auto",
        help="auto | builtin | depth-anything-v2-small|base|large | model id | model directory",
    )
    parser.add_argument(
        "--depth-video", type=Path, default=None, help="grey depth video, white = near"
    )
    parser.add_argument(
        "--synthetic-view", choices=[v.value for v in SyntheticView], default="both"
    )
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    parser.add_argument("--crf", type=int, default=18, help="x264 quality, 0..51 (default 18)")
    parser.add_argument("--preset", default="veryfast", help="x264 preset (default veryfast)")
    parser.add_argument(
        "--pixel-format",
        choices=[f.value for f in PixelFormat],
        default=PixelFormat.AUTO.value,
        help="auto (yuv420p; 10-bit for PQ/HLG sources) | yuv420p | yuv444p | "
        "yuv420p10le (10-bit HEVC main10)",
    )
    parser.add_argument(
        "--lossless",
        action="store_true",
        help="lossless video (qp 0, 4:4:4; 10-bit HEVC for 10-bit formats), for measuring",
    )
    parser.add_argument("--batch-size", type=int, default=8, help="frames per batch (default 8)")
    parser.add_argument(
        "--encoder",
        choices=["auto", "libx264", "h264_nvenc", "hevc_nvenc"],
        default="auto",
        help="auto: NVENC on a GPU where this build has it, otherwise libx264",
    )
    parser.set_defaults(handler=_handle)


def default_output(input_path: Path, fmt: StereoFormat) -> Path:
    """'clip.mov' -> 'clip_LR_Half_SBS.mp4'; photos keep their image suffix."""
    suffix = input_path.suffix.lower() if input_path.suffix.lower() in IMAGE_SUFFIXES else ".mp4"
    return input_path.with_name(f"{input_path.stem}{fmt.player_suffix}{suffix}")


class ProgressBar:
    """rich's bar for the frames: done/total, fps and ETA (live on a terminal; on a pipe,
    the final state once, when finished)."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            BarColumn(bar_width=width),
            MofNCompleteColumn(),
            TextColumn("frames  {task.fields[fps]:5.1f} fps  ETA"),
            TimeRemainingColumn(compact=True),
            console=Console(file=stream, highlight=False),
        )
        self._task: Any = None
        self._started = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        if self._task is None:
            self._progress.start()
            self._task = self._progress.add_task("convert", total=total, fps=0.0)
        fps = done / max(time.perf_counter() - self._started, 1e-6)
        self._progress.update(self._task, completed=done, total=total, fps=fps)

    def finish(self) -> None:
        self._progress.stop()


def _handle(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from stereospot.domain.errors import MediaError
    from stereospot.domain.formats import ConversionSettings

    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s")
    fmt = StereoFormat(args.format)
    try:
        settings = ConversionSettings(
            divergence=args.divergence,
            convergence=args.convergence,
            synthetic_view=SyntheticView(args.synthetic_view),
            depth_model="external" if args.depth_video else args.depth_model,
            pixel_format=PixelFormat(args.pixel_format),
            lossless=args.lossless,
        )
    except ValidationError as exc:
        problems = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
        print(f"error: invalid settings: {problems}", file=sys.stderr)
        return 2
    output: Path = args.output or default_output(args.input, fmt)
    try:
        if args.input.suffix.lower() in IMAGE_SUFFIXES:
            return _convert_image(args, output, fmt, settings)
        return _convert_video(args, output, fmt, settings)
    except MediaError as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 1


def _options(args: argparse.Namespace) -> Any:
    from inference_server.api import EngineOptions

    return EngineOptions(
        device=args.device,
        crf=args.crf,
        preset=args.preset,
        batch_size=args.batch_size,
        depth_video=args.depth_video,
        encoder=args.encoder,
    )


def _convert_image(args: argparse.Namespace, output: Path, fmt: StereoFormat, settings: Any) -> int:
    from inference_server.api import convert_image

    convert_image(args.input, output, output_format=fmt, settings=settings, options=_options(args))
    print(output)
    return 0


def _convert_video(args: argparse.Namespace, output: Path, fmt: StereoFormat, settings: Any) -> int:
    from inference_server.api import convert_video
    from stereospot.container import Application

    toolkit = Application.toolkit()  # the composition root's (it needs no settings)
    info = toolkit.probe(args.input)  # readable errors for files we cannot use
    if args.depth_video is not None:
        toolkit.probe(args.depth_video)
    bar = ProgressBar(sys.stderr)
    stats = convert_video(
        args.input,
        output,
        output_format=fmt,
        settings=settings,
        options=_options(args),
        on_progress=bar,
        copy_audio=info.has_audio,
    )
    bar.finish()
    print(
        f"{output}  ({stats.frames} frames in {stats.seconds:.1f} s, "
        f"{stats.frames / max(stats.seconds, 1e-6):.1f} fps, depth {stats.depth_model}, "
        f"{stats.device})",
        file=sys.stderr,
    )
    print(output)
    return 0
