"""The domain stays pure: no infrastructure imports, no file, process or network I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import stereospot.domain

DOMAIN = Path(stereospot.domain.__file__).parent
FORBIDDEN_MODULES = {
    "boto3",
    "botocore",
    "quart",
    "torch",
    "av",
    "sqlite3",
    "tritonclient",
    "pywebpush",
    "subprocess",
    "socket",
    "requests",
    "httpx",
    "tempfile",
    "shutil",
    "urllib.request",
    "http.client",
    "yt_dlp",
    "numpy",
    "os",
    "io",
    "stereospot.adapters",
    "stereospot.entrypoints",
    "stereospot.platforms",
    "stereospot.container",
    "stereospot.config",
}
FORBIDDEN_CALLS = {"open", "exec", "eval", "__import__"}
FORBIDDEN_METHODS = {
    "read_text",
    "read_bytes",
    "write_text",
    "write_bytes",
    "open",
    "mkdir",
    "unlink",
    "rmdir",
    "touch",
    "rename",
    "replace",
    "iterdir",
    "glob",
    "rglob",
    "stat",
    "exists",
}
# Path.replace / str.replace share a name; only flag Path-ish receivers for these.
AMBIGUOUS = {"replace", "exists", "open"}


def _forbidden(module: str) -> bool:
    return any(module == f or module.startswith(f + ".") for f in FORBIDDEN_MODULES)


def _problems(path: Path) -> list[str]:
    name = str(path.relative_to(DOMAIN.parent))
    return [f"{name}:{p}" for p in _scan(path.read_text(), name)]


def _scan(source: str, name: str) -> list[str]:
    tree = ast.parse(source, filename=name)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if _forbidden(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.module and _forbidden(node.module):
            found.append(f"from {node.module} import ...")
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in FORBIDDEN_CALLS:
                found.append(f"{func.id}()")
            elif isinstance(func, ast.Attribute) and func.attr in FORBIDDEN_METHODS:
                receiver = ast.unparse(func.value)
                if func.attr in AMBIGUOUS and not _looks_like_path(receiver):
                    continue
                found.append(f"{receiver}.{func.attr}()")
    return found


def _looks_like_path(receiver: str) -> bool:
    return "path" in receiver.lower() or "Path(" in receiver or receiver in ("os", "shutil")


def test_domain_files_are_found() -> None:
    files = list(DOMAIN.rglob("*.py"))
    assert DOMAIN / "model.py" in files and DOMAIN / "services" / "pipeline.py" in files


def test_domain_is_pure() -> None:
    problems = [p for f in sorted(DOMAIN.rglob("*.py")) for p in _problems(f)]
    assert problems == []


@pytest.mark.parametrize(
    "source",
    [
        "import boto3",
        "from sqlite3 import connect",
        "import os.path",
        "from stereospot.adapters.memory import jobs",
        "open('x')",
        "Path('x').write_bytes(b'')",
        "source_path.read_bytes()",
        "self.path.unlink()",
    ],
)
def test_the_scan_catches_impurity(source: str) -> None:
    assert _scan(source, "probe.py"), f"not caught: {source}"


def test_the_scan_allows_pure_code() -> None:
    pure = "title.replace('a', 'b')\nwork / 'x.mp4'\nfrom pydantic import BaseModel"
    assert _scan(pure, "pure.py") == []
