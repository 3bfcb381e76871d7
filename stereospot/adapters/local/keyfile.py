"""One private key file per data directory, created once whoever comes first.

`load_or_create(path, generate)` returns the file's bytes, writing `generate()` there first
if it is absent. Creation is atomic: a private (0600) temporary file is written and synced,
then hard-linked into place, which fails if another process got there first; so processes
that race all end up reading the same key.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path


def load_or_create(path: Path, generate: Callable[[], bytes]) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(generate())
                file.flush()
                os.fsync(file.fileno())
            with contextlib.suppress(FileExistsError):  # another process created it first
                os.link(temp, path)
        finally:
            temp.unlink(missing_ok=True)
    return path.read_bytes()
