"""Engine throughput against the ffmpeg CLI doing the same transcode (issue 14).

For each size (720p, 1080p) and x264 preset (veryfast, medium) two commands convert the
same generated 30 fps H.264 + AAC clip to a 2W x H frame side by side, as a user would run
them, alternating (ffmpeg, engine, ffmpeg, engine, ...) `--repeat` times:
  - the floor: `ffmpeg -i IN -filter_complex "[0:v]split[a][b];[a][b]hstack"
    -c:v libx264 -preset P -crf C -pix_fmt yuv420p -c:a copy OUT`;
  - the engine: `stereospot convert IN OUT --format full-sbs --preset P --crf C
    --depth-model builtin --device cpu` (a whole process: start-up and imports included).
Each child runs on the first `--cores` cores (default 2, the dev machine); its wall time
and CPU time (user + system, all threads, from wait4) are printed per run, then the
ratios of the medians, the engine's CPU time beyond the transcode per frame (start-up
included) and the load average. Target: engine/ffmpeg wall <= 1.5 at --preset medium.

The ffmpeg CLI is installed with apt-get when missing (benchmark setup only: the product
needs none). Clips are cached under benchmarks/.cache/ (gitignored).

    python benchmarks/bench_engine_throughput.py [--seconds 12 --sizes 720,1080
        --presets veryfast,medium --repeat 3 --crf 20 --cores 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.media_clips when run as a script
from tests.media_clips import make_clip  # noqa: E402

CACHE = ROOT / "benchmarks" / ".cache"
APT_TRIES = 10  # other engineers may hold the apt lock for a while


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    max_rss_mib: float


def ensure_ffmpeg() -> str:
    """The ffmpeg CLI, installed with apt-get (retrying while the apt lock is held)."""
    found = shutil.which("ffmpeg")
    for attempt in range(APT_TRIES):
        if found:
            return found
        done = subprocess.run(["apt-get", "install", "-y", "ffmpeg"], capture_output=True)
        found = shutil.which("ffmpeg")
        if not found and done.returncode != 0 and attempt + 1 < APT_TRIES:
            time.sleep(15)
    raise SystemExit("the ffmpeg CLI is not available and apt-get could not install it")


def clip(seconds: float, height: int) -> Path:
    width = height * 16 // 9 // 2 * 2
    path = CACHE / f"throughput_{width}x{height}_{seconds:g}s.mp4"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part.mp4")
        make_clip(partial, seconds=seconds, fps=30, width=width, height=height, audio=True)
        partial.rename(path)
    return path


def run_child(command: list[str], cores: int, env: dict[str, str] | None = None) -> Run:
    """Runs `command` pinned to the first `cores` cores: wall, CPU (wait4) and peak RSS."""
    allowed = sorted(os.sched_getaffinity(0))[:cores]

    def pin() -> None:
        os.sched_setaffinity(0, allowed)

    started = time.perf_counter()
    child = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=pin, env=env
    )
    assert child.stderr is not None
    errors = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({child.returncode}): {errors.decode()[-2000:]}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def ffmpeg_command(ffmpeg: str, source: Path, out: Path, preset: str, crf: int) -> list[str]:
    return [
        ffmpeg, "-v", "error", "-y", "-i", str(source),
        "-filter_complex", "[0:v]split[a][b];[a][b]hstack",
        "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
        "-c:a", "copy", str(out),
    ]  # fmt: skip


def engine_command(source: Path, out: Path, preset: str, crf: int, depth: str) -> list[str]:
    return [
        sys.executable, "-m", "stereospot.entrypoints.cli.main", "convert", str(source), str(out),
        "--format", "full-sbs", "--preset", preset, "--crf", str(crf),
        "--depth-model", depth, "--device", "cpu",
    ]  # fmt: skip


def frames_and_size(path: Path) -> tuple[int, int, int]:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        count = sum(1 for packet in container.demux(stream) if packet.size)
        return count, stream.codec_context.width, stream.codec_context.height


def median(runs: list[Run], field: str) -> float:
    return statistics.median(getattr(run, field) for run in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=12.0, help="clip length")
    parser.add_argument("--sizes", default="720,1080", help="frame heights, comma separated")
    parser.add_argument("--presets", default="veryfast,medium")
    parser.add_argument("--repeat", type=int, default=3, help="alternating runs of each side")
    parser.add_argument("--crf", type=int, default=20)
    parser.add_argument("--cores", type=int, default=2, help="cores each command may use")
    parser.add_argument("--depth-model", default="builtin")
    args = parser.parse_args()
    ffmpeg = ensure_ffmpeg()
    env_note = f"load {os.getloadavg()[0]:.1f}, {args.cores} cores, {args.seconds:g} s clips"
    print(f"engine vs ffmpeg CLI ({env_note}), crf {args.crf}, depth {args.depth_model}")
    rows: list[str] = []
    work = CACHE / "throughput_out"
    work.mkdir(parents=True, exist_ok=True)
    for height in (int(h) for h in args.sizes.split(",")):
        source = clip(args.seconds, height)
        for preset in args.presets.split(","):
            runs: dict[str, list[Run]] = {"ffmpeg": [], "engine": []}
            outputs = {"ffmpeg": work / "ffmpeg.mp4", "engine": work / "engine.mp4"}
            commands = {
                "ffmpeg": ffmpeg_command(ffmpeg, source, outputs["ffmpeg"], preset, args.crf),
                "engine": engine_command(
                    source, outputs["engine"], preset, args.crf, args.depth_model
                ),
            }
            for index in range(args.repeat):
                for side in ("ffmpeg", "engine"):
                    runs[side].append(run_child(commands[side], args.cores))
                f, e = runs["ffmpeg"][-1], runs["engine"][-1]
                print(
                    f"{height}p {preset} run {index + 1}: ffmpeg {f.wall:.2f} s / CPU "
                    f"{f.cpu:.2f} s, engine {e.wall:.2f} s / CPU {e.cpu:.2f} s, "
                    f"ratio {e.wall / f.wall:.2f} (CPU {e.cpu / f.cpu:.2f})",
                    flush=True,
                )
            checks = {side: frames_and_size(path) for side, path in outputs.items()}
            if checks["ffmpeg"] != checks["engine"]:
                raise SystemExit(f"outputs differ (frames, width, height): {checks}")
            frames = checks["engine"][0]
            pairs = [e.wall / f.wall for f, e in zip(runs["ffmpeg"], runs["engine"], strict=True)]
            fw, ew = median(runs["ffmpeg"], "wall"), median(runs["engine"], "wall")
            fc, ec = median(runs["ffmpeg"], "cpu"), median(runs["engine"], "cpu")
            rss = max(r.max_rss_mib for r in runs["engine"])
            extra_ms = (ec - fc) / frames * 1000  # the engine's CPU beyond the transcode
            rows.append(
                f"| {height}p | {preset} | {fw:.2f} s ({frames / fw:.1f} fps) / {fc:.2f} s "
                f"| {ew:.2f} s ({frames / ew:.1f} fps) / {ec:.2f} s | **{ew / fw:.2f}** "
                f"| {ec / fc:.2f} | {extra_ms:.1f} ms | {min(pairs):.2f}-{max(pairs):.2f} "
                f"| {rss:.0f} MiB | {os.getloadavg()[0]:.1f} |"
            )
    print(f"\nmedians of {args.repeat} ({env_note}; load now {os.getloadavg()[0]:.1f}):")
    print(
        "| size | preset | ffmpeg wall / CPU | engine wall / CPU | wall ratio | CPU ratio "
        "| engine CPU beyond ffmpeg, per frame | per-run wall ratios | engine peak RSS "
        "| load after |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
