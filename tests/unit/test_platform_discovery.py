"""A platform is one module in stereospot/platforms/: the container finds it by name, and
an unknown name is refused with the list of the known ones."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from stereospot import platforms
from stereospot.config import Settings
from stereospot.container import build_container

# A throwaway fourth platform: the memory platform's providers under another name, with
# its own "where data lives" line (so the test sees that this module was the one used).
FOURTH = """
from dependency_injector import providers

from stereospot.platforms import memory


class PlatformContainer(memory.PlatformContainer):
    data_location = providers.Object("the fourth platform")
"""


@pytest.fixture
def fourth_platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """platforms/fourth.py, kept in a tmp folder that joins the package's search path."""
    (tmp_path / "fourth.py").write_text(textwrap.dedent(FOURTH))
    monkeypatch.setattr(platforms, "__path__", [*platforms.__path__, str(tmp_path)])
    yield "fourth"
    sys.modules.pop("stereospot.platforms.fourth", None)


def test_the_shipped_platforms_are_found_without_a_list() -> None:
    assert platforms.known() == ["aws", "local", "memory"]


def test_a_fourth_platform_module_is_picked_up(fourth_platform: str) -> None:
    assert fourth_platform in platforms.known()
    container = build_container(Settings(platform=fourth_platform))
    assert container.platform.data_location() == "the fourth platform"
    deps = container.deps()  # the whole application builds on it
    assert deps.jobs.list_in_progress() == []


def test_an_unknown_platform_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(platforms.UnknownPlatform) as refused:
        build_container(Settings(platform="azure"))
    message = str(refused.value)
    assert "STEREOSPOT_PLATFORM='azure'" in message
    assert "aws, local, memory" in message


def test_a_module_without_a_container_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "halfway.py").write_text("NAME = 'halfway'\n")
    monkeypatch.setattr(platforms, "__path__", [*platforms.__path__, str(tmp_path)])
    try:
        with pytest.raises(platforms.UnknownPlatform, match="defines no PlatformContainer"):
            platforms.container_class("halfway")
    finally:
        sys.modules.pop("stereospot.platforms.halfway", None)


def test_the_cli_says_which_platforms_there_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from stereospot.entrypoints.cli.main import main

    monkeypatch.setenv("STEREOSPOT_PLATFORM", "azure")
    assert main(["token", "--data-dir", str(tmp_path)]) == 2
    assert "known platforms: aws, local, memory" in capsys.readouterr().err
