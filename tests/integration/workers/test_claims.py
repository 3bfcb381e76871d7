"""A dead worker's message and scratch folder, on the real local platform."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from stereospot.adapters.local.system import TempScratch, sweep_dead_scratch
from stereospot.config import Settings
from stereospot.container import build_container
from stereospot.domain.routing import QueueName
from stereospot.entrypoints.workers.claims import claims_directory, release_dead


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_the_message_a_dead_process_held_is_released_at_once(tmp_path: Path) -> None:
    container = build_container(Settings(platform="local", data_dir=tmp_path))
    deps, alive = container.deps(), container.process_alive()
    queue = deps.queues[QueueName.VIDEO_WORKER]
    queue.send("{}")
    (held,) = queue.receive(1, 0, 150)
    assert queue.receive(1, 0, 150) == []  # invisible for 150 s
    directory = claims_directory(tmp_path)
    directory.mkdir(parents=True)
    dead = _dead_pid()
    claim = {"queue": "video-worker", "receipt": held.receipt}
    (directory / f"{dead}.json").write_text(json.dumps(claim))
    assert release_dead(directory, deps.queues, alive) == 1
    assert [m.message_id for m in queue.receive(1, 0, 150)] == [held.message_id]
    assert not (directory / f"{dead}.json").exists()
    assert release_dead(directory, deps.queues, alive) == 0


def test_scratch_folders_of_dead_processes_are_swept_live_ones_kept(tmp_path: Path) -> None:
    scratch = TempScratch(tmp_path)
    with scratch.directory() as mine:
        orphan = tmp_path / f"stereospot-{_dead_pid()}-abc"
        (orphan / "inner").mkdir(parents=True)
        other = tmp_path / "something-else"
        other.mkdir()
        TempScratch(tmp_path)  # a process starting
        assert mine.exists() and other.exists() and not orphan.exists()
    assert sweep_dead_scratch(tmp_path) == 0
