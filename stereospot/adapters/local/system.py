"""The wall clock and temporary directories (used by every platform)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class TempScratch:
    """Scratch directories under `root` (the system temp dir when None)."""

    def __init__(self, root: Path | None = None) -> None:
        self._root = root
        if root is not None:
            root.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def directory(self) -> Iterator[Path]:
        path = Path(tempfile.mkdtemp(prefix="stereospot-", dir=self._root))
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)
