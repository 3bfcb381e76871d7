"""The service images' Dockerfiles (built elsewhere; linted by scripts/deploy-checks.sh):
slim, no torch, pinned base, non-root, a health check, and a lean build context."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.deploy.stack_spec import ROOT

DOCKER = ROOT / "deploy" / "docker"
SERVICE_IMAGES = sorted(DOCKER.glob("*.Dockerfile"))


def instructions(text: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", text)
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def test_there_is_a_web_and_a_worker_image() -> None:
    assert {p.name for p in SERVICE_IMAGES} == {"web.Dockerfile", "worker.Dockerfile"}


@pytest.mark.parametrize("dockerfile", SERVICE_IMAGES, ids=lambda p: p.name)
def test_image_is_slim_pinned_non_root_and_checked(dockerfile: Path) -> None:
    steps = instructions(dockerfile.read_text(encoding="utf-8"))
    bases = [rest.split()[0] for keyword, rest in steps if keyword == "FROM"]
    assert bases, dockerfile
    for base in bases:
        assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", base), base
    users = [rest for keyword, rest in steps if keyword == "USER"]
    assert users and users[-1] not in ("root", "0"), dockerfile
    assert any(keyword == "HEALTHCHECK" for keyword, _ in steps), dockerfile
    installs = " ".join(rest for keyword, rest in steps if keyword == "RUN")
    assert "torch" not in installs and "inference," not in installs and ",inference" not in installs
    assert "--no-cache-dir" in installs
    assert steps[-1][0] == "CMD" and "stereospot" in steps[-1][1]


def test_the_build_context_leaves_out_environments_state_and_tests() -> None:
    ignored = set((ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    assert {".git", ".venv", ".venv-*", "tests", "**/*.tfstate*"} <= ignored
    # The images copy these, so they must stay in the context.
    assert not ignored & {"stereospot", "inference_server", "pyproject.toml", "README.md"}
