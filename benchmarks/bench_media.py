"""Media toolkit benchmark: PyAV split/concat against the ffmpeg CLI doing the same work.

    python benchmarks/bench_media.py            # timings, printed as PyAV/ffmpeg ratios
    python benchmarks/bench_media.py --memory   # + peak RSS of split on a >= 2 GB file

The 10-minute 1080p30 H.264+AAC source is built once under benchmarks/.cache/ (a 10 s
encode, stream-copied 60 times end to end). Both tools run on the same files in the same
process, alternating, median of 3. Installs the ffmpeg CLI with apt-get if it is missing.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stereospot.adapters.media.pyav_toolkit import PyAVToolkit  # noqa: E402
from tests.media_clips import make_clip  # noqa: E402

CACHE = ROOT / "benchmarks" / ".cache"
SEGMENT_SECONDS = 10.0
TARGET_RATIO = 1.3


def repeat_remux(source: Path, dest: Path, times: int) -> Path:
    """`source` stream-copied `times` times end to end, timestamps shifted (no encoding).

    Every stream shifts by the same time (the video's length) so audio never drifts;
    packets before 0 (AAC priming) are only kept in the first round.
    """
    partial = dest.with_suffix(".partial.mp4")
    with av.open(str(source)) as first:
        video = first.streams.video[0]
        assert video.duration is not None and video.time_base is not None
        length_s = video.duration * video.time_base
    with av.open(str(partial), "w", format="mp4") as out:
        outs: dict[int, av.stream.Stream] = {}
        for round_ in range(times):
            with av.open(str(source)) as inp:
                if not outs:
                    outs = {s.index: out.add_stream_from_template(s) for s in inp.streams}
                for packet in inp.demux():
                    if packet.size == 0 or packet.pts is None or packet.dts is None:
                        continue
                    if round_ and packet.stream.type == "audio" and packet.pts < 0:
                        continue
                    assert packet.time_base is not None
                    shift = round(length_s * round_ / packet.time_base)
                    packet.pts += shift
                    packet.dts += shift
                    packet.stream = outs[packet.stream.index]
                    out.mux(packet)
    partial.replace(dest)
    return dest


def source_file() -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    ten_minutes = CACHE / "src_10min_1080p30.mp4"
    if not ten_minutes.exists():
        ten_seconds = CACHE / "src_10s_1080p30.mp4"
        if not ten_seconds.exists():
            print("encoding a 10 s 1080p30 clip (once)...", flush=True)
            make_clip(ten_seconds, seconds=10, fps=30, width=1920, height=1080, gop=60, bframes=2)
        print("remuxing it into 10 minutes (once)...", flush=True)
        repeat_remux(ten_seconds, ten_minutes, 60)
    return ten_minutes


def ensure_ffmpeg() -> str:
    found = shutil.which("ffmpeg")
    if found is None:
        subprocess.run(["apt-get", "install", "-y", "ffmpeg"], check=True, capture_output=True)
        found = shutil.which("ffmpeg")
    assert found, "ffmpeg CLI not available"
    return found


def fresh(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def ffmpeg_split(ffmpeg: str, source: Path, out: Path) -> None:
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", "-i", str(source), "-map", "0:v:0", "-c", "copy",
         "-f", "segment", "-segment_time", str(SEGMENT_SECONDS), "-reset_timestamps", "1",
         str(out / "seg_%05d.mp4")],
        check=True,
    )  # fmt: skip


def ffmpeg_concat(ffmpeg: str, segments: list[Path], source: Path, out: Path) -> None:
    listing = out.parent / "concat.txt"
    listing.write_text("".join(f"file '{p}'\n" for p in segments))
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
         "-i", str(source), "-map", "0:v:0", "-map", "1:a:0", "-c", "copy",
         "-movflags", "+faststart", "-shortest", str(out)],
        check=True,
    )  # fmt: skip


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def compare(
    name: str, ours: Callable[[], object], theirs: Callable[[], object], runs: int = 3
) -> float:
    mine: list[float] = []
    ref: list[float] = []
    for _ in range(runs):  # alternate so drift in machine load hits both alike
        ref.append(timed(theirs))
        mine.append(timed(ours))
    ratio = statistics.median(mine) / statistics.median(ref)
    verdict = "OK" if ratio <= TARGET_RATIO else "OVER TARGET"
    print(
        f"{name}: PyAV median {statistics.median(mine):.2f} s, ffmpeg median "
        f"{statistics.median(ref):.2f} s, ratio {ratio:.2f}x (target <= {TARGET_RATIO}x) "
        f"{verdict}; runs PyAV {[round(t, 2) for t in mine]} ffmpeg {[round(t, 2) for t in ref]}",
        flush=True,
    )
    return ratio


def bench_speed() -> None:
    ffmpeg = ensure_ffmpeg()
    source = source_file()
    toolkit = PyAVToolkit()
    info = toolkit.probe(source)
    print(
        f"source: {info.duration_s:.0f} s {info.width}x{info.height} {info.fps:.0f} fps "
        f"{info.codec}+{info.audio_codec}, {info.size_bytes / 1e6:.0f} MB",
        flush=True,
    )
    work = CACHE / "work"
    compare(
        "split",
        lambda: toolkit.split(source, fresh(work / "pyav_split"), SEGMENT_SECONDS),
        lambda: ffmpeg_split(ffmpeg, source, fresh(work / "ffmpeg_split")),
    )
    segments = sorted((work / "pyav_split").glob("*.mp4"))
    compare(
        "concat",
        lambda: toolkit.concat(segments, source, fresh(work / "pyav_concat") / "final.mp4"),
        lambda: ffmpeg_concat(
            ffmpeg, segments, source, fresh(work / "ffmpeg_concat") / "final.mp4"
        ),
    )
    shutil.rmtree(work, ignore_errors=True)


def bench_memory() -> None:
    source = source_file()
    big = CACHE / "big_2gb.mp4"
    if not big.exists():
        times = max(1, -(-2_100_000_000 // source.stat().st_size))
        print(f"remuxing the source {times}x into a >= 2 GB file (once)...", flush=True)
        repeat_remux(source, big, times)
    out = fresh(CACHE / "memory_split")
    split_code = (
        "from pathlib import Path; from stereospot.adapters.media.split import split; "
        f"print(len(split(Path({str(big)!r}), Path({str(out)!r}), {SEGMENT_SECONDS})))"
    )
    # A wrapper process whose only child is the split, so RUSAGE_CHILDREN is the split's
    # peak alone (this process has also waited for ffmpeg runs).
    wrapper = (
        "import resource, subprocess, sys; "
        f"done = subprocess.run([sys.executable, '-c', {split_code!r}], check=True, "
        "capture_output=True, text=True); "
        "print(done.stdout.strip(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    count, peak_kb = done.stdout.split()
    peak_mb = int(peak_kb) / 1024
    verdict = "OK" if peak_mb < 300 else "OVER LIMIT"
    print(
        f"memory: split of {big.stat().st_size / 1e9:.2f} GB into {count} "
        f"segments in {elapsed:.1f} s, peak RSS {peak_mb:.0f} MB (limit 300 MB) {verdict}",
        flush=True,
    )
    shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--memory", action="store_true", help="also run the >= 2 GB check")
    parser.add_argument("--memory-only", action="store_true", help="only the >= 2 GB check")
    args = parser.parse_args()
    if not args.memory_only:
        bench_speed()
    if args.memory or args.memory_only:
        bench_memory()


if __name__ == "__main__":
    main()
