"""Fixtures for the OpenAI SDK acceptance suite: real gateway processes, one per config and session.

The gateway binary comes from SLUICE_BIN (default: target/release/sluice). The first gateway serves
the config in SLUICE_SDK_CONFIG (default: gateway.toml), both relative to the repository root when
unset. The second serves a generated config in front of the mock upstream (`mock_upstream.py`),
with the chaos policy plugin (target/plugins/.../sluice_test_chaos.wasm), the mock's OpenAI,
Anthropic and Gemini sides as three providers, a dead provider, and models that fall back.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import re
import socket
import subprocess
import threading
from pathlib import Path
from typing import Iterator

import openai
import pytest
from mock_upstream import MockUpstream
from sdk_helpers import ANTHROPIC_KEY, GEMINI_KEY, RETRIES

REPO = Path(__file__).resolve().parents[2]
DEMO_KEY = "sk-sluice-demo"
# The mock gateway's second key, of another owner (stored responses are per owner).
OTHER_KEY = "sk-sluice-other"
STARTUP_TIMEOUT_S = 30
SHUTDOWN_GRACE_S = 5
LISTENING_LINE = re.compile(r"^sluice listening on (http://127\.0\.0\.1:\d+)$")


def _read_first_line(stream, timeout: float) -> str | None:
    """The first line of `stream`, or None if none arrives within `timeout` seconds.

    The read runs on a daemon thread so a silent (or hung) process cannot block the suite.
    """
    lines: queue.Queue[str] = queue.Queue(maxsize=1)
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return None


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if the gateway has not exited after the grace period."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=SHUTDOWN_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def _serve(config: Path, log_dir: Path, env: dict[str, str]) -> Iterator[str]:
    """Runs the gateway on `config` on a free port; yields its root URL (without `/v1`)."""
    binary = Path(os.environ.get("SLUICE_BIN", REPO / "target" / "release" / "sluice"))
    if not binary.is_file():
        pytest.fail(f"gateway binary not found at {binary}: build it or set SLUICE_BIN")

    env = dict(os.environ, SLUICE_LISTEN="127.0.0.1:0", **env)
    # The suite relies on the OpenAI provider being unconfigured (503 for gpt-4o-mini).
    env.pop("OPENAI_API_KEY", None)

    # Logs go to a file rather than a pipe nobody drains, and are shown if startup fails.
    log_path = log_dir / "stderr.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(binary), "serve", "--config", str(config)],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    try:
        line = _read_first_line(proc.stdout, STARTUP_TIMEOUT_S)
        match = LISTENING_LINE.match((line or "").strip())
        if match is None:
            _stop(proc)
            logs = log_path.read_text(errors="replace")[-4000:]
            pytest.fail(
                f"gateway did not print its listening line within {STARTUP_TIMEOUT_S}s "
                f"(got {line!r}; exit code {proc.poll()}).\nstderr:\n{logs}"
            )
        yield match.group(1)
    finally:
        _stop(proc)
        proc.stdout.close()


@pytest.fixture(scope="session")
def gateway_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Starts the gateway on a free port and yields its OpenAI base URL (`.../v1`)."""
    config = Path(os.environ.get("SLUICE_SDK_CONFIG", REPO / "gateway.toml"))
    with _serve(config, tmp_path_factory.mktemp("gateway"), {}) as root:
        yield f"{root}/v1"


@pytest.fixture(scope="session")
def client(gateway_url: str) -> Iterator[openai.OpenAI]:
    """An SDK client with the demo key; no retries, so every failure surfaces at once."""
    with openai.OpenAI(base_url=gateway_url, api_key=DEMO_KEY, max_retries=0) as c:
        yield c


@pytest.fixture(scope="session")
def bad_client(gateway_url: str) -> Iterator[openai.OpenAI]:
    """An SDK client whose key the gateway does not know."""
    with openai.OpenAI(base_url=gateway_url, api_key="sk-not-a-real-key", max_retries=0) as c:
        yield c


# --- The gateway in front of the mock upstream ----------------------------------------------------

CHAOS_PLUGIN = REPO / "target" / "plugins" / "wasm32-wasip2" / "plugin" / "sluice_test_chaos.wasm"
MOCK_MODELS = [
    "mock-tools",
    "mock-429",
    "mock-422",
    "mock-500-html",
    "mock-slow",
    "mock-broken",
    "mock-endless",
    "mock-agent",
]
ANTHROPIC_MODELS = [
    "claude-mock",
    "claude-mock-tools",
    "claude-mock-429",
    "claude-mock-529",
    "claude-mock-agent",
]
GEMINI_MODELS = [
    "gemini-mock",
    "gemini-mock-tools",
    "gemini-mock-400",
    "gemini-mock-503",
    "gemini-mock-agent",
]
# Models served by deployments in fallback order: (provider, upstream model).
FALLBACKS = {
    "fallback-chain": [
        ("dead", "mock-model"),
        ("anthropic", "claude-mock-529"),
        ("gemini", "gemini-mock-slow"),
        ("mock", "mock-model"),
    ],
    "stream-breaks-openai": [("mock", "mock-broken"), ("gemini", "gemini-mock")],
    "stream-breaks-anthropic": [("anthropic", "claude-mock-broken"), ("mock", "mock-model")],
    "stream-breaks-gemini": [("gemini", "gemini-mock-broken"), ("mock", "mock-model")],
    # A front door's native lane first (it fails), then a provider the request is translated for.
    "claude-then-openai": [("anthropic", "claude-mock-529"), ("mock", "mock-agent")],
    "openai-then-claude": [("mock", "mock-429"), ("anthropic", "claude-mock-agent")],
}


def _closed_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _mock_config(mock_url: str) -> str:
    """The mock gateway's config: key-auth (the demo key, and OTHER_KEY of another owner), the
    chaos policy, the mock's three sides (the OpenAI one speaking Responses natively), a dead
    provider, echo, and the fallback models."""
    served = [("mock", MOCK_MODELS), ("anthropic", ANTHROPIC_MODELS), ("gemini", GEMINI_MODELS)]
    models = "".join(
        f'\n[[models]]\nname = "{m}"\nprovider = "{provider}"\n'
        for provider, names in served
        for m in names
    )
    for name, deployments in FALLBACKS.items():
        listed = "".join(
            f'  {{ provider = "{p}", upstream_model = "{m}" }},\n' for p, m in deployments
        )
        models += f'\n[[models]]\nname = "{name}"\ndeployments = [\n{listed}]\n'
    return f"""
[server]
max_body_bytes = 1048576

[[plugins]]
name = "auth"
stage = "auth"
source = "builtin:key-auth"

[[plugins.config.keys]]
id = "demo"
owner = "demo"
sha256 = "{hashlib.sha256(DEMO_KEY.encode()).hexdigest()}"
models = []

[[plugins.config.keys]]
id = "other"
owner = "other"
sha256 = "{hashlib.sha256(OTHER_KEY.encode()).hexdigest()}"
models = []

[[plugins]]
name = "chaos"
stage = "policy"
source = "{CHAOS_PLUGIN}"
timeout_ms = 50
memory_mb = 16

# The mock's OpenAI side serves OpenAI's Responses API too: Responses requests pass through.
[[plugins]]
name = "openai-responses"
stage = "adapter"
source = "builtin:openai"
[plugins.config]
native_responses = true

[[providers]]
name = "mock"
adapter = "openai-responses"
base_url = "{mock_url}/v1"
api_key_env = "SLUICE_SDK_MOCK_KEY"
timeout_ms = 1000
retries = {RETRIES["mock"]}

[[providers]]
name = "anthropic"
adapter = "anthropic"
base_url = "{mock_url}/anthropic/v1"
api_key_env = "SLUICE_SDK_ANTHROPIC_KEY"
timeout_ms = 1000
retries = {RETRIES["anthropic"]}
retry_backoff_ms = 10

[[providers]]
name = "gemini"
adapter = "gemini"
base_url = "{mock_url}/gemini/v1beta"
api_key_env = "SLUICE_SDK_GEMINI_KEY"
timeout_ms = 500
retries = {RETRIES["gemini"]}

[[providers]]
name = "dead"
adapter = "openai"
base_url = "http://127.0.0.1:{_closed_port()}/v1"
retries = {RETRIES["dead"]}
retry_backoff_ms = 10

[[providers]]
name = "echo"
adapter = "echo"

[[models]]
name = "gpt-mock"
provider = "mock"
upstream_model = "mock-model"

[[models]]
name = "dead-model"
provider = "dead"

[[models]]
name = "echo"
provider = "echo"
{models}"""


@pytest.fixture(scope="session")
def mock_upstream() -> Iterator[MockUpstream]:
    """The mock OpenAI-compatible upstream, for the whole session."""
    mock = MockUpstream()
    yield mock
    mock.close()


@pytest.fixture
def upstream(mock_upstream: MockUpstream) -> MockUpstream:
    """The mock upstream, with nothing recorded yet."""
    mock_upstream.reset()
    return mock_upstream


@pytest.fixture(scope="session")
def mock_gateway_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mock gateway's folder: its config and its log (`stderr.log`)."""
    return tmp_path_factory.mktemp("mock-gateway")


@pytest.fixture(scope="session")
def mock_gateway(mock_upstream: MockUpstream, mock_gateway_dir: Path) -> Iterator[str]:
    """A second gateway, in front of the mock upstream; yields its root URL (without `/v1`)."""
    if not CHAOS_PLUGIN.is_file():
        pytest.fail(f"chaos test plugin not found at {CHAOS_PLUGIN}: build the plugins")
    config = mock_gateway_dir / "gateway.toml"
    config.write_text(_mock_config(mock_upstream.url))
    keys = {
        "SLUICE_SDK_MOCK_KEY": "sk-upstream",
        "SLUICE_SDK_ANTHROPIC_KEY": ANTHROPIC_KEY,
        "SLUICE_SDK_GEMINI_KEY": GEMINI_KEY,
    }
    with _serve(config, mock_gateway_dir, keys) as root:
        yield root


@pytest.fixture(scope="session")
def mock_client(mock_gateway: str) -> Iterator[openai.OpenAI]:
    """An SDK client of the mock gateway, on `/v1`, with the demo key and no retries."""
    with openai.OpenAI(base_url=f"{mock_gateway}/v1", api_key=DEMO_KEY, max_retries=0) as c:
        yield c


# --- A gateway with keys of several owners (files, batches) --------------------------------------


def owners_config(keys: dict[str, str], extra: str = "") -> str:
    """key-auth with one key per owner (`{owner: key}`), the echo model, and `extra` tables."""
    entries = "".join(
        f'\n[[plugins.config.keys]]\nid = "{owner}"\nowner = "{owner}"\n'
        f'sha256 = "{hashlib.sha256(key.encode()).hexdigest()}"\n'
        for owner, key in keys.items()
    )
    return f"""
{extra}

[[plugins]]
name = "auth"
stage = "auth"
source = "builtin:key-auth"
{entries}
[[providers]]
name = "echo"
adapter = "echo"

[[models]]
name = "echo"
provider = "echo"
"""


@contextlib.contextmanager
def owners_gateway(
    tmp_path_factory: pytest.TempPathFactory, keys: dict[str, str], extra: str = ""
) -> Iterator[str]:
    """A gateway on [`owners_config`]; yields its OpenAI base URL (`.../v1`)."""
    folder = tmp_path_factory.mktemp("owners-gateway")
    config = folder / "gateway.toml"
    config.write_text(owners_config(keys, extra))
    with _serve(config, folder, {}) as root:
        yield f"{root}/v1"
