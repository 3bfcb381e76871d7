"""Terraform under deploy/terraform, parsed with python-hcl2 into plain Python values.

python-hcl2 keeps HCL's quotes on keys and string literals ("\"aws_sqs_queue\"") and marks
blocks with `__is_block__` (and comments as `__comments__`); `clean` removes them, so a
literal string reads as itself and an expression stays "${...}". Each Terraform directory
(a module) is read as one `Module`: its resources, data sources, variables, outputs,
locals and module calls, merged over its .tf files.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import hcl2

from tests.deploy.stack_spec import TERRAFORM

APP = TERRAFORM / "app"
SETUP = TERRAFORM / "setup"


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1]
    return text


def clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            _unquote(k): clean(v)
            for k, v in value.items()
            if k not in ("__is_block__", "__comments__", "__inline_comments__")
        }
    if isinstance(value, list):
        return [clean(v) for v in value]
    if isinstance(value, str):
        return _unquote(value)
    return value


@dataclass(frozen=True)
class Block:
    kind: str  # resource type, data source type, or "" for variables/outputs/modules
    name: str
    body: dict[str, Any]
    path: Path


@dataclass
class Module:
    path: Path
    resources: list[Block] = field(default_factory=list)
    data: list[Block] = field(default_factory=list)
    variables: list[Block] = field(default_factory=list)
    outputs: list[Block] = field(default_factory=list)
    modules: list[Block] = field(default_factory=list)
    providers: list[Block] = field(default_factory=list)
    locals: dict[str, Any] = field(default_factory=dict)
    terraform: list[dict[str, Any]] = field(default_factory=list)

    def resource(self, kind: str, name: str) -> dict[str, Any]:
        for block in self.resources:
            if block.kind == kind and block.name == name:
                return block.body
        raise KeyError(f"{self.path}: no resource {kind}.{name}")

    def of_type(self, kind: str) -> list[Block]:
        return [b for b in self.resources if b.kind == kind]

    def data_of_type(self, kind: str) -> list[Block]:
        return [b for b in self.data if b.kind == kind]

    def module(self, name: str) -> dict[str, Any]:
        for block in self.modules:
            if block.name == name:
                return block.body
        raise KeyError(f"{self.path}: no module {name}")


@cache
def load(path: Path) -> Module:
    module = Module(path)
    for tf in sorted(path.glob("*.tf")):
        with tf.open(encoding="utf-8") as file:
            parsed = clean(hcl2.load(file))
        for entry in parsed.get("resource", []):
            for kind, named in entry.items():
                for name, body in named.items():
                    module.resources.append(Block(kind, name, body, tf))
        for entry in parsed.get("data", []):
            for kind, named in entry.items():
                for name, body in named.items():
                    module.data.append(Block(kind, name, body, tf))
        for section, target in (
            ("variable", module.variables),
            ("output", module.outputs),
            ("module", module.modules),
        ):
            for entry in parsed.get(section, []):
                for name, body in entry.items():
                    target.append(Block("", name, body, tf))
        for entry in parsed.get("provider", []):
            for name, body in entry.items():
                module.providers.append(Block("", name, body, tf))
        for entry in parsed.get("locals", []):
            module.locals.update(entry)
        module.terraform.extend(parsed.get("terraform", []))
    return module


def app_module_dirs() -> list[Path]:
    return sorted(p for p in (APP / "modules").iterdir() if p.is_dir())


def all_module_dirs() -> list[Path]:
    """setup, app and every module of app."""
    return [SETUP, APP, *app_module_dirs()]


def all_modules() -> Iterator[Module]:
    for path in all_module_dirs():
        yield load(path)


def statements(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every statement of an aws_iam_policy_document, the dynamic ones' content included."""
    yield from document.get("statement", [])
    for dynamic in document.get("dynamic", []):
        for name, body in dynamic.items():
            if name == "statement":
                yield from body.get("content", [])
