"""Engine throughput against a plain transcode of the same clip (issue 4, item 7).

Both sides run in this process on the same generated 720p30 clip, alternating, `--repeat`
times each (plain, engine, plain, engine, ...):
  - plain: decode -> the same output size (the frame placed twice side by side, no depth
    or synthesis) -> libx264 with the engine's settings. It uses the engine's own I/O
    path (decode thread, batches in recycled arrays, encode thread), so the difference
    is exactly depth + synthesis + packing;
  - engine: convert_video with the builtin estimator (or --depth-model), full-sbs.
Every run's wall time and CPU time (this process, all threads) is printed; the figure is
the ratio of the medians of the wall times (target <= 1.5 on CPU). The CPU-time ratio
is printed too: on a machine shared with other work it is the steadier of the two. On a
GPU machine, `--device cuda --depth-model <dir of a random Depth Anything V2 Small>
--height 1080` gives the 1080p fps.

    python benchmarks/bench_engine_throughput.py [--seconds 2 --height 720 --repeat 3]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from inference_server.api import EngineOptions, convert_video
from inference_server.pipeline import ArrayPool, BackgroundSink, background_iter
from inference_server.video_io import Encoder, decode_batches, probe_source
from stereospot.domain.formats import ConversionSettings, StereoFormat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.media_clips
from tests.media_clips import make_clip

Item = tuple[np.ndarray, int, list[int], list[int]]


def plain_transcode(source: Path, output: Path, options: EngineOptions) -> int:
    """Decode + encode to the same 2W x H output, with the engine's I/O and encoder."""
    info = probe_source(source)
    h, w = info.height, info.width
    encoder = Encoder(output, width=2 * w, height=h, source=info, crf=options.crf,
                      preset=options.preset)  # fmt: skip
    size = options.batch_size
    inputs = ArrayPool((size, h * 3 // 2, w))
    outputs = ArrayPool((size, h * 3 // 2, 2 * w))

    def write(item: Item) -> None:
        frames, count, pts, durations = item
        for index in range(count):
            encoder.write(frames[index], pts[index], durations[index])
        outputs.give(frames)

    sink: BackgroundSink[Item] = BackgroundSink(write)
    done = 0
    for batch in background_iter(decode_batches(source, info, size, inputs)):
        count = len(batch.pts)
        packed = outputs.take()
        frames = batch.frames[:count]
        for half in (slice(0, w), slice(w, 2 * w)):
            packed[:count, :h, half] = frames[:, :h]
        chroma = frames[:, h:].reshape(count, 2, h // 2, w // 2)
        out_chroma = packed[:count, h:].reshape(count, 2, h // 2, w)
        for half in (slice(0, w // 2), slice(w // 2, w)):
            out_chroma[..., half] = chroma
        inputs.give(batch.frames)
        sink.put((packed, count, batch.pts, batch.durations))
        done += count
    sink.close()
    encoder.close()
    return done


def timed(run: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process, all threads) of one call."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    run()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--depth-model", default="builtin")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3, help="alternating runs of each side")
    args = parser.parse_args()
    width = args.height * 16 // 9 // 2 * 2
    options = EngineOptions(device=args.device, batch_size=args.batch_size)
    settings = ConversionSettings(depth_model=args.depth_model)
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_clip(Path(tmp) / "clip.mp4", seconds=args.seconds, fps=30, width=width,
                         height=args.height, audio=False)  # fmt: skip
        frames = probe_source(clip).total_frames
        print(f"clip {width}x{args.height}@30, {frames} frames, output {2 * width}x{args.height}")
        runs: dict[str, list[tuple[float, float]]] = {"plain": [], "engine": []}
        used: list[str] = []

        def engine_run() -> None:
            stats = convert_video(clip, Path(tmp) / "engine.mp4", settings=settings,
                                  output_format=StereoFormat.FULL_SBS, options=options)  # fmt: skip
            used.append(f"{stats.depth_model}, {stats.device}")

        for index in range(args.repeat):
            runs["plain"].append(
                timed(lambda: plain_transcode(clip, Path(tmp) / "plain.mp4", options))
            )
            runs["engine"].append(timed(engine_run))
            (pw, pc), (ew, ec) = runs["plain"][-1], runs["engine"][-1]
            print(
                f"run {index + 1}: plain {pw:.2f} s wall / {pc:.2f} s CPU, engine ({used[-1]}) "
                f"{ew:.2f} s wall / {ec:.2f} s CPU, ratio {ew / pw:.2f}"
            )
        plain = statistics.median(w for w, _ in runs["plain"])
        engine = statistics.median(w for w, _ in runs["engine"])
        plain_cpu = statistics.median(c for _, c in runs["plain"])
        engine_cpu = statistics.median(c for _, c in runs["engine"])
        print(f"median plain decode+encode: {plain:.2f} s ({frames / plain:.1f} fps)")
        print(f"median engine ({used[-1]}): {engine:.2f} s ({frames / engine:.1f} fps)")
        print(f"CPU-time ratio engine/plain: {engine_cpu / plain_cpu:.2f}")
        print(f"ratio engine/plain: {engine / plain:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
