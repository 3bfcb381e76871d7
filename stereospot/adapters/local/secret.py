"""The local secret key (signed URLs, CSRF tokens), shared by every process on a data dir.

Settings.secret_key wins when set. Otherwise a random key is generated once and kept in
<data_dir>/secret_key, readable by its owner only. Creation is atomic (write a private
temporary file, then hard-link it into place, which fails if another process got there
first), so racing processes all end up with the same key.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from stereospot.config import Settings

SECRET_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
_MIN_LENGTH = 32


def _read(path: Path) -> bytes:
    secret = path.read_text(encoding="ascii").strip()
    if len(secret) < _MIN_LENGTH:
        raise ValueError(
            f"{path} holds a secret key shorter than {_MIN_LENGTH} characters;"
            " remove the file to have a new one generated"
        )
    return secret.encode("ascii")


def load_or_create_secret(data_dir: Path) -> bytes:
    path = data_dir / SECRET_FILE
    if path.exists():
        return _read(path)
    data_dir.mkdir(parents=True, exist_ok=True)
    temp = data_dir / f".{SECRET_FILE}.{secrets.token_hex(6)}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(secrets.token_hex(32) + "\n")
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another process created it first
            os.link(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return _read(path)


def secret_key(settings: Settings) -> bytes:
    """The configured secret, else the data directory's generated one."""
    if settings.secret_key is not None:
        configured = settings.secret_key.get_secret_value()
        if len(configured) < _MIN_LENGTH:
            raise ValueError(f"STEREOSPOT_SECRET_KEY must be at least {_MIN_LENGTH} characters")
        return configured.encode("utf-8")
    return load_or_create_secret(settings.resolved_data_dir())
