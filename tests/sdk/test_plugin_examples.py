"""Acceptance tests: the max-tokens example policy, written in Rust, Python and JavaScript
(examples/policy-max-tokens*), each served by a real gateway and driven through the official
`openai` SDK. The three must behave alike: same config, same errors, same `x-max-tokens-limit`
header and `max_tokens_limit` metadata.

The Rust example is built with the first-party plugins (host/build.rs); the Python and
JavaScript ones with `sluice plugin build`, once per session, with the toolchains the test script
prepares (componentize-py in the venv, `SLUICE_PLUGIN_JS_TOOLCHAIN` from scripts/plugin-js-env).
Each runs with fresh instances (the default for plugins loaded from files) and warm ones; the
gateways of one language share a data folder, so the component is compiled once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import openai
import pytest
from conftest import DEMO_KEY, REPO, _serve, owners_config
from sdk_helpers import sluice_meta, user

BINARY = Path(os.environ.get("SLUICE_BIN", REPO / "target" / "release" / "sluice"))
RUST_BUILT = REPO / "target/plugins/wasm32-wasip2/plugin/sluice_example_max_tokens.wasm"
LANGS = ["rust", "python", "js"]
CAP = 100
# A fresh Python or JavaScript instance takes milliseconds to start. The default 50 ms deadline
# holds on an idle machine; this suite runs beside other work on 2 cores, so it gives the plugin
# room and tests behaviour, not speed.
TIMEOUT_MS = 1000


def build(lang: str, out: Path) -> Path:
    """The example of `lang` as a component."""
    if lang == "rust":
        if not RUST_BUILT.is_file():
            pytest.fail(f"{RUST_BUILT} is missing: build the gateway (cargo build --release)")
        return RUST_BUILT
    if lang == "js" and shutil.which("node") is None and os.environ.get("CI") != "true":
        pytest.skip("node is not installed (JavaScript plugins need Node.js 18 or newer)")
    env = dict(os.environ)
    # componentize-py comes from this venv unless the test script named one.
    env.setdefault("SLUICE_COMPONENTIZE_PY", str(Path(sys.executable).parent / "componentize-py"))
    started = time.monotonic()
    done = subprocess.run(
        [str(BINARY), "plugin", "build", str(REPO / "examples" / f"policy-max-tokens-{lang}"),
         "--out", str(out)],
        capture_output=True, text=True, timeout=600, env=env,
    )
    if done.returncode != 0 or not out.is_file():
        pytest.fail(f"sluice plugin build ({lang}) failed:\n{done.stdout}\n{done.stderr}")
    assert "loads: yes" in done.stdout
    print(f"{lang}: built {out.stat().st_size} bytes in {time.monotonic() - started:.1f}s")
    return out


@pytest.fixture(scope="session", params=LANGS)
def example(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """(language, component, data folder shared by the language's gateways)."""
    lang = request.param
    folder = tmp_path_factory.mktemp(f"example-{lang}")
    return lang, build(lang, folder / f"max-tokens-{lang}.wasm"), folder / "data"


def plugin_config(lang: str, wasm: Path, data_dir: Path, instances: str | None, config: str) -> str:
    """The gateway config: the language's data folder, its example plugin, key-auth and echo."""
    mode = f'instances = "{instances}"\n' if instances else ""
    extra = f"""
[storage]
data_dir = "{data_dir}"

[[plugins]]
name = "max-tokens-{lang}"
stage = "policy"
source = "{wasm}"
timeout_ms = {TIMEOUT_MS}
{mode}
[plugins.config]
{config}
"""
    return owners_config({"demo": DEMO_KEY}, extra)


@pytest.fixture(scope="session", params=["fresh", "warm"])
def example_client(
    request: pytest.FixtureRequest, example, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[openai.OpenAI]:
    """A client of a gateway running the example (max_tokens 100, user_id required)."""
    lang, wasm, data_dir = example
    mode = request.param
    folder = tmp_path_factory.mktemp(f"example-{lang}-{mode}")
    config = folder / "gateway.toml"
    settings = f"max_tokens = {CAP}\nrequire_user_id = true"
    instances = None if mode == "fresh" else mode
    config.write_text(plugin_config(lang, wasm, data_dir, instances, settings))
    with _serve(config, folder, {}) as root:
        with openai.OpenAI(base_url=f"{root}/v1", api_key=DEMO_KEY, max_retries=0) as c:
            yield c


def test_within_the_cap_passes_with_the_limit_header_and_metadata(example_client):
    raw = example_client.chat.completions.with_raw_response.create(
        model="echo", messages=user("within the cap"), max_tokens=CAP, extra_body={"user_id": "u1"}
    )
    assert raw.http_response.status_code == 200
    assert raw.headers["x-max-tokens-limit"] == str(CAP)
    resp = raw.parse()
    assert resp.choices[0].message.content == "within the cap"
    assert sluice_meta(resp)["max_tokens_limit"] == CAP


def test_no_max_tokens_passes(example_client):
    resp = example_client.chat.completions.create(
        model="echo", messages=user("no cap asked"), extra_body={"user_id": "u1"}
    )
    assert resp.choices[0].message.content == "no cap asked"
    assert sluice_meta(resp)["max_tokens_limit"] == CAP


def test_over_the_cap_is_a_bad_request_naming_max_tokens(example_client):
    with pytest.raises(openai.BadRequestError) as e:
        example_client.chat.completions.create(
            model="echo", messages=user("too long"), max_tokens=CAP + 1,
            extra_body={"user_id": "u1"},
        )
    assert e.value.status_code == 400
    assert e.value.param == "max_tokens"
    assert e.value.type == "invalid_request_error"
    assert e.value.body["message"] == f"max_tokens may be at most {CAP} on this gateway"


def test_a_request_without_user_id_is_refused(example_client):
    with pytest.raises(openai.BadRequestError) as e:
        example_client.chat.completions.create(model="echo", messages=user("anonymous"))
    assert e.value.param == "user_id"
    assert e.value.body["message"] == "this gateway requires `user_id` in the request body"


def test_a_stream_passes(example_client):
    chunks = list(
        example_client.chat.completions.create(
            model="echo", messages=user("streamed"), max_tokens=CAP, stream=True,
            extra_body={"user_id": "u1"},
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "streamed"


def test_many_requests_in_a_row(example_client):
    """Every request is served right: each by a new instance (fresh) or by reused ones (warm)."""
    for i in range(20):
        raw = example_client.chat.completions.with_raw_response.create(
            model="echo", messages=user(f"n{i}"), max_tokens=CAP - i, extra_body={"user_id": "u"}
        )
        assert raw.headers["x-max-tokens-limit"] == str(CAP)
        assert raw.parse().choices[0].message.content == f"n{i}"


def test_a_bad_config_rejects_the_load(example, tmp_path):
    """`init` refuses an unknown field; the gateway names the plugin and the field, and exits."""
    lang, wasm, data_dir = example
    config = tmp_path / "gateway.toml"
    config.write_text(plugin_config(lang, wasm, data_dir, None, "max_token = 5"))
    done = subprocess.run(
        [str(BINARY), "serve", "--config", str(config)],
        cwd=REPO, env=dict(os.environ, SLUICE_LISTEN="127.0.0.1:0"),
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode != 0
    assert f"max-tokens-{lang}" in done.stderr
    assert "unknown field `max_token`" in done.stderr
