"""Helpers shared by the SDK test modules."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
import urllib.request
from pathlib import Path
from typing import NamedTuple

# The mock gateway's provider keys and retries (conftest.py writes them into its config).
ANTHROPIC_KEY = "sk-ant-sdk-test"
GEMINI_KEY = "gemini-sdk-test-key"
RETRIES = {"mock": 0, "anthropic": 2, "gemini": 0, "dead": 1}

WEATHER_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The weather in a city.",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    },
    {
        "type": "function",
        "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
    },
]


def sluice_meta(obj) -> dict:
    """The gateway's `sluice` metadata object, which the SDK keeps as an extra field."""
    assert obj.model_extra is not None and "sluice" in obj.model_extra, obj
    return obj.model_extra["sluice"]


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def assemble_tool_calls(chunks) -> tuple[dict[int, dict], list[str]]:
    """Assembles streamed tool calls the way OpenAI's clients do: by index, concatenating
    fragments. Returns the calls ({index: {id, name, arguments}}) and the finish reasons given."""
    calls: dict[int, dict] = {}
    finish_reasons = []
    for chunk in chunks:
        for choice in chunk.choices:
            if choice.finish_reason is not None:
                finish_reasons.append(choice.finish_reason)
            for delta in choice.delta.tool_calls or []:
                call = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
                call["id"] += delta.id or ""
                if delta.function is not None:
                    call["name"] += delta.function.name or ""
                    call["arguments"] += delta.function.arguments or ""
    return calls, finish_reasons


# --- The front doors (Messages, Responses) over the mock's `*-agent` models -----------------------


class AgentSide(NamedTuple):
    """One provider of the mock gateway, through its model that answers according to the request
    (mock_upstream.py: `agent_plan`)."""

    name: str  # the test id
    provider: str  # its name in the config
    model: str  # what the client asks for; also its upstream name


AGENT_SIDES = {
    side.name: side
    for side in [
        AgentSide("openai", "mock", "mock-agent"),
        AgentSide("anthropic", "anthropic", "claude-mock-agent"),
        AgentSide("gemini", "gemini", "gemini-mock-agent"),
    ]
}


def provider_path(side: AgentSide, stream: bool = False, responses: bool = False) -> str:
    """The path of the request `side`'s provider gets (`responses`: the native Responses lane)."""
    if side.provider == "anthropic":
        return "/anthropic/v1/messages"
    if side.provider == "gemini":
        method = "streamGenerateContent?alt=sse" if stream else "generateContent"
        return f"/gemini/v1beta/models/{side.model}:{method}"
    return "/v1/responses" if responses else "/v1/chat/completions"


class Received(NamedTuple):
    """What a provider was asked, whatever its API: the system text, the turns, the tools' names.

    A turn is `(role, text)` for text, `("assistant", "call", name, arguments as a dict)` for a
    tool call and `("tool", text)` for a tool result; roles are `user`, `assistant` and `tool`.
    """

    system: str | None
    turns: list[tuple]
    tools: list[str]


def _texts(content, kinds=("text", "input_text", "output_text")) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(p.get("text", "") for p in content or [] if p.get("type") in kinds)


def received(seen) -> Received:
    """What the recorded provider request `seen` asked, in common terms (see [`Received`]). Every
    tool result must answer an earlier call of the same conversation (by id, where the API has
    ids)."""
    body, path = seen.body, seen.path
    turns: list[tuple] = []
    call_ids: set[str] = set()

    def call(name: str, arguments, call_id: str | None) -> None:
        if call_id is not None:
            call_ids.add(call_id)
        args = json.loads(arguments) if isinstance(arguments, str) else arguments
        turns.append(("assistant", "call", name, args))

    def result(text: str, call_id: str | None) -> None:
        if call_id is not None:
            assert call_id in call_ids, (call_id, call_ids)
        turns.append(("tool", text))

    if path.startswith("/anthropic/"):
        system = body.get("system")
        system = None if system is None else _texts(system)
        for m in body["messages"]:
            blocks = m["content"]
            blocks = [{"type": "text", "text": blocks}] if isinstance(blocks, str) else blocks
            text = _texts(blocks)
            if text:
                turns.append((m["role"], text))
            for b in blocks:
                if b["type"] == "tool_use":
                    call(b["name"], b["input"], b["id"])
                elif b["type"] == "tool_result":
                    result(_texts(b.get("content")), b["tool_use_id"])
        tools = [t["name"] for t in body.get("tools") or []]
    elif path.startswith("/gemini/"):
        parts = (body.get("systemInstruction") or {}).get("parts")
        system = "\n".join(p["text"] for p in parts) if parts else None
        for c in body["contents"]:
            role = "assistant" if c.get("role") == "model" else "user"
            text = "\n".join(p["text"] for p in c["parts"] if "text" in p)
            if text:
                turns.append((role, text))
            for p in c["parts"]:
                if "functionCall" in p:
                    call(p["functionCall"]["name"], p["functionCall"].get("args", {}), None)
                elif "functionResponse" in p:
                    content = p["functionResponse"]["response"]["content"]
                    result(content if isinstance(content, str) else json.dumps(content), None)
        tools = [
            d["name"] for t in body.get("tools") or [] for d in t.get("functionDeclarations") or []
        ]
    elif path == "/v1/responses":
        system = body.get("instructions")
        items = body["input"]
        items = [{"role": "user", "content": items}] if isinstance(items, str) else items
        for i in items:
            kind = i.get("type", "message")
            if kind == "message" and i["role"] in ("system", "developer"):
                system = _texts(i["content"]) if system is None else system
            elif kind == "message":
                turns.append((i["role"], _texts(i["content"])))
            elif kind == "function_call":
                call(i["name"], i["arguments"], i["call_id"])
            elif kind == "function_call_output":
                result(_texts(i["output"]), i["call_id"])
        tools = [t["name"] for t in body.get("tools") or [] if t.get("type") == "function"]
    else:
        systems = [
            _texts(m["content"]) for m in body["messages"] if m["role"] in ("system", "developer")
        ]
        system = "\n".join(systems) if systems else None
        for m in body["messages"]:
            if m["role"] in ("system", "developer"):
                continue
            if m["role"] == "tool":
                result(_texts(m["content"]), m["tool_call_id"])
                continue
            text = _texts(m.get("content"))
            if text:
                turns.append((m["role"], text))
            for c in m.get("tool_calls") or []:
                call(c["function"]["name"], c["function"]["arguments"], c["id"])
        tools = [t["function"]["name"] for t in body.get("tools") or []]
    return Received(system, turns, tools)


def usage_row(gateway_root: str, gateway_dir: Path, key: str, request_id: str) -> tuple:
    """The usage row of `request_id`: (endpoint, model, provider, status, prompt, completion and
    cached tokens), read from the database in `gateway_dir` (the API shows no endpoints) once the
    dashboard API, asked with `key`, has flushed the rows in the writer's queue."""
    db_path = gateway_dir / "data" / "sluice.db"
    deadline = time.monotonic() + 5
    while True:
        flush = urllib.request.Request(
            f"{gateway_root}/dashboard/api/summary?since=1h",
            headers={"authorization": f"Bearer {key}"},
        )
        urllib.request.urlopen(flush, timeout=5).read()
        with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as db:
            rows = db.execute(
                "SELECT endpoint, model, provider, status, prompt_tokens, completion_tokens,"
                " cached_tokens FROM usage WHERE request_id = ?",
                (request_id,),
            ).fetchall()
        if rows or time.monotonic() > deadline:
            assert len(rows) == 1, (request_id, rows)
            return rows[0]
        time.sleep(0.1)
