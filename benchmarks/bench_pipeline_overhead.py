"""The pipeline's own overhead: one job through `stereospot serve` against `stereospot convert`.

Same clip (60 s, 1280x720, 30 fps, H.264 + AAC, a keyframe a second), same format
(half-sbs), same conversion settings and engine options (the defaults). `convert` is timed
as a whole process (start, decode, depth, synthesis, encode, audio copy). The serve side is
timed like a user sees it: from creating the job over HTTP, through the upload PUT, to the
job reading `completed` (chunking, per-segment conversion with warm-up, output events,
reassembly). `serve` itself is started before the clock starts, as it would be running
already; each round uses a fresh serve (fresh worker processes, so both sides start cold).
Rounds alternate which side goes first; the median ratio is reported. Target: <= 1.25.

The machine is shared, so wall time is noisy; CPU time (user + sys of every process
involved, from RUSAGE_CHILDREN: convert; serve with its web app and workers, from start to
stop, so it also counts their start-up and idle polling) is reported beside it as the
steadier measure of the work each side does.

    python benchmarks/bench_pipeline_overhead.py [--seconds 60] [--rounds 3] [--video-workers 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import av
import httpx

from stereospot.entrypoints.workers.sample_clip import write_sample_clip

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "benchmarks" / ".cache"
RESULTS = ROOT / "benchmarks" / "results"
CLI = [sys.executable, "-m", "stereospot.entrypoints.cli.main"]
FORMAT = "half-sbs"


def source_clip(seconds: float, width: int, height: int, fps: int) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"pipeline-{seconds:g}s-{width}x{height}-{fps}.mp4"
    if not path.exists():
        print(f"making {path.name} ...", file=sys.stderr, flush=True)
        partial = path.with_suffix(".partial.mp4")
        write_sample_clip(partial, seconds=seconds, width=width, height=height, fps=fps)
        partial.rename(path)
    return path


def frame_count(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_convert(clip: Path, work: Path, env: dict[str, str]) -> tuple[float, float, Path]:
    """Wall and CPU seconds of `stereospot convert`, and its output."""
    out = work / "convert.mp4"
    cpu_before = children_cpu_s()
    started = time.perf_counter()
    subprocess.run(
        [*CLI, "convert", str(clip), str(out), "--format", FORMAT],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started, children_cpu_s() - cpu_before, out


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_serve(
    data_dir: Path, env: dict[str, str], video_workers: int
) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    log = (data_dir.parent / "serve.log").open("w")
    process = subprocess.Popen(
        [*CLI, "serve", "--data-dir", str(data_dir), "--port", str(port),
         "--media-workers", "1", "--video-workers", str(video_workers)],
        env=env, stdout=subprocess.PIPE, stderr=log, text=True,
    )  # fmt: skip
    ready = threading.Event()
    url: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if "running at" in line:
                url.append(line.split("running at ", 1)[1].strip().rstrip("/"))
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(120):
        process.kill()
        raise RuntimeError("serve did not start")
    time.sleep(2.0)  # let the worker processes finish starting before the clock runs
    return process, url[0]


def time_serve_job(
    clip: Path, work: Path, env: dict[str, str], video_workers: int
) -> tuple[float, float]:
    """Wall seconds of the job, CPU seconds of serve and its workers from start to stop."""
    data_dir = work / "data"
    cpu_before = children_cpu_s()
    process, base = start_serve(data_dir, env, video_workers)
    try:
        with httpx.Client(base_url=base, timeout=120) as http:
            started = time.perf_counter()
            job = http.post("/api/jobs", json={"output_format": FORMAT}).json()
            upload = http.post(f"/api/jobs/{job['id']}/upload-url", json={"filename": clip.name})
            with clip.open("rb") as body:
                http.put(upload.json()["url"], content=body).raise_for_status()
            while True:
                state = http.get(f"/api/jobs/{job['id']}").json()
                if state["status"] in ("completed", "failed"):
                    break
                time.sleep(0.25)  # a browser's event stream polls the store once a second
            elapsed = time.perf_counter() - started
        if state["status"] != "completed":
            raise RuntimeError(f"the job failed: {state['failure_reason']}")
        final = data_dir / "objects" / "jobs" / job["id"] / "final.mp4"
        if frame_count(final) != frame_count(clip):
            raise RuntimeError("the pipeline's result has the wrong number of frames")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(60)
    return elapsed, children_cpu_s() - cpu_before


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--video-workers", type=int, default=1)
    args = parser.parse_args()

    clip = source_clip(args.seconds, args.width, args.height, args.fps)
    env = {**os.environ, "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1")}
    env.pop("STEREOSPOT_PUBLIC_URL", None)
    rows: list[dict[str, float]] = []
    for round_number in range(1, args.rounds + 1):
        with tempfile.TemporaryDirectory(prefix="stereospot-bench-") as tmp:
            work = Path(tmp)
            serve_first = round_number % 2 == 0
            if serve_first:
                serve_s, serve_cpu = time_serve_job(clip, work, env, args.video_workers)
            convert_s, convert_cpu, converted = time_convert(clip, work, env)
            if frame_count(converted) != frame_count(clip):
                raise RuntimeError("convert's result has the wrong number of frames")
            if not serve_first:
                serve_s, serve_cpu = time_serve_job(clip, work, env, args.video_workers)
        row = {
            "convert_s": convert_s,
            "serve_s": serve_s,
            "ratio": serve_s / convert_s,
            "convert_cpu_s": convert_cpu,
            "serve_cpu_s": serve_cpu,
            "cpu_ratio": serve_cpu / convert_cpu,
        }
        rows.append(row)
        print(
            f"round {round_number} ({'serve' if serve_first else 'convert'} first): "
            f"wall convert {convert_s:7.2f} s, serve job {serve_s:7.2f} s, "
            f"ratio {row['ratio']:.3f} | CPU convert {convert_cpu:7.1f} s, "
            f"serve {serve_cpu:7.1f} s, ratio {row['cpu_ratio']:.3f}",
            flush=True,
        )
    ratio = statistics.median(r["ratio"] for r in rows)
    cpu_ratio = statistics.median(r["cpu_ratio"] for r in rows)
    print(
        f"\npipeline overhead, median of {len(rows)}: wall {ratio:.3f}, CPU {cpu_ratio:.3f}"
        f"  (target <= 1.25; {args.seconds:g} s {args.width}x{args.height}@{args.fps}, "
        f"{FORMAT}, {args.video_workers} video worker(s))"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    summary = {"args": vars(args), "rounds": rows, "median_ratio": ratio, "median_cpu": cpu_ratio}
    (RESULTS / "pipeline_overhead.json").write_text(json.dumps(summary, indent=2))
    return 0 if ratio <= 1.25 else 1


if __name__ == "__main__":
    sys.exit(main())
