"""Acceptance tests: a policy plugin written in JavaScript (examples/policy-max-tokens-js, on the
SDK in plugin-sdk/js), built into a component with ComponentizeJS and served by a real gateway,
driven through the official `openai` SDK.

The toolchain (ComponentizeJS and esbuild, pinned by plugin-sdk/js/package-lock.json) is the
folder in SLUICE_PLUGIN_JS_TOOLCHAIN, which scripts/test sets from scripts/plugin-js-env; when the
variable is unset the script runs here. Without node (and outside CI, where the script installs
it) the module is skipped. The component is built once per session with plugin-sdk/js/build.mjs,
the command `sluice plugin build` runs. The example is the Rust example's policy
(examples/policy-max-tokens) in JavaScript: same config, same errors, same `x-max-tokens-limit`
header and `max_tokens_limit` metadata. It runs with fresh instances (the default for plugins
loaded from files) and warm ones; both gateways share one data folder, so the second loads the
component from the compiled-component cache. The example's own unit tests run under plain
`node --test`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Iterator

import openai
import pytest
from conftest import DEMO_KEY, REPO, _serve, owners_config
from sdk_helpers import sluice_meta, user

EXAMPLE = REPO / "examples" / "policy-max-tokens-js"
BUILD = REPO / "plugin-sdk" / "js" / "build.mjs"
WIT = REPO / "wit"
CAP = 100
# A fresh JavaScript instance takes about 2 ms to start (SpiderMonkey's snapshot, instantiated).
# The default 50 ms deadline holds on an idle machine; this suite runs beside other work on 2
# cores, so it gives the plugin room and tests behaviour, not speed.
TIMEOUT_MS = 1000


def _node() -> str:
    """The node binary; skips the module when there is none and this is not CI."""
    node = shutil.which("node")
    if node is None and os.environ.get("CI") != "true":
        pytest.skip("node is not installed (JavaScript plugins need Node.js 18 or newer)")
    return node or "node"


@pytest.fixture(scope="session")
def js_toolchain() -> Path:
    """The folder holding the toolchain's node_modules."""
    _node()
    given = os.environ.get("SLUICE_PLUGIN_JS_TOOLCHAIN")
    if given:
        return Path(given)
    done = subprocess.run(
        [str(REPO / "scripts" / "plugin-js-env")], capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0:
        pytest.fail(f"scripts/plugin-js-env failed ({done.returncode}):\n{done.stderr}")
    return Path(done.stdout.strip().splitlines()[-1])


def build_command(toolchain: Path, out: Path, entry: Path = EXAMPLE, world: str = "policy") -> list[str]:
    """The command that builds the plugin module of `entry` for `world`."""
    return [
        _node(), str(BUILD),
        "--toolchain", str(toolchain),
        "--wit", str(WIT),
        "--world", world,
        "--entry", str(entry),
        "--out", str(out),
    ]


@pytest.fixture(scope="session")
def js_plugin(js_toolchain: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example built into a component, once per session."""
    out = tmp_path_factory.mktemp("js-plugin") / "max_tokens_js.wasm"
    started = time.monotonic()
    done = subprocess.run(
        build_command(js_toolchain, out), capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0 or not out.is_file():
        pytest.fail(f"build.mjs failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    # The script prints the component's path last on stdout.
    assert done.stdout.strip().splitlines()[-1] == str(out)
    print(f"built {out.stat().st_size} bytes in {time.monotonic() - started:.1f}s")
    return out


@pytest.fixture(scope="session")
def shared_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data folder for this module's gateways (they run one after the other), so the
    component is compiled once."""
    return tmp_path_factory.mktemp("js-plugin-data")


def plugin_config(wasm: Path, data_dir: Path, instances: str | None, config: str) -> str:
    """The gateway config: the shared data folder, the JavaScript plugin, key-auth and echo."""
    mode = f'instances = "{instances}"\n' if instances else ""
    extra = f"""
[storage]
data_dir = "{data_dir}"

[[plugins]]
name = "max-tokens-js"
stage = "policy"
source = "{wasm}"
timeout_ms = {TIMEOUT_MS}
{mode}
[plugins.config]
{config}
"""
    return owners_config({"demo": DEMO_KEY}, extra)


@pytest.fixture(scope="module", params=["fresh", "warm"])
def js_client(
    request: pytest.FixtureRequest,
    js_plugin: Path,
    shared_data_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[openai.OpenAI]:
    """An SDK client of a gateway running the JavaScript plugin (max_tokens 100, user_id
    required) with fresh instances (the default: no `instances` key), then with warm ones."""
    mode = request.param
    folder = tmp_path_factory.mktemp(f"js-plugin-{mode}")
    config = folder / "gateway.toml"
    instances = None if mode == "fresh" else mode
    config.write_text(
        plugin_config(js_plugin, shared_data_dir, instances, f"max_tokens = {CAP}\nrequire_user_id = true")
    )
    with _serve(config, folder, {}) as root:
        with openai.OpenAI(base_url=f"{root}/v1", api_key=DEMO_KEY, max_retries=0) as c:
            yield c


def test_within_the_cap_passes_with_the_limit_header_and_metadata(js_client):
    raw = js_client.chat.completions.with_raw_response.create(
        model="echo", messages=user("within the cap"), max_tokens=CAP, extra_body={"user_id": "u1"}
    )
    assert raw.http_response.status_code == 200
    assert raw.headers["x-max-tokens-limit"] == str(CAP)
    resp = raw.parse()
    assert resp.choices[0].message.content == "within the cap"
    assert sluice_meta(resp)["max_tokens_limit"] == CAP


def test_no_max_tokens_passes(js_client):
    resp = js_client.chat.completions.create(
        model="echo", messages=user("no cap asked"), extra_body={"user_id": "u1"}
    )
    assert resp.choices[0].message.content == "no cap asked"
    assert sluice_meta(resp)["max_tokens_limit"] == CAP


def test_over_the_cap_is_a_bad_request_naming_max_tokens(js_client):
    with pytest.raises(openai.BadRequestError) as e:
        js_client.chat.completions.create(
            model="echo", messages=user("too long"), max_tokens=CAP + 1,
            extra_body={"user_id": "u1"},
        )
    assert e.value.status_code == 400
    assert e.value.param == "max_tokens"
    assert e.value.type == "invalid_request_error"
    assert e.value.body["message"] == f"max_tokens may be at most {CAP} on this gateway"


def test_a_request_without_user_id_is_refused(js_client):
    with pytest.raises(openai.BadRequestError) as e:
        js_client.chat.completions.create(model="echo", messages=user("anonymous"))
    assert e.value.param == "user_id"
    assert "requires `user_id`" in e.value.message


def test_a_stream_passes_with_the_limit_metadata(js_client):
    chunks = list(
        js_client.chat.completions.create(
            model="echo", messages=user("streamed"), max_tokens=CAP, stream=True,
            extra_body={"user_id": "u1"},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "streamed"


def test_many_requests_in_a_row(js_client):
    """Every request is served right: each by a new instance (fresh) or by reused ones (warm)."""
    for i in range(20):
        raw = js_client.chat.completions.with_raw_response.create(
            model="echo", messages=user(f"n{i}"), max_tokens=CAP - i, extra_body={"user_id": "u"}
        )
        assert raw.headers["x-max-tokens-limit"] == str(CAP)
        assert raw.parse().choices[0].message.content == f"n{i}"


def test_a_bad_config_rejects_the_load(js_plugin, shared_data_dir, tmp_path):
    """`init` refuses an unknown field; the gateway names the plugin and the field, and exits."""
    config = tmp_path / "gateway.toml"
    config.write_text(plugin_config(js_plugin, shared_data_dir, None, "max_token = 5"))
    binary = Path(os.environ.get("SLUICE_BIN", REPO / "target" / "release" / "sluice"))
    done = subprocess.run(
        [str(binary), "serve", "--config", str(config)],
        cwd=REPO, env=dict(os.environ, SLUICE_LISTEN="127.0.0.1:0"),
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode != 0
    assert "max-tokens-js" in done.stderr
    assert "unknown field `max_token`" in done.stderr


def test_plugin_check_accepts_the_component(js_plugin):
    binary = Path(os.environ.get("SLUICE_BIN", REPO / "target" / "release" / "sluice"))
    done = subprocess.run(
        [str(binary), "plugin", "check", str(js_plugin)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "policy" in done.stdout


def test_the_example_unit_tests_pass_under_plain_node():
    """The plugin's logic is tested without building it: the SDK fakes the host in Node.js."""
    done = subprocess.run(
        [_node(), "--test"], cwd=EXAMPLE, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "# fail 0" in done.stdout
