"""Where the web app's secret comes from: the composition root decides, per platform."""

from __future__ import annotations

from pathlib import Path

import pytest

from stereospot.config import Platform, Settings
from stereospot.container import build_container


def test_a_configured_secret_is_used_on_any_platform(tmp_path: Path) -> None:
    configured = "k" * 40
    settings = Settings(platform=Platform.MEMORY, data_dir=tmp_path, secret_key=configured)
    assert build_container(settings).secret_key() == configured.encode()


def test_a_short_configured_secret_is_refused(tmp_path: Path) -> None:
    settings = Settings(platform=Platform.MEMORY, data_dir=tmp_path, secret_key="s3cret")
    with pytest.raises(ValueError, match="at least 32 characters"):
        build_container(settings).secret_key()


def test_the_local_platform_keeps_one_secret_on_disk(tmp_path: Path) -> None:
    first = build_container(Settings(platform=Platform.LOCAL, data_dir=tmp_path)).secret_key()
    again = build_container(Settings(platform=Platform.LOCAL, data_dir=tmp_path)).secret_key()
    assert first == again and len(first) >= 32
    assert (tmp_path / "secret_key").exists()


def test_without_one_elsewhere_each_process_makes_its_own(tmp_path: Path) -> None:
    settings = Settings(platform=Platform.MEMORY, data_dir=tmp_path)
    one, two = build_container(settings).secret_key(), build_container(settings).secret_key()
    assert len(one) == 32 and one != two
    assert not (tmp_path / "secret_key").exists()
