"""What `terraform validate` would say about references, checked without providers:
module calls pass exactly declared variables (every required one), module outputs that
are used exist, and inside each module every var., local., resource and data reference
names something declared there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.deploy.hcl import APP, all_module_dirs, load

META_ARGUMENTS = {"source", "depends_on", "count", "for_each", "providers", "version"}
TYPES = r"(?:aws|random|tls|local)_[a-z0-9_]+"
# Names a dynamic block's iterator or a for expression binds, not declarations.
ITERATORS = {"each", "count", "self", "path", "terraform"}


def code(path: Path) -> str:
    """The module's .tf text without comments (# and // to the end of a line)."""
    lines = []
    for tf in sorted(path.glob("*.tf")):
        for line in tf.read_text(encoding="utf-8").splitlines():
            stripped = line.lstrip()
            if stripped.startswith(("#", "//")):
                continue
            lines.append(re.sub(r"\s#.*$", "", line))
    return "\n".join(lines)


def test_module_calls_pass_declared_variables_and_every_required_one() -> None:
    for call in load(APP).modules:
        target = load((APP / call.body["source"]).resolve())
        declared = {v.name: v.body for v in target.variables}
        passed = set(call.body) - META_ARGUMENTS
        assert passed <= set(declared), f"module {call.name}: unknown {passed - set(declared)}"
        required = {name for name, body in declared.items() if "default" not in body}
        assert required <= passed, f"module {call.name}: missing {required - passed}"


def test_used_module_outputs_exist() -> None:
    calls = {c.name: load((APP / c.body["source"]).resolve()) for c in load(APP).modules}
    for name, output in re.findall(r"\bmodule\.([a-z_]+)\.([a-z_]+)", code(APP)):
        assert name in calls, f"no module {name}"
        outputs = {o.name for o in calls[name].outputs}
        assert output in outputs, f"module.{name}.{output} is not an output"


@pytest.mark.parametrize("path", all_module_dirs(), ids=lambda p: str(p.relative_to(APP.parent)))
def test_references_inside_a_module_name_what_it_declares(path: Path) -> None:
    module = load(path)
    text = code(path)
    variables = {v.name for v in module.variables}
    used_vars = set(re.findall(r"\bvar\.([a-z0-9_]+)", text))
    assert used_vars <= variables, f"undeclared: {used_vars - variables}"
    assert variables <= used_vars, f"declared but unused: {variables - used_vars}"

    used_locals = set(re.findall(r"\blocal\.([a-z0-9_]+)", text))
    assert used_locals <= set(module.locals), (
        f"undefined locals: {used_locals - set(module.locals)}"
    )

    resources = {(b.kind, b.name) for b in module.resources}
    data = {(b.kind, b.name) for b in module.data}
    for prefix, kind, name in re.findall(rf"(\bdata\.)?\b({TYPES})\.([a-z0-9_]+)\b", text):
        if kind in ITERATORS:
            continue
        declared = data if prefix else resources
        assert (kind, name) in declared, f"{prefix}{kind}.{name} is not declared in {path}"
