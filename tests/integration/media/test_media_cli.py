"""`stereospot media ...` end to end, in process and as a real command."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from stereospot.entrypoints.cli.main import main


def test_probe_prints_json(clip: Callable[[str], Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["media", "probe", str(clip("h264.mp4"))]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["codec"], info["frame_count"], info["has_audio"]) == ("h264", 48, True)


def test_split_writes_segments_and_prints_the_plan_then_concat_joins_them(
    clip: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = clip("h264.mp4")
    out_dir = tmp_path / "segments"
    assert main(["media", "split", str(source), str(out_dir), "--seconds", "0.5"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert [entry["index"] for entry in plan] == [0, 1]
    assert sum(entry["frame_count"] for entry in plan) == 48
    assert sorted(p.name for p in out_dir.iterdir()) == [Path(e["file"]).name for e in plan]

    final = tmp_path / "final.mp4"
    segments = [entry["file"] for entry in plan]
    assert main(["media", "concat", str(final), *segments, "--audio-from", str(source)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["frame_count"], result["audio_codec"]) == (48, "aac")
    assert final.exists()


def test_bad_input_exits_non_zero_with_the_reason(tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 20)
    done = subprocess.run(
        [sys.executable, "-m", "stereospot.entrypoints.cli.main", "media", "probe", str(text)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == "error: This file is not a video: it contains text."
    assert done.stdout == ""
