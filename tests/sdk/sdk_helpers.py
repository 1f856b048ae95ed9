"""Helpers shared by the SDK test modules."""

from __future__ import annotations

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
