"""View synthesis quality against exact ground truth (issue 4, item 3).

A layered scene (textured planes at known nearness) is rendered exactly from the centre,
left and right cameras. Given the centre image and its true nearness, the engine (the
video pipeline's own renderer: 8-bit planes, z-buffer forward warp, fixed-point rows)
and a naive bilinear backward warp each synthesise the left and right views; both are
scored with PSNR and SSIM over the whole frame, the pixels visible from the centre
(non-occluded) and the pixels it cannot see (disoccluded).

`--depth-scale 4` hands both methods the true depth at a quarter of the resolution
(area-averaged), the way the pipeline warps at the depth map's resolution and upsamples.

    python benchmarks/bench_view_synthesis.py [--width 640 --height 360 --divergence 3]
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as nnf

from inference_server.evaluation import (
    default_scene,
    engine_view,
    naive_backward_warp,
    psnr,
    render,
    ssim,
)
from inference_server.synthesis import eye_gains


def score(
    width: int, height: int, divergence: float, convergence: float, depth_scale: int = 1
) -> dict[str, list[float]]:
    """Mean over both eyes of [PSNR whole, non-occluded, disoccluded, SSIM ...] per method."""
    layers = default_scene(width, height)
    centre = render(layers, width, height, 0.0, convergence)
    nearness = centre.nearness
    if depth_scale > 1:
        small = (height // depth_scale, width // depth_scale)
        nearness = nnf.adaptive_avg_pool2d(nearness.unsqueeze(1), small).squeeze(1)
    full = nnf.interpolate(nearness.unsqueeze(1), size=(height, width), mode="bilinear")
    totals: dict[str, list[float]] = {"engine": [0.0] * 6, "naive bilinear": [0.0] * 6}
    gains = eye_gains(width, divergence, "both")
    for gain in gains:
        truth = render(layers, width, height, gain, convergence)
        masks = (torch.ones_like(truth.disoccluded), ~truth.disoccluded, truth.disoccluded)
        outputs = {
            "engine": engine_view(centre.image, nearness, gain, convergence),
            "naive bilinear": naive_backward_warp(centre.image, full.squeeze(1), gain, convergence),
        }
        for name, out in outputs.items():
            values = [psnr(out.clamp(0, 1), truth.image, m) for m in masks]
            values += [ssim(out.clamp(0, 1), truth.image, m) for m in masks]
            totals[name] = [t + v / len(gains) for t, v in zip(totals[name], values, strict=True)]
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--divergence", type=float, default=3.0)
    parser.add_argument("--convergence", type=float, default=0.5)
    parser.add_argument("--depth-scale", type=int, default=1, help="depth given at 1/N size")
    args = parser.parse_args()
    results = score(args.width, args.height, args.divergence, args.convergence, args.depth_scale)
    print(
        f"scene {args.width}x{args.height}, divergence {args.divergence}%, "
        f"convergence {args.convergence}, depth at 1/{args.depth_scale} size; "
        "mean of left and right eyes"
    )
    columns = ("PSNR all", "PSNR non-occl.", "PSNR disoccl.", "SSIM all", "SSIM non-occl.")
    print("| method | " + " | ".join(columns) + " | SSIM disoccl. |")
    print("|---" * 7 + "|")
    for name, v in results.items():
        print(
            f"| {name} | {v[0]:.2f} dB | {v[1]:.2f} dB | {v[2]:.2f} dB "
            f"| {v[3]:.4f} | {v[4]:.4f} | {v[5]:.4f} |"
        )
    engine, naive = results["engine"], results["naive bilinear"]
    wins = all(e > n for e, n in zip(engine, naive, strict=True))
    print("engine beats the naive warp on every column:", "yes" if wins else "NO")


if __name__ == "__main__":
    main()
