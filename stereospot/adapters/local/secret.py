"""The secret key (sessions, CSRF tokens, signed URLs): where each platform gets it.

Settings.secret_key wins when set (at least 32 characters). Otherwise the local platform
generates one once and keeps it in <data_dir>/secret_key, readable by its owner only, for
every process on that data directory (see keyfile.load_or_create); elsewhere each process
makes its own random key (then sessions last until the process exits).
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

from stereospot.adapters.local.keyfile import load_or_create
from stereospot.config import Settings

logger = logging.getLogger(__name__)

SECRET_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
_MIN_LENGTH = 32


def load_or_create_secret(data_dir: Path) -> bytes:
    path = data_dir / SECRET_FILE
    secret = load_or_create(path, lambda: (secrets.token_hex(32) + "\n").encode("ascii"))
    secret = secret.strip()
    if len(secret) < _MIN_LENGTH:
        raise ValueError(
            f"{path} holds a secret key shorter than {_MIN_LENGTH} characters;"
            " remove the file to have a new one generated"
        )
    return secret


def configured_secret(settings: Settings) -> bytes | None:
    if settings.secret_key is None:
        return None
    configured = settings.secret_key.get_secret_value()
    if len(configured) < _MIN_LENGTH:
        raise ValueError(f"STEREOSPOT_SECRET_KEY must be at least {_MIN_LENGTH} characters")
    return configured.encode("utf-8")


def secret_key(settings: Settings) -> bytes:
    """The configured secret, else the data directory's generated one (local platform)."""
    return configured_secret(settings) or load_or_create_secret(settings.resolved_data_dir())


def process_secret(settings: Settings) -> bytes:
    """The configured secret, else a random one for this process (platforms without a
    shared disk)."""
    configured = configured_secret(settings)
    if configured is not None:
        return configured
    logger.warning("STEREOSPOT_SECRET_KEY is not set: sessions last until this process exits")
    return secrets.token_bytes(32)
