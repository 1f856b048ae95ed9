"""Python plugins (plugin-sdk/python): the SDK's own unit tests and the example's run under plain
CPython, without building anything; and the SDK's pure-Python stand-ins match the bindings
componentize-py generates for every world. The example built and served, like its Rust and
JavaScript twins, is in test_plugin_examples.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

EXAMPLE = REPO / "examples" / "policy-max-tokens-python"
SDK = REPO / "plugin-sdk" / "python"
WIT = REPO / "wit"
COMPONENTIZE_PY = Path(sys.executable).parent / "componentize-py"


@pytest.mark.parametrize("folder", [EXAMPLE, SDK / "tests"], ids=["example", "sdk"])
def test_unit_tests_pass_under_plain_cpython(folder):
    """The example's unit tests and the SDK's own run without building anything."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)],
        cwd=folder, capture_output=True, text=True, timeout=120,
        env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"),
    )
    assert done.returncode == 0, done.stdout + done.stderr


# The stand-ins must match the generated bindings: same modules, classes, fields (in order),
# enum members and function parameters. Run in a subprocess, as the generated package would
# shadow nothing but must not stay imported here.
_COMPARE = r"""
import dataclasses, enum, importlib, inspect, json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
problems = []
pairs = {
    "wit_world.imports.types": "types", "wit_world.imports.host": "host",
    "wit_world.imports.kv": "kv", "wit_world.imports.keys": "keys",
    "wit_world.imports.prices": "prices",
    "wit_world.imports.mcp_types": "mcp_types", "wit_world.exports.lifecycle": "lifecycle",
    "wit_world.exports.guard_stage": "guard_stage", "wit_world.exports.adapter": "adapter",
}
for generated, standin in pairs.items():
    try:
        gen = importlib.import_module(generated)
    except ImportError:
        continue
    ours = importlib.import_module("sluice_plugin._standins." + standin)
    for name, obj in vars(gen).items():
        if getattr(obj, "__module__", None) != gen.__name__:
            continue
        mine = getattr(ours, name, None)
        if mine is None:
            problems.append(f"{standin}.{name} is missing")
        elif dataclasses.is_dataclass(obj):
            want = [f.name for f in dataclasses.fields(obj)]
            have = [f.name for f in dataclasses.fields(mine)] if dataclasses.is_dataclass(mine) else None
            if want != have:
                problems.append(f"{standin}.{name}: fields {have}, generated {want}")
        elif isinstance(obj, type) and issubclass(obj, enum.Enum):
            want = [(m.name, m.value) for m in obj]
            have = [(m.name, m.value) for m in mine]
            if want != have:
                problems.append(f"{standin}.{name}: members {have}, generated {want}")
        elif inspect.isfunction(obj):
            want = list(inspect.signature(obj).parameters)
            have = list(inspect.signature(mine).parameters)
            if want != have:
                problems.append(f"{standin}.{name}: parameters {have}, generated {want}")
exports = importlib.import_module("wit_world.exports")
glue = importlib.import_module("sluice_plugin.export")
for name, proto in vars(exports).items():
    if not (isinstance(proto, type) and getattr(proto, "__module__", "") == exports.__name__):
        continue
    cls = getattr(glue, name, None)
    if cls is None:
        problems.append(f"export class {name} is missing")
        continue
    for meth, fn in vars(proto).items():
        if inspect.isfunction(fn) and not meth.startswith("_"):
            want = list(inspect.signature(fn).parameters)
            have = list(inspect.signature(getattr(cls, meth)).parameters) if hasattr(cls, meth) else None
            if want != have:
                problems.append(f"{name}.{meth}: parameters {have}, generated {want}")
print(json.dumps(problems))
"""


@pytest.mark.parametrize(
    "world", ["policy", "guard", "auth", "enrich", "mcp-policy", "provider-adapter"]
)
def test_the_sdk_stand_ins_match_the_generated_bindings(world, tmp_path):
    out = tmp_path / "bindings"
    subprocess.run(
        [str(COMPONENTIZE_PY), "-d", str(WIT), "-w", world, "bindings", str(out)],
        check=True, capture_output=True, timeout=120,
    )
    done = subprocess.run(
        [sys.executable, "-c", _COMPARE, str(out), str(SDK)],
        capture_output=True, text=True, timeout=120, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"),
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
