"""The MCP gateway (`/mcp-servers/{name}/mcp`) through the official MCP Python SDK and raw HTTP.

Behind the gateway: server-everything over Streamable HTTP (`everything-http`) and over stdio
(`everything`), and a stdio server that can crash (`crashy`); see mcp_fixtures.py for the config,
its keys and its mcp-tools policy. The SDK client runs in its default `auto` mode: it probes
`server/discover` (protocol 2026-07-28), which the gateway refuses with -32022, and falls back to
`initialize`.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator

import anyio
import httpx2
import mcp_types as types
import pytest
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp_fixtures import (  # noqa: F401 (fixtures)
    ADMIN,
    ALLOWED_ORIGIN,
    CRASHY,
    CRASHY_SERVER,
    DIRECT,
    EVERYTHING_SERVERS,
    GATEWAY_ADMIN_KEY,
    HIDDEN_TOOLS,
    HTTP_SERVER,
    LIMITED,
    METERED,
    NORMAL,
    STDIO_SERVER,
    TEST_ENV,
    THROTTLED,
    THROTTLED_CALLS_PER_MINUTE,
    Key,
    everything_entry,
    everything_http,
    mcp_gateway,
    mcp_gateway_dir,
    node_binary,
)

# Bounds: one request, one whole test.
REQUEST_TIMEOUT_S = 30
TEST_TIMEOUT_S = 90

PROTOCOL = "2025-11-25"
SUPPORTED = {"2025-06-18", "2025-11-25"}
MODERN = "2026-07-28"
DENIED = -32003
RATE_LIMITED = -32004
UNSUPPORTED_VERSION = -32022

# server-everything 2026.8.31's tools. The conditional ones are registered after `initialize`
# for a client that declares sampling, elicitation and roots (this suite's client does).
ALWAYS_TOOLS = {
    "echo",
    "get-annotated-message",
    "get-env",
    "get-resource-links",
    "get-resource-reference",
    "get-structured-content",
    "get-sum",
    "get-tiny-image",
    "gzip-file-as-resource",
    "toggle-simulated-logging",
    "toggle-subscriber-updates",
    "trigger-long-running-operation",
}
CONDITIONAL_TOOLS = {
    "get-roots-list",
    "trigger-elicitation-request",
    "trigger-url-elicitation",
    "trigger-sampling-request",
    "simulate-research-query",
}
ALL_TOOLS = ALWAYS_TOOLS | CONDITIONAL_TOOLS
STATIC_DOCS = {
    "architecture.md",
    "extension.md",
    "features.md",
    "how-it-works.md",
    "instructions.md",
    "startup.md",
    "structure.md",
}
PROMPTS = {"simple-prompt", "args-prompt", "completable-prompt", "resource-prompt"}
ROOT_URI = "file:///sluice/test-root"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --- Where the tests connect ---------------------------------------------------------------------


@dataclass
class Target:
    """The gateway (root URL), or with SLUICE_MCP_DIRECT=1 the servers themselves."""

    gateway: str | None
    everything_http: str
    node: str
    entry: Path

    def url(self, server: str, *, v1: bool = False) -> str:
        assert self.gateway is not None, "raw HTTP tests need the gateway"
        return f"{self.gateway}{'/v1' if v1 else ''}/mcp-servers/{server}/mcp"

    def transport(self, server: str, http: httpx2.AsyncClient, *, v1: bool = False):
        if self.gateway is not None:
            return streamable_http_client(self.url(server, v1=v1), http_client=http)
        if server == HTTP_SERVER:
            return streamable_http_client(self.everything_http, http_client=http)
        if server == STDIO_SERVER:
            return StdioServerParameters(
                command=self.node, args=[str(self.entry), "stdio"], env=dict([TEST_ENV])
            )
        assert server == CRASHY, server
        return StdioServerParameters(command=sys.executable, args=[str(CRASHY_SERVER)])


@pytest.fixture(scope="session")
def target(
    request: pytest.FixtureRequest, everything_http: str, node_binary: str, everything_entry: Path
) -> Target:
    gateway = None if DIRECT else request.getfixturevalue("mcp_gateway")
    return Target(gateway, everything_http, node_binary, everything_entry)


@pytest.fixture(scope="session")
def gateway(mcp_gateway: str, target: Target) -> Target:
    """The target, for tests that only make sense through the gateway (skipped when DIRECT)."""
    return target


@dataclass
class Connection:
    """An SDK client session, with what the server asked of the client and the HTTP exchanges."""

    client: Client | None = None
    # (method, status, Mcp-Session-Id, path) of each HTTP exchange.
    exchanges: list[tuple[str, int, str | None, str]] = field(default_factory=list)
    sampling: list[types.CreateMessageRequestParams] = field(default_factory=list)
    elicitations: list[types.ElicitRequestParams] = field(default_factory=list)
    roots_requests: int = 0

    @property
    def session_id(self) -> str | None:
        """The `Mcp-Session-Id` the server issued (None over stdio in DIRECT mode)."""
        return next((sid for _, _, sid, _ in self.exchanges if sid), None)

    async def listening(self) -> None:
        """Waits until the session's GET stream is open (over HTTP; at once over stdio).

        A server's request outside of any call travels on that stream only, so until it is open
        the server has nowhere to send it (the server-everything SDK drops it, and a tool waiting
        for its answer hangs): a client that calls such a tool at once races its own GET.
        """
        if self.client is None or not self.exchanges:
            return
        while not any(m == "GET" and status == 200 for m, status, *_ in self.exchanges):
            await anyio.sleep(0.01)

    async def on_response(self, response: httpx2.Response) -> None:
        request = response.request
        session = response.headers.get("mcp-session-id")
        self.exchanges.append((request.method, response.status_code, session, request.url.path))

    async def on_sampling(self, context, params: types.CreateMessageRequestParams):
        self.sampling.append(params)
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text="sampled by the sluice test client"),
            model="sluice-test-model",
            stop_reason="endTurn",
        )

    async def on_elicitation(self, context, params: types.ElicitRequestParams):
        self.elicitations.append(params)
        return types.ElicitResult(action="accept", content={"name": "Ada Lovelace", "check": True})

    async def on_list_roots(self, context):
        self.roots_requests += 1
        return types.ListRootsResult(roots=[types.Root(uri=ROOT_URI, name="sluice test root")])


@contextlib.asynccontextmanager
async def connect(
    target: Target, server: str, key: Key = ADMIN, *, v1: bool = False
) -> AsyncIterator[Connection]:
    """An initialized SDK session on `server` with `key`; ends it (DELETE) on exit."""
    conn = Connection()
    async with httpx2.AsyncClient(
        headers={"Authorization": f"Bearer {key.secret}"},
        timeout=httpx2.Timeout(REQUEST_TIMEOUT_S),
        event_hooks={"response": [conn.on_response]},
    ) as http:
        async with Client(
            target.transport(server, http, v1=v1),
            read_timeout_seconds=REQUEST_TIMEOUT_S,
            sampling_callback=conn.on_sampling,
            elicitation_callback=conn.on_elicitation,
            list_roots_callback=conn.on_list_roots,
            cache=None,
        ) as client:
            conn.client = client
            yield conn


async def list_all_tools(client: Client) -> list[types.Tool]:
    """tools/list, following `nextCursor` through every page."""
    tools: list[types.Tool] = []
    cursor = None
    for _ in range(50):
        page = await client.list_tools(cursor=cursor)
        tools += page.tools
        cursor = page.next_cursor
        if cursor is None:
            return tools
    pytest.fail("tools/list did not end within 50 pages")


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))


# --- Raw HTTP --------------------------------------------------------------------------------------

ACCEPT = "application/json, text/event-stream"


def rpc(method: str, params: dict | None = None, id: int | None = 1) -> dict:
    """A JSON-RPC request (a notification when `id` is None)."""
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params
    if id is not None:
        message["id"] = id
    return message


def init_params(version: str = PROTOCOL) -> dict:
    return {
        "protocolVersion": version,
        "capabilities": {},
        "clientInfo": {"name": "sluice-raw-test", "version": "0"},
    }


def mcp_headers(
    key: Key | None = ADMIN, session: str | None = None, version: str | None = None, **extra: str
) -> dict[str, str]:
    headers = {"Accept": ACCEPT, "Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key.secret}"
    if session is not None:
        headers["Mcp-Session-Id"] = session
    if version is not None:
        headers["MCP-Protocol-Version"] = version
    headers.update(extra)
    return headers


def messages(response: httpx2.Response) -> list[dict]:
    """The JSON-RPC messages of a response: a JSON body, or the `data` of each SSE event."""
    content_type = response.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        return [response.json()]
    assert content_type.startswith("text/event-stream"), (response.status_code, content_type)
    found = []
    for event in response.text.replace("\r\n", "\n").split("\n\n"):
        data = "\n".join(
            line[5:].removeprefix(" ") for line in event.split("\n") if line.startswith("data:")
        )
        if data.strip():
            found.append(json.loads(data))
    return found


def answer(response: httpx2.Response, id: int = 1) -> dict:
    """The JSON-RPC response to request `id` in `response`."""
    replies = [m for m in messages(response) if m.get("id") == id and "method" not in m]
    assert len(replies) == 1, (response.status_code, response.text[:2000])
    return replies[0]


def open_session(http: httpx2.Client, url: str, key: Key = ADMIN, version: str = PROTOCOL) -> str:
    """initialize + notifications/initialized; returns the session id the gateway issued."""
    r = http.post(url, json=rpc("initialize", init_params(version)), headers=mcp_headers(key))
    assert r.status_code == 200, r.text
    assert answer(r)["result"]["protocolVersion"] == version
    session = r.headers.get("mcp-session-id")
    assert session, dict(r.headers)
    r = http.post(
        url,
        json=rpc("notifications/initialized", id=None),
        headers=mcp_headers(key, session, version),
    )
    assert r.status_code == 202, r.text
    return session


def call_tool(
    http: httpx2.Client, url: str, key: Key, session: str, name: str, args: dict, id: int = 2
) -> tuple[int, dict]:
    """tools/call over raw HTTP: (HTTP status, the JSON-RPC response)."""
    r = http.post(
        url,
        json=rpc("tools/call", {"name": name, "arguments": args}, id=id),
        headers=mcp_headers(key, session, PROTOCOL),
    )
    return r.status_code, answer(r, id)


@pytest.fixture(scope="session")
def raw() -> httpx2.Client:
    with httpx2.Client(timeout=REQUEST_TIMEOUT_S) as http:
        yield http


@pytest.fixture
def session_of(raw):
    """Opens raw sessions (`session_of(url, key, version)`) and ends them (DELETE) after the test,
    so that no stdio server process outlives its test."""
    opened = []

    def open_(url: str, key: Key = ADMIN, version: str = PROTOCOL) -> str:
        session = open_session(raw, url, key, version)
        opened.append((url, key, session, version))
        return session

    yield open_
    for url, key, session, version in opened:
        raw.delete(url, headers=mcp_headers(key, session, version))


# --- The protocol through the SDK, on both transports ----------------------------------------------

servers = pytest.mark.parametrize("server", EVERYTHING_SERVERS)


@pytest.mark.anyio
@servers
async def test_initialize_falls_back_from_discover_and_negotiates_2025_11_25(target, server):
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with connect(target, server) as conn:
            client = conn.client
            assert client.protocol_version == PROTOCOL
            assert client.server_info is not None
            assert client.server_info.name == "mcp-servers/everything"
            caps = client.server_capabilities
            assert caps.tools is not None
            assert caps.resources is not None
            assert caps.prompts is not None
            assert client.instructions
            if target.gateway is not None:
                assert conn.session_id, conn.exchanges


@pytest.mark.anyio
@servers
async def test_tools_list_is_complete(target, server):
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with connect(target, server) as conn:
            names = [t.name for t in await list_all_tools(conn.client)]
    assert len(names) == len(set(names)), names
    assert set(names) == ALL_TOOLS


@pytest.mark.anyio
@servers
async def test_tool_results_pass_through(target, server):
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with connect(target, server) as conn:
            client = conn.client
            echo = await client.call_tool("echo", {"message": "hello through sluice"})
            image = await client.call_tool("get-tiny-image", {})
            structured = await client.call_tool("get-structured-content", {"location": "Chicago"})
    assert not echo.is_error
    assert text_of(echo) == "Echo: hello through sluice"
    images = [c for c in image.content if isinstance(c, types.ImageContent)]
    assert len(images) == 1 and images[0].mime_type == "image/png" and images[0].data
    assert structured.structured_content is not None
    assert {"temperature", "conditions", "humidity"} <= set(structured.structured_content)


@pytest.mark.anyio
@servers
async def test_long_running_tool_reports_progress(target, server):
    progress: list[tuple[float, float | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total))

    with anyio.fail_after(TEST_TIMEOUT_S):
        async with connect(target, server) as conn:
            result = await conn.client.call_tool(
                "trigger-long-running-operation",
                {"duration": 1, "steps": 4},
                progress_callback=on_progress,
            )
    assert text_of(result) == "Long running operation completed. Duration: 1 seconds, Steps: 4."
    assert progress == [(1, 4), (2, 4), (3, 4), (4, 4)]


@pytest.mark.anyio
@servers
async def test_resources_list_read_and_templates(target, server):
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with connect(target, server) as conn:
            client = conn.client
            listed, cursor = [], None
            for _ in range(50):
                page = await client.list_resources(cursor=cursor)
                listed += page.resources
                cursor = page.next_cursor
                if cursor is None:
                    break
            features = await client.read_resource("demo://resource/static/document/features.md")
            dynamic = await client.read_resource("demo://resource/dynamic/text/3")
            templates = await client.list_resource_templates()
    prefix = "demo://resource/static/document/"
    uris = [str(r.uri) for r in listed]
    assert sorted(uris) == sorted(prefix + name for name in STATIC_DOCS)
    assert "## Tools" in features.contents[0].text
    assert dynamic.contents[0].text.startswith("Resource 3: This is a plaintext resource")
    assert {t.uri_template for t in templates.resource_templates} == {
        "demo://resource/dynamic/text/{resourceId}",
        "demo://resource/dynamic/blob/{resourceId}",
    }


@pytest.mark.anyio
@servers
async def test_prompts_list_and_get(target, server):
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with connect(target, server) as conn:
            client = conn.client
            listed = await client.list_prompts()
            simple = await client.get_prompt("simple-prompt")
            args = await client.get_prompt("args-prompt", {"city": "Lyon", "state": "Rhône"})
    assert {p.name for p in listed.prompts} == PROMPTS
    assert simple.messages[0].content.text == "This is a simple prompt without arguments."
    assert args.messages[0].content.text == "What's weather in Lyon, Rhône?"


@pytest.mark.anyio
@servers
async def test_ping(target, server):
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with connect(target, server) as conn:
            assert isinstance(await conn.client.session.send_ping(), types.EmptyResult)


@pytest.mark.anyio
@servers
async def test_sampling_request_is_answered_by_the_client(target, server):
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with connect(target, server) as conn:
            result = await conn.client.call_tool(
                "trigger-sampling-request", {"prompt": "sluice", "maxTokens": 7}
            )
    assert len(conn.sampling) == 1
    asked = conn.sampling[0]
    assert asked.max_tokens == 7
    assert asked.messages[0].content.text == "Resource trigger-sampling-request context: sluice"
    assert "sampled by the sluice test client" in text_of(result)
    assert "sluice-test-model" in text_of(result)


@pytest.mark.anyio
@servers
async def test_elicitation_request_is_answered_by_the_client(target, server):
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with connect(target, server) as conn:
            result = await conn.client.call_tool("trigger-elicitation-request", {})
    assert len(conn.elicitations) == 1
    assert conn.elicitations[0].message == "Please provide inputs for the following fields:"
    assert "- Name: Ada Lovelace" in text_of(result)


@pytest.mark.anyio
@servers
async def test_roots_request_outside_any_call_reaches_the_client(target, server):
    # The server asks for roots/list on its own (on the session's GET stream over HTTP) shortly
    # after initialization, and again from `get-roots-list` if it has no answer yet.
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with connect(target, server) as conn:
            await conn.listening()
            result = await conn.client.call_tool("get-roots-list", {})
    assert conn.roots_requests >= 1
    assert ROOT_URI in text_of(result)


@pytest.mark.anyio
async def test_stdio_server_gets_the_env_of_its_config(target):
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with connect(target, STDIO_SERVER) as conn:
            result = await conn.client.call_tool("get-env", {})
    name, value = TEST_ENV
    assert json.loads(text_of(result)).get(name) == value


# --- Sessions -------------------------------------------------------------------------------------


@pytest.mark.anyio
@servers
async def test_delete_ends_the_session(gateway, raw, server):
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with connect(gateway, server) as conn:
            await conn.client.call_tool("echo", {"message": "before the end"})
            session = conn.session_id
    # Leaving the client sends DELETE with the session id.
    deletes = [status for method, status, *_ in conn.exchanges if method == "DELETE"]
    assert deletes and deletes[-1] in (200, 202, 204), conn.exchanges
    url = gateway.url(server)
    r = raw.post(url, json=rpc("tools/list"), headers=mcp_headers(ADMIN, session, PROTOCOL))
    assert r.status_code == 404, r.text
    r = raw.delete(url, headers=mcp_headers(ADMIN, session, PROTOCOL))
    assert r.status_code == 404, r.text


@servers
def test_raw_session_lifecycle(session_of, gateway, raw, server):
    url = gateway.url(server)
    session = session_of(url)
    status, reply = call_tool(raw, url, ADMIN, session, "echo", {"message": "raw"})
    assert status == 200
    assert reply["result"]["content"][0]["text"] == "Echo: raw"
    # The GET stream of the session opens (server-to-client messages outside any request).
    with raw.stream("GET", url, headers=mcp_headers(ADMIN, session, PROTOCOL)) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
    r = raw.delete(url, headers=mcp_headers(ADMIN, session, PROTOCOL))
    assert r.status_code in (200, 202, 204), r.text
    r = raw.post(url, json=rpc("ping"), headers=mcp_headers(ADMIN, session, PROTOCOL))
    assert r.status_code == 404


@servers
def test_session_of_another_key_is_404(session_of, gateway, raw, server):
    url = gateway.url(server)
    session = session_of(url, ADMIN)
    for body in (rpc("ping"), rpc("tools/list")):
        r = raw.post(url, json=body, headers=mcp_headers(NORMAL, session, PROTOCOL))
        assert r.status_code == 404, r.text
    r = raw.delete(url, headers=mcp_headers(NORMAL, session, PROTOCOL))
    assert r.status_code == 404
    # The owner's session is untouched.
    r = raw.post(url, json=rpc("ping"), headers=mcp_headers(ADMIN, session, PROTOCOL))
    assert r.status_code == 200 and "result" in answer(r)


@servers
def test_unknown_session_is_404(gateway, raw, server):
    url = gateway.url(server)
    session = uuid.uuid4().hex
    r = raw.post(url, json=rpc("tools/list"), headers=mcp_headers(ADMIN, session, PROTOCOL))
    assert r.status_code == 404
    r = raw.delete(url, headers=mcp_headers(ADMIN, session, PROTOCOL))
    assert r.status_code == 404
    r = raw.get(url, headers=mcp_headers(ADMIN, session, PROTOCOL))
    assert r.status_code == 404


@servers
def test_a_2025_06_18_session(session_of, gateway, raw, server):
    url = gateway.url(server)
    session = session_of(url, version="2025-06-18")
    r = raw.post(
        url, json=rpc("tools/list", id=5), headers=mcp_headers(ADMIN, session, "2025-06-18")
    )
    assert r.status_code == 200
    assert {t["name"] for t in answer(r, 5)["result"]["tools"]} >= ALWAYS_TOOLS


@pytest.mark.anyio
async def test_the_v1_path_serves_too(gateway):
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with connect(gateway, HTTP_SERVER, v1=True) as conn:
            result = await conn.client.call_tool("echo", {"message": "v1"})
    assert text_of(result) == "Echo: v1"
    assert conn.exchanges and all(
        path.startswith("/v1/mcp-servers/") for *_, path in conn.exchanges
    )


# --- Access and HTTP-level checks ---------------------------------------------------------------


def test_no_key_or_a_wrong_key_is_401(gateway, raw):
    url = gateway.url(HTTP_SERVER)
    for headers in (mcp_headers(None), mcp_headers(Key("x", "sk-not-a-key", "nobody"))):
        r = raw.post(url, json=rpc("initialize", init_params()), headers=headers)
        assert r.status_code == 401, r.text


def test_unknown_server_is_404(gateway, raw):
    for v1 in (False, True):
        r = raw.post(
            gateway.url("no-such-server", v1=v1),
            json=rpc("initialize", init_params()),
            headers=mcp_headers(ADMIN),
        )
        assert r.status_code == 404, r.text


def test_key_limited_to_other_servers_is_403(session_of, gateway, raw):
    for server in (HTTP_SERVER, CRASHY):
        r = raw.post(
            gateway.url(server), json=rpc("initialize", init_params()), headers=mcp_headers(LIMITED)
        )
        assert r.status_code == 403, (server, r.text)
    # The server it may use works.
    session_of(gateway.url(STDIO_SERVER), LIMITED)


def test_origin_must_be_allowed(gateway, raw):
    url = gateway.url(HTTP_SERVER)
    body = rpc("initialize", init_params())
    r = raw.post(url, json=body, headers=mcp_headers(ADMIN, Origin="https://evil.example"))
    assert r.status_code == 403, r.text
    r = raw.post(url, json=body, headers=mcp_headers(ADMIN, Origin=ALLOWED_ORIGIN))
    assert r.status_code == 200, r.text
    raw.delete(url, headers=mcp_headers(ADMIN, r.headers["mcp-session-id"], PROTOCOL))


@pytest.mark.parametrize(
    "headers",
    [
        {"Accept": "application/json"},
        {"Accept": "text/event-stream"},
        {"Content-Type": "text/plain"},
    ],
    ids=["accept-json-only", "accept-sse-only", "content-type-text"],
)
def test_post_without_both_accept_types_or_json_body_is_400(gateway, raw, headers):
    r = raw.post(
        gateway.url(HTTP_SERVER),
        content=json.dumps(rpc("initialize", init_params())),
        headers=mcp_headers(ADMIN, **headers),
    )
    assert r.status_code == 400, r.text


@servers
def test_unsupported_protocol_version_header_is_400(session_of, gateway, raw, server):
    url = gateway.url(server)
    session = session_of(url)
    r = raw.post(url, json=rpc("tools/list"), headers=mcp_headers(ADMIN, session, "1999-01-01"))
    assert r.status_code == 400, r.text
    r = raw.post(url, json=rpc("tools/list"), headers=mcp_headers(ADMIN, session, PROTOCOL))
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "body,version",
    [
        (rpc("server/discover", {}), MODERN),
        (rpc("server/discover", {}), None),
        (rpc("tools/list"), MODERN),
    ],
    ids=["discover-with-header", "discover-alone", "tools-list-with-header"],
)
def test_protocol_2026_07_28_is_refused_with_32022(gateway, raw, body, version):
    r = raw.post(gateway.url(HTTP_SERVER), json=body, headers=mcp_headers(ADMIN, version=version))
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == UNSUPPORTED_VERSION, error
    assert error["data"]["requested"] == MODERN
    assert SUPPORTED <= set(error["data"]["supported"])
    assert MODERN not in error["data"]["supported"]


# --- Policy: hidden tools, denied calls, rate limit, usage ---------------------------------------


@pytest.mark.anyio
@servers
async def test_policy_hides_tools_from_non_admins(gateway, server):
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with connect(gateway, server, NORMAL) as conn:
            normal = {t.name for t in await list_all_tools(conn.client)}
        async with connect(gateway, server, ADMIN) as conn:
            admin = {t.name for t in await list_all_tools(conn.client)}
    assert normal == ALL_TOOLS - HIDDEN_TOOLS
    assert admin == ALL_TOOLS


@servers
def test_policy_denies_calls_to_hidden_tools_with_32003(session_of, gateway, raw, server):
    url = gateway.url(server)
    session = session_of(url, NORMAL)
    for i, tool in enumerate(sorted(HIDDEN_TOOLS)):
        status, reply = call_tool(raw, url, NORMAL, session, tool, {}, id=10 + i)
        assert status == 200
        assert reply["error"]["code"] == DENIED, reply
    status, reply = call_tool(raw, url, NORMAL, session, "echo", {"message": "allowed"})
    assert status == 200 and reply["result"]["content"][0]["text"] == "Echo: allowed"
    admin_session = session_of(url, ADMIN)
    status, reply = call_tool(raw, url, ADMIN, admin_session, "get-env", {})
    assert status == 200 and "result" in reply, reply


@pytest.mark.anyio
async def test_policy_denial_reaches_the_sdk_as_an_mcp_error(gateway):
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with connect(gateway, STDIO_SERVER, NORMAL) as conn:
            with pytest.raises(MCPError) as denied:
                await conn.client.call_tool("get-env", {})
            # The session goes on.
            assert text_of(await conn.client.call_tool("echo", {"message": "on"})) == "Echo: on"
    assert denied.value.code == DENIED


def test_rate_limit_per_key_answers_32004_with_retry_after(session_of, gateway, raw):
    # Clear of a minute's end, so that a limiter with per-minute windows counts all the calls in one.
    if time.time() % 60 > 50:
        time.sleep(61 - time.time() % 60)
    url = gateway.url(HTTP_SERVER)
    session = session_of(url, THROTTLED)
    for i in range(THROTTLED_CALLS_PER_MINUTE):
        status, reply = call_tool(
            raw, url, THROTTLED, session, "echo", {"message": f"{i}"}, id=20 + i
        )
        assert status == 200 and "result" in reply, (i, reply)
    status, reply = call_tool(raw, url, THROTTLED, session, "echo", {"message": "over"}, id=99)
    assert status == 200
    error = reply["error"]
    assert error["code"] == RATE_LIMITED, error
    retry_after = error["data"]["retry_after"]
    assert isinstance(retry_after, (int, float)) and 0 < retry_after <= 60, error
    # Other keys are not limited by it.
    admin_session = session_of(url, ADMIN)
    status, reply = call_tool(raw, url, ADMIN, admin_session, "echo", {"message": "free"})
    assert status == 200 and "result" in reply


def _usage(gateway: Target, raw: httpx2.Client, group_by: str) -> dict[str, dict]:
    r = raw.get(
        f"{gateway.gateway}/admin/usage",
        params={"group_by": group_by, "since": "1h"},
        headers={"Authorization": f"Bearer {GATEWAY_ADMIN_KEY}"},
    )
    assert r.status_code == 200, r.text
    return {row["group"]: row for row in r.json()["data"]}


def test_every_tools_call_writes_a_usage_row(session_of, gateway, raw, mcp_gateway_dir):
    # `get-sum` is called by this test alone, with a key used by this test alone.
    calls = {HTTP_SERVER: 2, STDIO_SERVER: 1}
    for server, n in calls.items():
        url = gateway.url(server)
        session = session_of(url, METERED)
        for i in range(n):
            status, reply = call_tool(raw, url, METERED, session, "get-sum", {"a": i, "b": 2})
            assert status == 200 and "result" in reply, reply
    expected = sum(calls.values())
    # Rows are written in batches, off the response path.
    deadline = time.monotonic() + 15
    while True:
        rows = _usage(gateway, raw, "model")
        seen = rows.get("get-sum", {}).get("requests", 0)
        if seen >= expected or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert seen == expected, rows
    assert rows["get-sum"]["errors"] == 0
    assert _usage(gateway, raw, "key")["metered"]["requests"] >= expected
    # The row names the endpoint and the server (not shown by /admin/usage): read the database.
    db = mcp_gateway_dir / "data" / "sluice.db"
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        found = conn.execute(
            "SELECT endpoint, provider, COUNT(*) FROM usage"
            " WHERE key_id = 'metered' AND model = 'get-sum' GROUP BY 1, 2"
        ).fetchall()
    # The endpoint is "mcp" in the words, "mcp.tools/call" in the gateway's.
    assert {endpoint for endpoint, _, _ in found} <= {"mcp", "mcp.tools/call"}, found
    assert sorted((server, n) for _, server, n in found) == sorted(calls.items())


# --- A stdio server that crashes ------------------------------------------------------------------


def _pid(result: types.CallToolResult) -> int:
    return int(text_of(result).rsplit("(pid ", 1)[1].rstrip(")"))


def _gone(pid: int) -> bool:
    """Whether process `pid` is gone: exited and reaped (a zombie is still listed in /proc)."""
    return not Path(f"/proc/{pid}").exists()


@pytest.mark.anyio
async def test_stdio_server_crash_ends_the_session_and_the_server_restarts(target, raw):
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with connect(target, CRASHY) as bystander:
            other_pid = _pid(await bystander.client.call_tool("echo", {"message": "bystander"}))
            async with connect(target, CRASHY) as conn:
                before = _pid(await conn.client.call_tool("echo", {"message": "before"}))
                assert before != other_pid, "each session has a process of its own"
                session = conn.session_id
                # The call gets an error, within a bound, not a hang.
                with anyio.fail_after(20):
                    with pytest.raises(MCPError):
                        await conn.client.call_tool("crash", {})
                if target.gateway is not None:
                    # The session is over: its id is unknown from now on.
                    url = target.url(CRASHY)
                    deadline = time.monotonic() + 5
                    while True:
                        r = raw.post(
                            url, json=rpc("ping"), headers=mcp_headers(ADMIN, session, PROTOCOL)
                        )
                        if r.status_code == 404 or time.monotonic() > deadline:
                            break
                        await anyio.sleep(0.1)
                    assert r.status_code == 404, r.text
            # Another session's process is untouched.
            still = await bystander.client.call_tool("echo", {"message": "still here"})
            assert _pid(still) == other_pid
        # A new session works again, on a new process (the gateway may back off for a moment).
        deadline = time.monotonic() + 15
        while True:
            try:
                async with connect(target, CRASHY) as again:
                    after = await again.client.call_tool("echo", {"message": "after"})
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await anyio.sleep(0.5)
        assert text_of(after).startswith("after (pid ")
        assert _pid(after) not in (before, other_pid)
        # The crashed process was reaped, not left a zombie.
        deadline = time.monotonic() + 5
        while not _gone(before) and time.monotonic() < deadline:
            await anyio.sleep(0.1)
        assert _gone(before), f"process {before} is still there"


def test_the_client_example_runs_through_the_gateway(gateway):
    """examples/clients/mcp_tools.py, as the README tells operators to run it."""
    example = Path(__file__).resolve().parents[2] / "examples" / "clients" / "mcp_tools.py"
    env = {
        "SLUICE_URL": gateway.gateway,
        "SLUICE_KEY": NORMAL.secret,
        "SLUICE_MCP_SERVER": HTTP_SERVER,
    }
    out = subprocess.run(
        [sys.executable, str(example)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "echo: Echo: hello through Sluice" in out.stdout, out.stdout
    listed = out.stdout.splitlines()[0]
    for hidden in HIDDEN_TOOLS:
        assert hidden not in listed, listed
