"""Fixtures for the OpenAI SDK acceptance suite: real gateway processes, one per config and session.

The gateway binary comes from SLUICE_BIN (default: target/release/sluice). The first gateway serves
the config in SLUICE_SDK_CONFIG (default: gateway.toml), both relative to the repository root when
unset. The second serves a generated config in front of the mock upstream (`mock_upstream.py`),
with the chaos policy plugin (target/plugins/.../sluice_test_chaos.wasm) and a dead provider.
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

REPO = Path(__file__).resolve().parents[2]
DEMO_KEY = "sk-sluice-demo"
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
]


def _closed_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _mock_config(mock_url: str) -> str:
    """The mock gateway's config: key-auth, the chaos policy, the mock, a dead provider, echo."""
    models = "".join(f'\n[[models]]\nname = "{m}"\nprovider = "mock"\n' for m in MOCK_MODELS)
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

[[plugins]]
name = "chaos"
stage = "policy"
source = "{CHAOS_PLUGIN}"
timeout_ms = 50
memory_mb = 16

[[providers]]
name = "mock"
adapter = "openai"
base_url = "{mock_url}/v1"
api_key_env = "SLUICE_SDK_MOCK_KEY"
timeout_ms = 1000

[[providers]]
name = "dead"
adapter = "openai"
base_url = "http://127.0.0.1:{_closed_port()}/v1"

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
def mock_gateway(
    mock_upstream: MockUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A second gateway, in front of the mock upstream; yields its root URL (without `/v1`)."""
    if not CHAOS_PLUGIN.is_file():
        pytest.fail(f"chaos test plugin not found at {CHAOS_PLUGIN}: build the plugins")
    folder = tmp_path_factory.mktemp("mock-gateway")
    config = folder / "gateway.toml"
    config.write_text(_mock_config(mock_upstream.url))
    with _serve(config, folder, {"SLUICE_SDK_MOCK_KEY": "sk-upstream"}) as root:
        yield root


@pytest.fixture(scope="session")
def mock_client(mock_gateway: str) -> Iterator[openai.OpenAI]:
    """An SDK client of the mock gateway, on `/v1`, with the demo key and no retries."""
    with openai.OpenAI(base_url=f"{mock_gateway}/v1", api_key=DEMO_KEY, max_retries=0) as c:
        yield c
