"""Acceptance tests: a policy plugin written in Python (examples/policy-max-tokens-python, on the
SDK in plugin-sdk/python), built into a component with componentize-py and served by a real
gateway, driven through the official `openai` SDK.

The component is built once per session with the venv's own componentize-py (scripts/python-env
pins it). The example is the Rust example's policy (examples/policy-max-tokens) in Python: same
config, same errors, same `x-max-tokens-limit` header and `max_tokens_limit` metadata. It runs
with fresh instances (the default for plugins loaded from files) and warm ones; both gateways
share one data folder, so the second loads the component from the compiled-component cache.
The SDK's pure-Python stand-ins are compared with the bindings componentize-py generates, and the
unit tests of the example and of the SDK run under plain CPython.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import openai
import pytest
from conftest import DEMO_KEY, REPO, _serve, owners_config
from sdk_helpers import sluice_meta, user

EXAMPLE = REPO / "examples" / "policy-max-tokens-python"
SDK = REPO / "plugin-sdk" / "python"
WIT = REPO / "wit"
COMPONENTIZE_PY = Path(sys.executable).parent / "componentize-py"
CAP = 100
# A fresh Python instance takes a few milliseconds to start (instantiation of CPython plus the
# plugin's first call). The default 50 ms deadline holds on an idle machine; this suite runs
# beside other work on 2 cores, so it gives the plugin room and tests behaviour, not speed.
TIMEOUT_MS = 1000


def build_command(out: Path, project: Path = EXAMPLE, world: str = "policy") -> list[str]:
    """The componentize-py command that builds the app module `app` of `project`."""
    return [
        str(COMPONENTIZE_PY),
        "-d", str(WIT),
        "-w", world,
        "componentize",
        "-p", str(SDK),
        "-p", str(project),
        "app",
        "-o", str(out),
    ]


@pytest.fixture(scope="session")
def python_plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example built into a component, once per session."""
    if not COMPONENTIZE_PY.is_file():
        pytest.fail(f"componentize-py not found at {COMPONENTIZE_PY}: run scripts/python-env")
    out = tmp_path_factory.mktemp("python-plugin") / "max_tokens_python.wasm"
    started = time.monotonic()
    # componentize-py runs the app in its own CPython (3.14) to snapshot it, which leaves
    # `__pycache__/*.cpython-314.pyc` next to the sources (git ignores them).
    done = subprocess.run(build_command(out), capture_output=True, text=True, timeout=300)
    if done.returncode != 0 or not out.is_file():
        pytest.fail(f"componentize-py failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    print(f"built {out.stat().st_size} bytes in {time.monotonic() - started:.1f}s")
    return out


@pytest.fixture(scope="session")
def shared_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data folder for this module's gateways (they run one after the other), so the
    component is compiled once."""
    return tmp_path_factory.mktemp("python-plugin-data")


def plugin_config(wasm: Path, data_dir: Path, instances: str | None, config: str) -> str:
    """The gateway config: the shared data folder, the Python plugin, key-auth and echo."""
    mode = f'instances = "{instances}"\n' if instances else ""
    extra = f"""
[storage]
data_dir = "{data_dir}"

[[plugins]]
name = "max-tokens-python"
stage = "policy"
source = "{wasm}"
timeout_ms = {TIMEOUT_MS}
{mode}
[plugins.config]
{config}
"""
    return owners_config({"demo": DEMO_KEY}, extra)


@pytest.fixture(scope="module", params=["fresh", "warm"])
def py_client(
    request: pytest.FixtureRequest,
    python_plugin: Path,
    shared_data_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[openai.OpenAI]:
    """An SDK client of a gateway running the Python plugin (max_tokens 100, user_id required)
    with fresh instances (the default: no `instances` key), then with warm ones."""
    mode = request.param
    folder = tmp_path_factory.mktemp(f"python-plugin-{mode}")
    config = folder / "gateway.toml"
    instances = None if mode == "fresh" else mode
    config.write_text(
        plugin_config(
            python_plugin, shared_data_dir, instances, f"max_tokens = {CAP}\nrequire_user_id = true"
        )
    )
    with _serve(config, folder, {}) as root:
        with openai.OpenAI(base_url=f"{root}/v1", api_key=DEMO_KEY, max_retries=0) as c:
            yield c


def test_within_the_cap_passes_with_the_limit_header_and_metadata(py_client):
    raw = py_client.chat.completions.with_raw_response.create(
        model="echo", messages=user("within the cap"), max_tokens=CAP, extra_body={"user_id": "u1"}
    )
    assert raw.http_response.status_code == 200
    assert raw.headers["x-max-tokens-limit"] == str(CAP)
    resp = raw.parse()
    assert resp.choices[0].message.content == "within the cap"
    assert sluice_meta(resp)["max_tokens_limit"] == CAP


def test_no_max_tokens_passes(py_client):
    resp = py_client.chat.completions.create(
        model="echo", messages=user("no cap asked"), extra_body={"user_id": "u1"}
    )
    assert resp.choices[0].message.content == "no cap asked"
    assert sluice_meta(resp)["max_tokens_limit"] == CAP


def test_over_the_cap_is_a_bad_request_naming_max_tokens(py_client):
    with pytest.raises(openai.BadRequestError) as e:
        py_client.chat.completions.create(
            model="echo", messages=user("too long"), max_tokens=CAP + 1,
            extra_body={"user_id": "u1"},
        )
    assert e.value.status_code == 400
    assert e.value.param == "max_tokens"
    assert e.value.type == "invalid_request_error"
    assert e.value.body["message"] == f"max_tokens may be at most {CAP} on this gateway"


def test_a_request_without_user_id_is_refused(py_client):
    with pytest.raises(openai.BadRequestError) as e:
        py_client.chat.completions.create(model="echo", messages=user("anonymous"))
    assert e.value.param == "user_id"
    assert e.value.body["message"] == "this gateway requires `user_id` in the request body"


def test_many_requests_in_a_row(py_client):
    """Every request is served right: each by a new instance (fresh) or by reused ones (warm)."""
    for i in range(20):
        raw = py_client.chat.completions.with_raw_response.create(
            model="echo", messages=user(f"n{i}"), max_tokens=CAP - i, extra_body={"user_id": "u"}
        )
        assert raw.headers["x-max-tokens-limit"] == str(CAP)
        assert raw.parse().choices[0].message.content == f"n{i}"


def test_a_bad_config_rejects_the_load(python_plugin, shared_data_dir, tmp_path):
    """`init` refuses an unknown field; the gateway names the plugin and the field, and exits."""
    config = tmp_path / "gateway.toml"
    config.write_text(plugin_config(python_plugin, shared_data_dir, None, "max_token = 5"))
    binary = Path(os.environ.get("SLUICE_BIN", REPO / "target" / "release" / "sluice"))
    done = subprocess.run(
        [str(binary), "serve", "--config", str(config)],
        cwd=REPO, env=dict(os.environ, SLUICE_LISTEN="127.0.0.1:0"),
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode != 0
    assert "max-tokens-python" in done.stderr
    assert "unknown field `max_token`" in done.stderr


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
