"""The engine's encoder runs frame threads (as the ffmpeg CLI does) and reports its stages."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from inference_server.api import EngineOptions, convert_video
from stereospot.domain.formats import ConversionSettings, StereoFormat
from tests.media_clips import make_clip

ROOT = Path(__file__).resolve().parents[3]


def x264_settings(path: Path) -> str:
    """The options string libx264 writes into the stream's first SEI."""
    found = re.search(rb"x264 - core .*? options: ([^\x00]*)", path.read_bytes())
    assert found is not None
    return found.group(1).decode(errors="replace")


def test_libx264_runs_frame_threads_and_stages_are_timed(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "in.mp4", seconds=0.5, fps=24, width=128, height=72, audio=False)
    out = tmp_path / "out.mp4"
    stats = convert_video(
        clip,
        out,
        output_format=StereoFormat.FULL_SBS,
        settings=ConversionSettings(depth_model="builtin"),
        options=EngineOptions(device="cpu", preset="medium"),
    )
    settings = x264_settings(out)
    assert "sliced_threads=0" in settings  # PyAV's default would be sliced threads
    assert stats.encoder == "libx264"
    assert {"decode", "copies", "depth", "synthesis", "encode"} <= set(stats.stages)


@pytest.mark.slow
def test_gpu_check_runs_in_its_reduced_cpu_form() -> None:
    """benchmarks/gpu_check.sh must not rot: its CPU form runs here (tiny model, 180p)."""
    done = subprocess.run(
        ["bash", "benchmarks/gpu_check.sh", "--device", "cpu", "--model", "tiny",
         "--sizes", "180", "--seconds", "0.1", "--batch-size", "4", "--concurrency", "2",
         "--input-size", "140"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHON": sys.executable, "HF_HUB_OFFLINE": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    line = r"180p: 3 frames 320x180 -> 640x180, [\d.]+ fps end to end, encoder libx264"
    assert re.search(line, out)
    assert re.search(r"180p time split .*decode [\d.]+ s, copies .*depth [\d.]+ s, synthesis", out)
    assert re.search(r"180p x2 at once: [\d.]+ fps in total, memory peak \d+ MiB", out)
