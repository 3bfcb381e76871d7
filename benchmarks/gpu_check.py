"""The GPU path end to end: Depth Anything V2 Small (random weights) on 1080p and 4K.

Builds a randomly initialised Depth Anything V2 Small from its configuration (transformers,
nothing downloaded), saves it like a checkpoint, generates 30 fps clips of each size and
converts them to full-sbs with the engine. Per size it prints:
  - fps end to end (one conversion, nothing synchronised), the encoder that ran, the
    GPU memory peak (torch's allocator; peak RSS on a CPU);
  - where the time goes: busy seconds per stage (decode, copies, depth, synthesis,
    encode) from a second, profiled conversion that synchronises the GPU after each
    stage (slower, but each stage is charged its own GPU time);
  - `--concurrency` conversions of the clip at once in threads sharing the model, as a
    video worker with STEREOSPOT_INFERENCE_CONCURRENCY does: total fps and memory peak.

Run it through benchmarks/gpu_check.sh. CI runs a reduced form on the CPU
(`--device cpu --model tiny --sizes 180 --seconds 0.1 --input-size 140`) so that it cannot rot.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.media_clips, when run as a script
from tests.media_clips import make_clip  # noqa: E402

STAGES = ("decode", "copies", "depth", "synthesis", "encode")

# Depth Anything V2 Small (depth-anything/Depth-Anything-V2-Small-hf's config.json),
# and a tiny model of the same architecture for the CPU form.
MODELS: dict[str, dict[str, Any]] = {
    "small": {
        "backbone": {"hidden_size": 384, "num_hidden_layers": 12, "num_attention_heads": 6,
                     "intermediate_size": 1536,
                     "out_features": ["stage3", "stage6", "stage9", "stage12"]},
        "reassemble_hidden_size": 384, "neck_hidden_sizes": [48, 96, 192, 384],
        "fusion_hidden_size": 64, "head_hidden_size": 32,
    },
    "tiny": {
        "backbone": {"hidden_size": 32, "num_hidden_layers": 4, "num_attention_heads": 2,
                     "intermediate_size": 64,
                     "out_features": ["stage1", "stage2", "stage3", "stage4"]},
        "reassemble_hidden_size": 32, "neck_hidden_sizes": [8, 16, 32, 32],
        "fusion_hidden_size": 16, "head_hidden_size": 8,
    },
}  # fmt: skip


def save_model(kind: str, directory: Path) -> Path:
    """A randomly initialised Depth Anything of `kind`, saved with save_pretrained."""
    from transformers import AutoModelForDepthEstimation, DepthAnythingConfig, Dinov2Config

    spec = dict(MODELS[kind])
    backbone = Dinov2Config(
        patch_size=14, image_size=518, reshape_hidden_states=False, **spec.pop("backbone")
    )
    config = DepthAnythingConfig(backbone_config=backbone, depth_estimation_type="relative", **spec)
    model = AutoModelForDepthEstimation.from_config(config)  # type: ignore[no-untyped-call]
    model.save_pretrained(directory)
    return directory


def memory_peak_mib(device: str) -> float:
    import torch

    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--model", choices=sorted(MODELS), default="small")
    parser.add_argument("--sizes", default="1080,2160", help="frame heights (16:9)")
    parser.add_argument("--seconds", type=float, default=3.0, help="clip length")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--encoder", default="auto")
    parser.add_argument(
        "--input-size", type=int, default=518, help="network short side (518: as trained)"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=int(os.environ.get("STEREOSPOT_INFERENCE_CONCURRENCY", "2")),
        help="conversions at once on the device (default STEREOSPOT_INFERENCE_CONCURRENCY or 2)",
    )
    args = parser.parse_args()

    import torch

    from inference_server.api import ConversionStats, EngineOptions, convert_video
    from inference_server.depth import depth_anything

    depth_anything.INPUT_SIZE = args.input_size  # what every estimator built from now uses
    from stereospot.domain.formats import ConversionSettings, StereoFormat

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device here: run with --device cpu for the reduced check", file=sys.stderr)
        return 2
    where = torch.cuda.get_device_name() if args.device.startswith("cuda") else "CPU"
    print(f"device {args.device} ({where}), torch {torch.__version__}, model {args.model}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model_dir = save_model(args.model, work / "model")
        settings = ConversionSettings(depth_model=str(model_dir))

        def convert(clip: Path, out: Path, profile: bool = False) -> ConversionStats:
            options = EngineOptions(
                device=args.device,
                batch_size=args.batch_size,
                encoder=args.encoder,
                profile=profile,
            )
            return convert_video(
                clip, out, output_format=StereoFormat.FULL_SBS, settings=settings, options=options
            )

        for height in (int(h) for h in args.sizes.split(",")):
            width = height * 16 // 9 // 2 * 2
            clip = make_clip(work / f"clip{height}.mp4", seconds=args.seconds, fps=30,
                             width=width, height=height, audio=False)  # fmt: skip
            convert(clip, work / "warm.mp4")  # loads the model, warms kernels: not timed
            reset_peak(args.device)
            stats = convert(clip, work / "out.mp4")
            fps = stats.frames / stats.seconds
            peak = memory_peak_mib(args.device)
            print(
                f"{height}p: {stats.frames} frames {width}x{height} -> {2 * width}x{height}, "
                f"{fps:.1f} fps end to end, encoder {stats.encoder}, depth {stats.depth_model}, "
                f"memory peak {peak:.0f} MiB"
            )
            profiled = convert(clip, work / "profiled.mp4", profile=True)
            split = ", ".join(f"{s} {profiled.stages.get(s, 0.0):.2f} s" for s in STAGES)
            print(f"{height}p time split (busy seconds, GPU synchronised per stage): {split}")
            reset_peak(args.device)
            results: list[ConversionStats] = []
            errors: list[BaseException] = []

            def one(
                index: int,
                clip: Path = clip,
                results: list[ConversionStats] = results,
                errors: list[BaseException] = errors,
            ) -> None:
                try:
                    results.append(convert(clip, work / f"concurrent{index}.mp4"))
                except BaseException as exc:  # reported below
                    errors.append(exc)

            threads = [threading.Thread(target=one, args=(i,)) for i in range(args.concurrency)]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wall = time.perf_counter() - started
            if errors:
                raise errors[0]
            total = sum(r.frames for r in results)
            print(
                f"{height}p x{args.concurrency} at once: {total / wall:.1f} fps in total, "
                f"memory peak {memory_peak_mib(args.device):.0f} MiB"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
