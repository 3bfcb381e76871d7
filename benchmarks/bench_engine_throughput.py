"""Engine throughput against a plain transcode of the same clip (issue 4, item 7).

Both runs happen in this process, one after the other, on the same generated 720p30 clip:
  - plain: PyAV decode -> the same output size (the frame placed twice side by side,
    as YUV planes, no depth or synthesis) -> libx264 with the engine's settings;
  - engine: convert_video with the builtin estimator (or --depth-model), full-sbs.
The ratio engine/plain is the figure (target <= 1.5 on CPU). On a GPU machine,
`--device cuda --depth-model <dir of a random Depth Anything V2 Small> --height 1080`
gives the 1080p fps.

    python benchmarks/bench_engine_throughput.py [--seconds 4 --height 720 --device cpu]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from inference_server.api import EngineOptions, convert_video
from inference_server.pipeline import BackgroundSink, background_iter
from inference_server.video_io import Encoder, decode_frames, probe_source
from stereospot.domain.formats import ConversionSettings, StereoFormat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.media_clips
from tests.media_clips import make_clip


def plain_transcode(source: Path, output: Path, options: EngineOptions) -> int:
    """Decode + encode to the same 2W x H output, with the same threads and encoder."""
    info = probe_source(source)
    encoder = Encoder(output, width=2 * info.width, height=info.height, source=info,
                      crf=options.crf, preset=options.preset)  # fmt: skip
    h, w = info.height, info.width

    def write(item: tuple[np.ndarray, int]) -> None:
        encoder.write(*item)

    sink: BackgroundSink[tuple[np.ndarray, int]] = BackgroundSink(write)
    frames = 0
    for frame in background_iter(decode_frames(source, info)):
        packed = np.empty((h * 3 // 2, 2 * w), np.uint8)
        packed[:h] = np.concatenate([frame.i420[:h]] * 2, axis=1)
        chroma = frame.i420[h:].reshape(2, h // 2, w // 2)
        packed[h:] = np.concatenate([chroma] * 2, axis=2).reshape(h // 2, 2 * w)
        sink.put((packed, frame.pts))
        frames += 1
    sink.close()
    encoder.close()
    return frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--depth-model", default="builtin")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=1, help="alternate runs, keep the best")
    args = parser.parse_args()
    width = args.height * 16 // 9 // 2 * 2
    options = EngineOptions(device=args.device, batch_size=args.batch_size)
    settings = ConversionSettings(depth_model=args.depth_model)
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_clip(Path(tmp) / "clip.mp4", seconds=args.seconds, fps=30, width=width,
                         height=args.height, audio=False)  # fmt: skip
        plain_s, engine_s, frames = [], [], 0
        for _ in range(args.repeat):
            started = time.perf_counter()
            frames = plain_transcode(clip, Path(tmp) / "plain.mp4", options)
            plain_s.append(time.perf_counter() - started)
            stats = convert_video(
                clip, Path(tmp) / "engine.mp4", output_format=StereoFormat.FULL_SBS,
                settings=settings, options=options,
            )  # fmt: skip
            engine_s.append(stats.seconds)
        plain, engine = min(plain_s), min(engine_s)
        print(f"clip {width}x{args.height}@30, {frames} frames, output {2 * width}x{args.height}")
        print(f"plain decode+encode: {plain:.2f} s ({frames / plain:.1f} fps)")
        print(f"engine ({stats.depth_model}, {stats.device}): {engine:.2f} s "
              f"({frames / engine:.1f} fps)")  # fmt: skip
        print(f"ratio engine/plain: {engine / plain:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
