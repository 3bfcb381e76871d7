"""`stereospot convert` CPU per frame of this checkout against an earlier commit (issue 11).

Issue 11 asks that the artefact-free synthesis keep `convert` within 10 % of the engine's
throughput before it. That is a regression guard, so its reference is the earlier commit
(default 6c6f077, the last one before issue 11's first change), checked out with
`git worktree` into a temporary folder and run with the same interpreter. What a user
compares with (the ffmpeg CLI doing the same transcode) is bench_engine_throughput.py.

Both trees convert the same generated 30 fps 720p H.264 + AAC clip to full-sbs with the
builtin depth model on the CPU, alternating (old, new, old, new, ...) `--repeat` times,
each child pinned to `--cores` cores. CPU time (user + system, all threads, wait4) is
steadier than wall time on a shared machine; both are printed, with the load average.

    python benchmarks/bench_convert_regression.py [--baseline 6c6f077 --seconds 3
        --height 720 --repeat 3 --cores 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_engine_throughput import ROOT, Run, clip, frames_and_size, run_child


def convert_command(source: Path, out: Path) -> list[str]:
    return [
        sys.executable, "-m", "stereospot.entrypoints.cli.main", "convert", str(source), str(out),
        "--format", "full-sbs", "--depth-model", "builtin", "--device", "cpu",
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="6c6f077", help="the earlier commit")
    parser.add_argument("--seconds", type=float, default=3.0, help="clip length")
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()

    source = clip(args.seconds, args.height)
    with tempfile.TemporaryDirectory(prefix="stereospot-baseline-") as scratch:
        baseline = Path(scratch) / "tree"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(baseline), args.baseline],
            check=True,
            capture_output=True,
        )
        try:
            trees = {"old": baseline, "new": ROOT}
            runs: dict[str, list[Run]] = {name: [] for name in trees}
            frames = 0
            for repeat in range(args.repeat):
                for name, tree in trees.items():
                    out = Path(scratch) / f"{name}.mp4"
                    env = dict(os.environ, PYTHONPATH=str(tree))
                    run = run_child(convert_command(source, out), args.cores, env)
                    frames, _, _ = frames_and_size(out)
                    runs[name].append(run)
                    print(
                        f"run {repeat + 1} {name}: wall {run.wall:.2f} s, CPU {run.cpu:.2f} s"
                        f" = {run.cpu / frames * 1000:.1f} ms/frame,"
                        f" load {os.getloadavg()[0]:.1f}",
                        flush=True,
                    )
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(baseline)],
                capture_output=True,
            )

    def med(name: str, field: str) -> float:
        return statistics.median(getattr(run, field) for run in runs[name])

    print(
        f"{args.height}p, {frames} frames, medians of {args.repeat} (baseline {args.baseline}):"
        f" CPU new/old {med('new', 'cpu') / med('old', 'cpu'):.3f},"
        f" wall new/old {med('new', 'wall') / med('old', 'wall'):.3f} (target CPU <= 1.10)"
    )


if __name__ == "__main__":
    main()
