"""View synthesis quality against exact ground truth, and its speed.

Scenes are stacks of textured fronto-parallel layers at known nearness (see
inference_server/evaluation.py), rendered exactly from the centre, left and right cameras:
- layers: three overlapping objects at increasing depth;
- thin bars: fences whose 2-3 px bars move farther than their own width;
- half shift / quarter shift: every layer shifted by exactly k + 0.5 (k + 0.25) px;
- text: two lines of 2 and 4 px strokes at different depths;
- video: layers moving sideways, through the real `stereospot convert` command
  (`--lossless` when it exists, else `--crf 0`) with the true depth as a depth video.

Each method gets the centre image and its true nearness and synthesises both eyes:
- engine: the video pipeline's own renderer (8-bit planes, inference_server);
- splat: the textbook DIBR reference, implemented here: forward splat of every source
  pixel to its nearest target column with a z-buffer (nearest wins), holes filled with
  the colour of the farther (background-side) neighbour on the row;
- naive: backward warp, each target pixel samples the source at its own disparity.
Scored with PSNR and SSIM over the whole frame, the pixels the centre camera sees
(non-occluded) and those it cannot (disoccluded); mean of both eyes.

    python benchmarks/bench_view_synthesis.py                 # images + video + speed
    python benchmarks/bench_view_synthesis.py --depth-scale 4 # depth given at 1/4 size
    python benchmarks/bench_view_synthesis.py --no-video --no-speed
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import torch
import torch.nn.functional as nnf

from inference_server.evaluation import (
    Layer,
    default_scene,
    engine_view,
    exact_shift_scene,
    moving_scene,
    naive_backward_warp,
    psnr,
    render,
    render_views,
    ssim,
    text_scene,
    thin_bars_scene,
)
from inference_server.synthesis import eye_gains

METRICS = ("PSNR all", "PSNR non-occl.", "PSNR disoccl.", "SSIM all", "SSIM non-occl.",
           "SSIM disoccl.")  # fmt: skip
Method = Callable[[torch.Tensor, torch.Tensor, float, float], torch.Tensor]


def splat_baseline(
    image: torch.Tensor, nearness: torch.Tensor, gain: float, convergence: float
) -> torch.Tensor:
    """Textbook DIBR: z-buffer forward splat to the nearest column, background-side fill.

    image (1,C,H,W), nearness (1,H,W) at the image's size.
    """
    _, channels, height, width = image.shape
    columns = torch.arange(width, dtype=torch.float64)
    target = (columns + gain * (nearness[0].double() - convergence)).round().long()
    on_screen = (target >= 0) & (target < width)
    # One key per source pixel: quantised nearness first, then the source column, so the
    # z-buffer's maximum names both the winner's depth and where its colour is.
    key = (nearness[0].double() * 65535).round().long() * width + columns.long()
    key = torch.where(on_screen, key, torch.full_like(key, -1))
    zbuf = torch.full((height, width + 1), -1, dtype=torch.long)
    zbuf.scatter_reduce_(1, torch.where(on_screen, target, width), key, reduce="amax")
    zbuf = zbuf[:, :width]
    hole = zbuf < 0
    index = torch.arange(width).expand(height, width)
    left = index.masked_fill(hole, -1).cummax(dim=1).values
    right = index.masked_fill(hole, width).flip(1).cummin(dim=1).values.flip(1)
    far = torch.iinfo(torch.long).max
    z_left = torch.where(left >= 0, zbuf.gather(1, left.clamp(min=0)), far)
    z_right = torch.where(right < width, zbuf.gather(1, right.clamp(max=width - 1)), far)
    # The farther side (smaller key: smaller nearness) is the background.
    donor = torch.where(z_left <= z_right, left, right).clamp(0, width - 1)
    winner = torch.where(hole, zbuf.gather(1, donor), zbuf)
    source = (winner % width).clamp(0, width - 1)
    return torch.gather(image, -1, source.expand(1, channels, height, width))


def scenes(width: int, height: int, gain: float, convergence: float) -> dict[str, list[Layer]]:
    return {
        "layers": default_scene(width, height),
        "thin bars": thin_bars_scene(width, height, 2 * abs(gain)),
        "half shift": exact_shift_scene(width, height, gain, convergence, 0.5),
        "quarter shift": exact_shift_scene(width, height, gain, convergence, 0.25),
        "text": text_scene(width, height),
    }


def _scores(out: torch.Tensor, truth: torch.Tensor, disoccluded: torch.Tensor) -> list[float]:
    masks = (torch.ones_like(disoccluded), ~disoccluded, disoccluded)
    out = out.clamp(0, 1)
    return [psnr(out, truth, m) for m in masks] + [ssim(out, truth, m) for m in masks]


def _small(nearness: torch.Tensor, scale: int) -> torch.Tensor:
    if scale <= 1:
        return nearness
    size = (nearness.shape[-2] // scale, nearness.shape[-1] // scale)
    return nnf.adaptive_avg_pool2d(nearness.unsqueeze(1), size).squeeze(1)


def _full(nearness: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(nearness.shape[-2:]) == size:
        return nearness
    return nnf.interpolate(nearness.unsqueeze(1), size=size, mode="bilinear").squeeze(1)


def score_images(
    width: int, height: int, divergence: float, convergence: float, depth_scale: int
) -> dict[str, dict[str, list[float]]]:
    """scene -> method -> the six metrics, mean of both eyes."""
    gains = eye_gains(width, divergence, "both")
    methods: dict[str, Method] = {
        "engine": engine_view,
        "splat": splat_baseline,
        "naive": naive_backward_warp,
    }
    results: dict[str, dict[str, list[float]]] = {}
    for name, layers in scenes(width, height, gains[0], convergence).items():
        centre = render(layers, width, height, 0.0, convergence)
        given = _small(centre.nearness, depth_scale)
        full = _full(given, (height, width))
        totals = {m: [0.0] * 6 for m in methods}
        for gain in gains:
            truth = render(layers, width, height, gain, convergence)
            for method, fn in methods.items():
                depth = given if method == "engine" else full
                values = _scores(fn(centre.image, depth, gain, convergence), truth.image,
                                 truth.disoccluded)  # fmt: skip
                totals[method] = [t + v / 2 for t, v in zip(totals[method], values, strict=True)]
        results[name] = totals
    return results


# ------------------------------------------------------------------------------- video


def _write_video(path: Path, frames: list[np.ndarray], fmt: str, rgb: bool) -> None:
    """Lossless H.264 (4:4:4, crf 0) of rgb24 frames or grey (H,W) uint8 planes."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = "yuv444p"
        stream.codec_context.options = {"qp": "0", "preset": "veryfast"}
        stream.codec_context.colorspace = 1  # BT.709
        stream.codec_context.color_range = 1  # limited
        for array in frames:
            if rgb:
                frame = av.VideoFrame.from_ndarray(array, format="rgb24")
                frame = frame.reformat(format=fmt, dst_colorspace=1, dst_color_range=1)
            else:
                frame = av.VideoFrame(array.shape[1], array.shape[0], "yuv444p")
                for index, plane in enumerate(frame.planes):
                    value = array if index == 0 else np.full_like(array, 128)
                    view = np.frombuffer(memoryview(plane), np.uint8)
                    view.reshape(-1, plane.line_size)[:, : array.shape[1]] = value
            frame.colorspace, frame.color_range = 1, 1
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def _read_rgb(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [
            f.to_ndarray(format="rgb24", src_colorspace=1, src_color_range=1)
            for f in container.decode(video=0)
        ]


def _to_tensor(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).unsqueeze(0).float() / 255


def _convert_flags() -> list[str]:
    """`--lossless` when this checkout's `convert` has it, else the closest: `--crf 0`."""
    help_text = subprocess.run(
        [sys.executable, "-m", "stereospot.entrypoints.cli.main", "convert", "--help"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return ["--lossless"] if "--lossless" in help_text else ["--crf", "0"]


def score_video(
    width: int, height: int, divergence: float, convergence: float, frames: int
) -> tuple[dict[str, list[float]], str]:
    """The moving scene through `stereospot convert --format full-sbs --depth-video`."""
    layers = moving_scene(width, height)
    gains = eye_gains(width, divergence, "both")
    centres = [render(layers, width, height, 0.0, convergence, i) for i in range(frames)]
    flags = _convert_flags()
    with tempfile.TemporaryDirectory() as tmp:
        source, depth, out = Path(tmp, "in.mp4"), Path(tmp, "depth.mp4"), Path(tmp, "out.mp4")
        to_u8 = [(c.image[0].permute(1, 2, 0) * 255).round().byte().numpy() for c in centres]
        _write_video(source, to_u8, "yuv444p", rgb=True)
        grey = [(c.nearness[0] * 219 + 16).round().byte().numpy() for c in centres]
        _write_video(depth, grey, "yuv444p", rgb=False)
        command = [
            sys.executable, "-m", "stereospot.entrypoints.cli.main", "convert", str(source),
            str(out), "--format", "full-sbs", "--depth-video", str(depth), "--divergence",
            str(divergence), "--convergence", str(convergence), "--device", "cpu", *flags,
        ]  # fmt: skip
        subprocess.run(command, check=True, capture_output=True)
        decoded_source = _read_rgb(source)
        outputs = _read_rgb(out)
    totals = {m: [0.0] * 6 for m in ("engine", "splat", "naive")}
    weight = 1.0 / (2 * frames)
    for index, centre in enumerate(centres):
        image = _to_tensor(decoded_source[index])
        sbs = _to_tensor(outputs[index])
        for eye, gain in enumerate(gains):
            truth = render(layers, width, height, gain, convergence, index)
            views = {
                "engine": sbs[..., eye * width : (eye + 1) * width],
                "splat": splat_baseline(image, centre.nearness, gain, convergence),
                "naive": naive_backward_warp(image, centre.nearness, gain, convergence),
            }
            for method, view in views.items():
                values = _scores(view, truth.image, truth.disoccluded)
                totals[method] = [t + v * weight for t, v in zip(totals[method], values,
                                                                  strict=True)]  # fmt: skip
    return totals, " ".join(flags)


# ------------------------------------------------------------------------------- speed


def synthesis_ms(
    width: int, height: int, depth_width: int, repeats: int
) -> tuple[list[float], list[float]]:
    """Milliseconds to synthesise both eyes of one frame from its 8-bit planes
    (render_views: both eyes warped in one batch, as the pipeline does; the planes' RGB
    <-> float conversions of the quality runs are left out), each repeat the median of
    5 frames: wall time, and this process's CPU time (all threads; less swayed by other
    processes' load)."""
    layers = default_scene(width, height)
    centre = render(layers, width, height, 0.0, 0.5)
    scale = max(1, width // depth_width)
    nearness = _small(centre.nearness, scale)
    gains = eye_gains(width, 2.0, "both")
    planes = (centre.image[0] * 255).round().to(torch.uint8)  # as decoded: 8-bit planes
    render_views(planes, nearness, gains, 0.5)  # warm-up (first-call costs)
    runs, cpu_runs = [], []
    for _ in range(repeats):
        times, cpu = [], []
        for _ in range(5):
            started, started_cpu = time.perf_counter(), time.process_time()
            render_views(planes, nearness, gains, 0.5)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        runs.append(statistics.median(times))
        cpu_runs.append(statistics.median(cpu))
    return runs, cpu_runs


# ------------------------------------------------------------------------------ report


def _table(rows: dict[str, list[float]], title: str) -> None:
    print(f"\n{title}\n")
    print("| method | " + " | ".join(METRICS) + " |")
    print("|---" * (len(METRICS) + 1) + "|")
    for name, v in rows.items():
        cells = [f"{x:.2f} dB" for x in v[:3]] + [f"{x:.4f}" for x in v[3:]]
        print(f"| {name} | " + " | ".join(cells) + " |")
    wins = all(e > s for e, s in zip(rows["engine"], rows["splat"], strict=True))
    print(f"\nengine beats splat in every column: {'yes' if wins else 'NO'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--divergence", type=float, default=3.0)
    parser.add_argument("--convergence", type=float, default=0.5)
    parser.add_argument("--depth-scale", type=int, default=1, help="depth given at 1/N size")
    parser.add_argument("--video-frames", type=int, default=12)
    parser.add_argument("--no-video", action="store_true")
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (2 cores)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    size = f"{args.width}x{args.height}"
    look = f"divergence {args.divergence}%, convergence {args.convergence}"
    results = score_images(args.width, args.height, args.divergence, args.convergence,
                           args.depth_scale)  # fmt: skip
    for name, rows in results.items():
        _table(rows, f"### {name} ({size}, {look}, depth at 1/{args.depth_scale} size)")
    mean = {m: [statistics.fmean(r[m][i] for r in results.values()) for i in range(6)]
            for m in ("engine", "splat", "naive")}  # fmt: skip
    _table(mean, "### mean over the image scenes")
    if not args.no_video:
        video, flags = score_video(args.width, args.height, args.divergence, args.convergence,
                                   args.video_frames)  # fmt: skip
        _table(video, f"### video: moving layers, {args.video_frames} frames through "
                      f"`stereospot convert {flags}` ({size}, {look})")  # fmt: skip
    if not args.no_speed:
        for depth_width in (1280, 192):
            runs, cpu = synthesis_ms(1280, 720, depth_width, repeats=3)
            print(
                f"\nspeed: both eyes at 1280x720, depth {depth_width} px wide, "
                f"{args.threads} torch threads, load {os.getloadavg()[0]:.1f}: "
                + ", ".join(f"{r:.1f}" for r in runs)
                + f" ms/frame (median {statistics.median(runs):.1f}); CPU "
                + ", ".join(f"{r:.1f}" for r in cpu)
                + f" ms/frame (median {statistics.median(cpu):.1f})"
            )
    if not math.isfinite(mean["engine"][0]):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
