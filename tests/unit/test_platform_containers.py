"""Every platform container provides everything platforms/base.py lists, and only the
platforms decide what differs between them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from dependency_injector import providers

from stereospot import platforms
from stereospot.config import Settings
from stereospot.container import platform_container
from stereospot.platforms.base import PROVIDED

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("platform", platforms.known())
def test_each_platform_defines_every_provider(platform: str, tmp_path: Path) -> None:
    container = platform_container(Settings(platform=platform, data_dir=tmp_path))
    missing = [
        name for name in PROVIDED if isinstance(getattr(container, name), providers.Dependency)
    ]
    assert missing == []


@pytest.mark.parametrize("platform", platforms.known())
def test_what_differs_by_platform_has_the_promised_shape(platform: str, tmp_path: Path) -> None:
    settings = Settings(platform=platform, data_dir=tmp_path, secret_key="k" * 40)
    container = platform_container(settings)
    assert container.secret_key() == b"k" * 40
    assert 0 < container.max_upload_bytes() <= settings.max_upload_bytes
    assert all(origin.startswith(("http://", "https://")) for origin in container.storage_origins())
    assert isinstance(container.data_location(), str) and container.data_location()
    with container.scratch().directory() as scratch:
        assert scratch.is_dir()


def test_no_platform_is_tested_for_outside_the_platforms() -> None:
    found = subprocess.run(
        ["grep", "-rn", "--include=*.py", "settings.platform is", "stereospot"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    assert [line for line in found if not line.startswith("stereospot/platforms/")] == []
