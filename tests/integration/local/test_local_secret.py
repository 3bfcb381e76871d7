"""The local secret key: configured, or generated once per data directory and kept private."""

from __future__ import annotations

from pathlib import Path

import pytest

from stereospot.adapters.local.secret import load_or_create_secret, secret_key
from stereospot.config import Settings


def test_a_generated_secret_is_kept_private_and_reused(tmp_path: Path) -> None:
    first = load_or_create_secret(tmp_path / "data")
    path = tmp_path / "data" / "secret_key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(first) == 64
    assert load_or_create_secret(tmp_path / "data") == first
    assert load_or_create_secret(tmp_path / "elsewhere") != first


def test_the_configured_secret_wins(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key="c" * 32)
    assert secret_key(settings) == b"c" * 32
    assert not (tmp_path / "secret_key").exists()


def test_short_secrets_are_refused_with_a_reason(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 32 characters"):
        secret_key(Settings(data_dir=tmp_path, secret_key="short"))
    (tmp_path / "secret_key").write_text("tiny\n")
    with pytest.raises(ValueError, match="remove the file"):
        secret_key(Settings(data_dir=tmp_path))
