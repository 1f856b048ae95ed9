"""Fixtures of the MCP gateway tests (test_mcp.py).

The MCP servers behind the gateway:
- `everything-http`: the official `@modelcontextprotocol/server-everything` over Streamable HTTP,
  started here on a free port (`node <entry> streamableHttp`, port from the PORT variable);
- `everything`: the same package over stdio (`node <entry> stdio`), which the gateway starts;
- `crashy`: `mcp_crashy_server.py` over stdio (tools `echo` and `crash`), which the gateway starts.

The entry script of server-everything comes from SLUICE_MCP_EVERYTHING (scripts/test sets it from
scripts/node-env); when unset, scripts/node-env is run here. Node.js is required: without it the
tests fail and say so.

SLUICE_MCP_DIRECT=1 (a development aid) runs the protocol tests against the servers themselves,
without the gateway: `everything-http` at its own URL, `everything` and `crashy` started by the MCP
SDK's stdio client. Tests that need the gateway are skipped in that mode, with that reason.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest
from conftest import REPO, _serve, _stop

EVERYTHING_ENV = "SLUICE_MCP_EVERYTHING"
DIRECT = os.environ.get("SLUICE_MCP_DIRECT") == "1"
SERVER_STARTUP_TIMEOUT_S = 20
CRASHY_SERVER = Path(__file__).resolve().parent / "mcp_crashy_server.py"

# The gateway's MCP servers, by name.
HTTP_SERVER = "everything-http"
STDIO_SERVER = "everything"
CRASHY = "crashy"
EVERYTHING_SERVERS = [HTTP_SERVER, STDIO_SERVER]

ALLOWED_ORIGIN = "https://app.example"
# Set in the environment of both server-everything processes; its `get-env` tool shows it.
TEST_ENV = ("SLUICE_MCP_TEST_ENV", "from-the-gateway-config")
# Tools the policy hides from keys outside the admin team (globs of the mcp-tools rule).
HIDDEN_GLOBS = ["get-env", "gzip-*"]
HIDDEN_TOOLS = {"get-env", "gzip-file-as-resource"}
THROTTLED_CALLS_PER_MINUTE = 3
GATEWAY_ADMIN_KEY = "sk-mcp-gateway-admin"


@dataclass(frozen=True)
class Key:
    """One key of the gateway's key-auth config."""

    id: str
    secret: str
    owner: str
    team: str | None = None
    mcp_servers: list[str] = field(default_factory=list)
    attributes: dict[str, int | str] = field(default_factory=dict)


ADMIN = Key("admin", "sk-mcp-admin", "ada", team="admin")
NORMAL = Key("normal", "sk-mcp-normal", "nils", team="research")
LIMITED = Key("limited", "sk-mcp-limited", "lea", mcp_servers=[STDIO_SERVER])
THROTTLED = Key(
    "throttled",
    "sk-mcp-throttled",
    "theo",
    attributes={"mcp_calls_per_minute": THROTTLED_CALLS_PER_MINUTE},
)
METERED = Key("metered", "sk-mcp-metered", "mia")
KEYS = [ADMIN, NORMAL, LIMITED, THROTTLED, METERED]


def _toml(value) -> str:
    """A TOML value for a string, number or list of them (JSON's syntax is TOML's for these)."""
    return json.dumps(value)


def _key_entry(key: Key) -> str:
    lines = [
        "[[plugins.config.keys]]",
        f"id = {_toml(key.id)}",
        f"owner = {_toml(key.owner)}",
        f"sha256 = {_toml(hashlib.sha256(key.secret.encode()).hexdigest())}",
    ]
    if key.team is not None:
        lines.append(f"team = {_toml(key.team)}")
    if key.mcp_servers:
        lines.append(f"mcp_servers = {_toml(key.mcp_servers)}")
    if key.attributes:
        lines.append("[plugins.config.keys.attributes]")
        lines += [f"{name} = {_toml(value)}" for name, value in key.attributes.items()]
    return "\n".join(lines) + "\n"


def mcp_gateway_config(everything_url: str, node: str, entry: Path) -> str:
    """The gateway's config: the three MCP servers, key-auth with KEYS, and the mcp-tools policy
    (admins may use every tool; everyone else loses HIDDEN_GLOBS; 600 calls a minute per key, and
    THROTTLED's attribute lowers its own)."""
    keys = "\n".join(_key_entry(k) for k in KEYS)
    env_name, env_value = TEST_ENV
    return f"""
[mcp]
allowed_origins = [{_toml(ALLOWED_ORIGIN)}]
session_idle_timeout_ms = 1800000

[[mcp_servers]]
name = {_toml(HTTP_SERVER)}
url = {_toml(everything_url)}
headers = {{ "x-team" = "research" }}

[[mcp_servers]]
name = {_toml(STDIO_SERVER)}
command = {_toml(node)}
args = [{_toml(str(entry))}, "stdio"]
env = {{ {env_name} = {_toml(env_value)} }}

[[mcp_servers]]
name = {_toml(CRASHY)}
command = {_toml(sys.executable)}
args = [{_toml(str(CRASHY_SERVER))}]

[[plugins]]
name = "auth"
stage = "auth"
source = "builtin:key-auth"

{keys}
[[plugins]]
name = "mcp-tools"
stage = "mcp-policy"
source = "builtin:mcp-tools"

[plugins.config]
calls_per_minute = 600

[[plugins.config.rules]]
teams = ["admin"]
allow = ["*"]

[[plugins.config.rules]]
deny = {_toml(HIDDEN_GLOBS)}

[[providers]]
name = "echo"
adapter = "echo"

[[models]]
name = "echo"
provider = "echo"
"""


# --- server-everything ---------------------------------------------------------------------------


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "node not found: the MCP tests run @modelcontextprotocol/server-everything with "
            "Node.js; install Node.js 18+ and npm (scripts/node-env says how)"
        )
    return node


def _everything_entry() -> Path:
    """server-everything's entry script: SLUICE_MCP_EVERYTHING, else what scripts/node-env prints."""
    given = os.environ.get(EVERYTHING_ENV)
    if given:
        entry = Path(given)
        if not entry.is_file():
            pytest.fail(f"{EVERYTHING_ENV}={given}: no such file (run scripts/node-env)")
        return entry
    try:
        done = subprocess.run(
            [str(REPO / "scripts" / "node-env")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            timeout=600,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("scripts/node-env did not finish within 600 s")
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines or not Path(lines[-1]).is_file():
        pytest.fail(
            f"{EVERYTHING_ENV} is unset and scripts/node-env failed (exit {done.returncode}):\n"
            f"{done.stderr[-4000:]}"
        )
    return Path(lines[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_everything_http(node: str, entry: Path, log_dir: Path) -> tuple[subprocess.Popen, str]:
    """Starts server-everything over Streamable HTTP on a free port; returns it and its MCP URL.

    Ready when it logs `... listening on port N` (on stderr). A port taken between the probe and
    the start (the server then exits) is retried on another port, three times at most.
    """
    env_name, env_value = TEST_ENV
    for attempt in range(3):
        port = _free_port()
        out = log_dir / f"everything-http-{attempt}.out"
        err = log_dir / f"everything-http-{attempt}.err"
        with open(out, "wb") as stdout, open(err, "wb") as stderr:
            proc = subprocess.Popen(
                [node, str(entry), "streamableHttp"],
                env=dict(os.environ, PORT=str(port), **{env_name: env_value}),
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
            )
        deadline = time.monotonic() + SERVER_STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if f"listening on port {port}" in err.read_text(errors="replace"):
                return proc, f"http://127.0.0.1:{port}/mcp"
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        _stop(proc)
        logs = err.read_text(errors="replace")[-4000:]
        if "EADDRINUSE" not in logs and "already in use" not in logs:
            pytest.fail(
                f"server-everything (HTTP) did not start within {SERVER_STARTUP_TIMEOUT_S}s "
                f"(exit code {proc.poll()}).\nstderr:\n{logs}"
            )
    pytest.fail("server-everything (HTTP): three ports in a row were taken")


# --- session fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def node_binary() -> str:
    return _node()


@pytest.fixture(scope="session")
def everything_entry() -> Path:
    return _everything_entry()


@pytest.fixture(scope="session")
def everything_http(
    node_binary: str, everything_entry: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """server-everything over Streamable HTTP, for the whole session; yields its MCP URL."""
    proc, url = _start_everything_http(
        node_binary, everything_entry, tmp_path_factory.mktemp("everything-http")
    )
    try:
        yield url
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def mcp_gateway_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The MCP gateway's folder: its config, its log (`stderr.log`) and its data (`data/`)."""
    return tmp_path_factory.mktemp("mcp-gateway")


@pytest.fixture(scope="session")
def mcp_gateway(
    everything_http: str, node_binary: str, everything_entry: Path, mcp_gateway_dir: Path
) -> Iterator[str]:
    """The gateway in front of the three MCP servers; yields its root URL (without `/v1`)."""
    if DIRECT:
        pytest.skip("SLUICE_MCP_DIRECT=1: the servers are tested without the gateway")
    config = mcp_gateway_dir / "gateway.toml"
    config.write_text(mcp_gateway_config(everything_http, node_binary, everything_entry))
    with _serve(config, mcp_gateway_dir, {"SLUICE_ADMIN_KEY": GATEWAY_ADMIN_KEY}) as root:
        yield root
