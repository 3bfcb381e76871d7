"""Overhead of the `http` inference backend over `local` on the same job.

The same segments (a clip split keyframe-aligned, as the pipeline does) are converted by
LocalInferenceBackend in this process and by HttpInferenceBackend against
`stereospot inference serve` on loopback (a separate process, file:// URIs on the same
local storage), alternating, median of 3 runs each. The engine's work is the same; the
difference is the request, the server's copy of each segment to and from its scratch
space, and the process boundary. Reports the http / local ratio.

    python benchmarks/bench_remote_inference.py [--segments 4] [--seconds 2] [--width 320]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from uuid import uuid4

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stereospot.adapters.inference.http import HttpInferenceBackend
from stereospot.adapters.inference.local import LocalInferenceBackend
from stereospot.adapters.local.system import TempScratch
from stereospot.config import Platform, Settings
from stereospot.container import build_container
from stereospot.domain import keys
from stereospot.domain.formats import ConversionSettings, StereoFormat
from stereospot.domain.ports import ConversionRequest, InferenceBackend
from tests.e2e.inference_process import running_inference_server
from tests.media_clips import make_clip


def run(backend: InferenceBackend, segment_keys: list[str]) -> float:
    job = uuid4()
    started = time.perf_counter()
    for index, key in enumerate(segment_keys):
        backend.convert(
            ConversionRequest(
                job_id=job,
                segment_index=index,
                input_key=key,
                output_key=keys.output_segment_key(job, index),
                output_format=StereoFormat.HALF_SBS,
                settings=ConversionSettings(depth_model="builtin"),
                previous_input_key=segment_keys[index - 1] if index else None,
            )
        )
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=2.0, help="length of each segment")
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-remote-") as tmp:
        root = Path(tmp)
        data = root / "data"
        settings = Settings(platform=Platform.LOCAL, data_dir=data, device="cpu")
        storage = build_container(settings).platform.storage()
        job = uuid4()
        segment_keys = []
        for index in range(args.segments):
            clip = make_clip(
                root / f"{index}.mp4",
                seconds=args.seconds,
                fps=24,
                width=args.width,
                height=args.width * 9 // 16 // 2 * 2,
                audio=False,
            )
            key = keys.segment_key(job, index, args.segments, StereoFormat.HALF_SBS)
            storage.put_file(key, clip)
            segment_keys.append(key)
        local = LocalInferenceBackend(storage, TempScratch(root / "scratch"), device="cpu")
        with running_inference_server(data, extra_env={"STEREOSPOT_DEVICE": "cpu"}) as server:
            remote = HttpInferenceBackend(storage, server.url)
            run(local, segment_keys[:1])  # warm both: imports, first-call costs
            run(remote, segment_keys[:1])
            times: dict[str, list[float]] = {"local": [], "http": []}
            for _ in range(args.runs):
                times["local"].append(run(local, segment_keys))
                times["http"].append(run(remote, segment_keys))
    frames = args.segments * round(args.seconds * 24)
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, median in medians.items():
        runs = ", ".join(f"{t:.2f}" for t in times[name])
        print(f"{name:5s}: median {median:.2f} s for {frames} frames (runs: {runs})")
    print(f"http / local: {medians['http'] / medians['local']:.3f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
