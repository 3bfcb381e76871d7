"""The wall clock and temporary directories (used by every platform).

Scratch directories are named after the process that made them (`stereospot-<pid>-...`),
so the next process to start removes those of processes that died (kill -9, a crash)
without touching the ones live processes still use.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


logger = logging.getLogger(__name__)

_OWNED = re.compile(r"^stereospot-(\d+)-")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def sweep_dead_scratch(root: Path) -> int:
    """Remove the scratch directories under `root` whose process is gone; how many."""
    removed = 0
    try:
        entries = list(root.iterdir())
    except OSError:
        return 0
    for entry in entries:
        match = _OWNED.match(entry.name)
        if not match or not entry.is_dir() or entry.is_symlink():
            continue
        pid = int(match.group(1))
        if pid == os.getpid() or pid_alive(pid):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed += 1
    if removed:
        logger.info("removed %d scratch folder(s) left by stopped processes", removed)
    return removed


class TempScratch:
    """Scratch directories under `root` (the system temp dir when None)."""

    def __init__(self, root: Path | None = None) -> None:
        self._root = root
        if root is not None:
            root.mkdir(parents=True, exist_ok=True)
        sweep_dead_scratch(root or Path(tempfile.gettempdir()))

    @contextmanager
    def directory(self) -> Iterator[Path]:
        prefix = f"stereospot-{os.getpid()}-"
        path = Path(tempfile.mkdtemp(prefix=prefix, dir=self._root))
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)
