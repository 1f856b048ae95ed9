"""Anthropic's Messages API (`/v1/messages`, `/v1/messages/count_tokens`) through the official
`anthropic` SDK, in front of each of the mock gateway's three providers (conftest.py).

The mock's `*-agent` models answer according to the request (mock_upstream.py, `agent_plan`): the
canned text, or a call of the first tool with the prompt as its argument, or a text quoting the
tool result. The OpenAI-shaped and Gemini providers are reached through the translation to chat
completions; the Anthropic provider speaks Messages itself, so the request reaches it untouched
(the native lane). Each test asserts what the SDK returns and what the provider was sent.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Iterator

import anthropic
import pytest
from conftest import DEMO_KEY
from mock_upstream import AGENT_TOOL_USE_ID, PNG_BASE64, QUOTE
from sdk_helpers import (
    AGENT_SIDES,
    ANTHROPIC_KEY,
    RETRIES,
    AgentSide,
    provider_path,
    received,
    usage_row,
)

SYSTEM = "You are terse."
PROMPT = "hello messages"
ANSWER = "Hello from mock"
WEATHER_PROMPT = "weather in Paris"
TOOL_RESULT = "18 degrees and sunny"
# The mock's usage in Messages terms, on every side: input (without cache reads), output, reads.
USAGE = (9, 3, 2)
PDF_BASE64 = base64.b64encode(b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n").decode()
TOOLS = [
    {
        "name": "get_weather",
        "description": "The weather in a city.",
        "input_schema": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
    {
        "name": "get_time",
        "description": "The time in a zone.",
        "input_schema": {"type": "object", "properties": {"zone": {"type": "string"}}},
    },
]
# What the mock's agent calls for WEATHER_PROMPT: the first tool, the prompt as its first property.
CALLED = ("get_weather", {"city": WEATHER_PROMPT})
SERVER_TOOL = {"type": "web_search_20250305", "name": "web_search", "max_uses": 3}

STREAM_OR_NOT = pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
TRANSLATED = pytest.mark.parametrize(
    "side", [AGENT_SIDES["openai"], AGENT_SIDES["gemini"]], ids=["openai", "gemini"]
)


@pytest.fixture(params=list(AGENT_SIDES))
def side(request) -> AgentSide:
    return AGENT_SIDES[request.param]


@pytest.fixture(scope="session")
def claude(mock_gateway: str) -> Iterator[anthropic.Anthropic]:
    """The `anthropic` SDK on the mock gateway (its root: the SDK adds `/v1/messages`)."""
    with anthropic.Anthropic(base_url=mock_gateway, api_key=DEMO_KEY, max_retries=0) as c:
        yield c


def user(content) -> list[dict]:
    return [{"role": "user", "content": content}]


def sent(upstream, side: AgentSide, stream: bool = False):
    """The one request the provider received, at its path, with the provider's key (never the
    client's)."""
    assert [s.path for s in upstream.seen] == [provider_path(side, stream)]
    seen = upstream.seen[0]
    if side.provider == "anthropic":
        assert seen.headers["x-api-key"] == ANTHROPIC_KEY
        assert "authorization" not in seen.headers
    elif side.provider == "mock":
        assert seen.headers["authorization"] == "Bearer sk-upstream"
    assert DEMO_KEY not in json.dumps(seen.headers)
    return seen


def text_of(message) -> str:
    return "".join(b.text for b in message.content if b.type == "text")


def usage_of(message) -> tuple[int, int, int]:
    u = message.usage
    return (u.input_tokens, u.output_tokens, u.cache_read_input_tokens)


# --- Text -----------------------------------------------------------------------------------------


def test_text(claude, upstream, side):
    msg = claude.messages.create(model=side.model, max_tokens=256, messages=user(PROMPT))

    assert (msg.type, msg.role, msg.model) == ("message", "assistant", side.model)
    assert msg.id.startswith("msg_")
    assert [(b.type, b.text) for b in msg.content] == [("text", ANSWER)]
    assert (msg.stop_reason, msg.stop_sequence) == ("end_turn", None)
    assert usage_of(msg) == USAGE
    assert received(sent(upstream, side)) == (None, [("user", PROMPT)], [])


def test_system_prompt(claude, upstream, side):
    msg = claude.messages.create(
        model=side.model, max_tokens=256, system=SYSTEM, messages=user(PROMPT)
    )

    assert text_of(msg) == ANSWER
    assert received(sent(upstream, side)) == (SYSTEM, [("user", PROMPT)], [])


def test_stop_sequences(claude, upstream, side):
    msg = claude.messages.create(
        model=side.model, max_tokens=256, messages=user(PROMPT), stop_sequences=[" from", "zzz"]
    )

    # The mock cuts its text at the first stop sequence it holds.
    assert text_of(msg) == "Hello"
    body = sent(upstream, side).body
    if side.provider == "anthropic":
        assert body["stop_sequences"] == [" from", "zzz"]
        assert (msg.stop_reason, msg.stop_sequence) == ("stop_sequence", " from")
    else:
        config = body.get("generationConfig") or {}
        assert body.get("stop", config.get("stopSequences")) == [" from", "zzz"]
        # A chat completion does not say which stop sequence ended it.
        assert msg.stop_reason in ("end_turn", "stop_sequence")
    assert usage_of(msg) == USAGE


def test_image_block(claude, upstream, side):
    image = {"type": "base64", "media_type": "image/png", "data": PNG_BASE64}
    content = [{"type": "image", "source": image}, {"type": "text", "text": "What is this?"}]
    msg = claude.messages.create(model=side.model, max_tokens=256, messages=user(content))

    assert text_of(msg) == ANSWER
    assert msg.stop_reason == "end_turn"
    assert usage_of(msg) == USAGE
    body = sent(upstream, side).body
    if side.provider == "anthropic":
        assert body["messages"] == user(content)
    elif side.provider == "gemini":
        [turn] = body["contents"]
        assert {"inlineData": {"mimeType": "image/png", "data": PNG_BASE64}} in turn["parts"]
        assert {"text": "What is this?"} in turn["parts"]
    else:
        [turn] = body["messages"]
        url = f"data:image/png;base64,{PNG_BASE64}"
        assert [p["type"] for p in turn["content"]] == ["image_url", "text"]
        assert turn["content"][0]["image_url"]["url"] == url
        assert turn["content"][1]["text"] == "What is this?"


def test_pdf_document_block(claude, upstream, side):
    pdf = {"type": "base64", "media_type": "application/pdf", "data": PDF_BASE64}
    content = [{"type": "document", "source": pdf}, {"type": "text", "text": "Summarise it."}]
    msg = claude.messages.create(model=side.model, max_tokens=256, messages=user(content))

    assert text_of(msg) == ANSWER
    assert msg.stop_reason == "end_turn"
    assert usage_of(msg) == USAGE
    body = sent(upstream, side).body
    if side.provider == "anthropic":
        assert body["messages"] == user(content)
    elif side.provider == "gemini":
        [turn] = body["contents"]
        assert {"inlineData": {"mimeType": "application/pdf", "data": PDF_BASE64}} in turn["parts"]
    else:
        [turn] = body["messages"]
        files = [p["file"] for p in turn["content"] if p["type"] == "file"]
        assert [f["file_data"] for f in files] == [f"data:application/pdf;base64,{PDF_BASE64}"]


# --- Streams --------------------------------------------------------------------------------------


def test_stream_text(claude, upstream, side):
    with claude.messages.stream(
        model=side.model, max_tokens=256, system=SYSTEM, messages=user(PROMPT)
    ) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()

    assert "".join(pieces) == ANSWER
    assert len(pieces) > 1, "the text comes in pieces"
    assert [(b.type, b.text) for b in final.content] == [("text", ANSWER)]
    assert (final.stop_reason, final.model) == ("end_turn", side.model)
    assert usage_of(final) == USAGE
    seen = sent(upstream, side, stream=True)
    assert received(seen) == (SYSTEM, [("user", PROMPT)], [])


def test_stream_events_in_order(claude, upstream, side):
    events = list(
        claude.messages.create(
            model=side.model, max_tokens=256, messages=user(PROMPT), stream=True
        )
    )

    kinds = [e.type for e in events if e.type != "ping"]
    assert kinds[0] == "message_start" and kinds[1] == "content_block_start"
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(kinds[2:-3]) == {"content_block_delta"}
    start = events[0].message
    assert (start.role, start.content, start.model) == ("assistant", [], side.model)
    text = "".join(e.delta.text for e in events if e.type == "content_block_delta")
    assert text == ANSWER
    [delta] = [e for e in events if e.type == "message_delta"]
    assert delta.delta.stop_reason == "end_turn"
    assert delta.usage.output_tokens == USAGE[1]


@STREAM_OR_NOT
def test_usage_row_names_the_endpoint(
    claude, upstream, mock_gateway, mock_gateway_dir, side, stream
):
    if stream:
        with claude.messages.stream(model=side.model, max_tokens=64, messages=user(PROMPT)) as s:
            s.get_final_message()
            request_id = s.response.headers["x-request-id"]
    else:
        raw = claude.messages.with_raw_response.create(
            model=side.model, max_tokens=64, messages=user(PROMPT)
        )
        request_id = raw.headers["x-request-id"]

    # Prompt tokens count cache reads, as the gateway's rows do for every provider.
    row = usage_row(mock_gateway, mock_gateway_dir, DEMO_KEY, request_id)
    assert row == ("messages", side.model, side.provider, 200, 11, 3, 2)


@STREAM_OR_NOT
def test_answer_names_the_served_model_whole_or_streamed(claude, upstream, stream):
    """`gpt-mock` is served as `mock-model` (conftest.py). As chat completions and Responses do, the
    Message names the model that served it, the same whole or streamed."""
    msg = ask(claude, "gpt-mock", stream, messages=user(PROMPT))

    assert text_of(msg) == ANSWER
    assert msg.model == "mock-model"


# --- Tools ----------------------------------------------------------------------------------------


def ask(claude, model: str, stream: bool, **params):
    """A Message, whole or assembled by the SDK's stream accumulator."""
    if not stream:
        return claude.messages.create(model=model, max_tokens=1024, **params)
    with claude.messages.stream(model=model, max_tokens=1024, **params) as s:
        return s.get_final_message()


@STREAM_OR_NOT
def test_tool_use_then_tool_result(claude, upstream, side, stream):
    first = ask(claude, side.model, stream, messages=user(WEATHER_PROMPT), tools=TOOLS)

    assert first.stop_reason == "tool_use"
    [call] = first.content
    assert call.type == "tool_use"
    assert (call.name, call.input) == CALLED
    assert call.id
    if side.provider == "anthropic":
        assert call.id == AGENT_TOOL_USE_ID
    assert usage_of(first) == USAGE
    assert received(sent(upstream, side, stream)) == (
        None,
        [("user", WEATHER_PROMPT)],
        ["get_weather", "get_time"],
    )

    upstream.reset()
    result = {"type": "tool_result", "tool_use_id": call.id, "content": TOOL_RESULT}
    history = [
        *user(WEATHER_PROMPT),
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        *user([result]),
    ]
    second = ask(claude, side.model, stream, messages=history, tools=TOOLS)

    assert text_of(second) == QUOTE + TOOL_RESULT
    assert second.stop_reason == "end_turn"
    assert received(sent(upstream, side, stream)).turns == [
        ("user", WEATHER_PROMPT),
        ("assistant", "call", *CALLED),
        ("tool", TOOL_RESULT),
    ]


def test_tool_result_as_text_blocks_and_error(claude, upstream, side):
    """A tool result given as text blocks, flagged `is_error`, still reaches the model."""
    call = {"type": "tool_use", "id": "toolu_given", "name": "get_weather", "input": CALLED[1]}
    result = {
        "type": "tool_result",
        "tool_use_id": "toolu_given",
        "content": [{"type": "text", "text": TOOL_RESULT}],
        "is_error": True,
    }
    history = [
        *user(WEATHER_PROMPT),
        {"role": "assistant", "content": [call]},
        *user([result]),
    ]
    msg = claude.messages.create(model=side.model, max_tokens=256, messages=history, tools=TOOLS)

    assert msg.stop_reason == "end_turn"
    assert TOOL_RESULT in text_of(msg)
    turns = received(sent(upstream, side)).turns
    assert turns[:2] == [("user", WEATHER_PROMPT), ("assistant", "call", *CALLED)]
    assert turns[2][0] == "tool" and TOOL_RESULT in turns[2][1]


# --- Errors, in Anthropic's shape -----------------------------------------------------------------


def assert_anthropic_error(exc, status: int, kind: str) -> None:
    assert exc.status_code == status
    assert exc.body["type"] == "error", exc.body
    assert exc.body["error"]["type"] == kind, exc.body
    assert exc.body["error"]["message"], exc.body


def test_bad_key_is_an_authentication_error(mock_gateway, upstream):
    with anthropic.Anthropic(base_url=mock_gateway, api_key="sk-nope", max_retries=0) as bad:
        with pytest.raises(anthropic.AuthenticationError) as exc:
            bad.messages.create(model="claude-mock-agent", max_tokens=10, messages=user(PROMPT))

    assert_anthropic_error(exc.value, 401, "authentication_error")
    assert upstream.seen == []


def test_unknown_model_is_not_found(claude, upstream):
    with pytest.raises(anthropic.NotFoundError) as exc:
        claude.messages.create(model="claude-nonexistent", max_tokens=10, messages=user(PROMPT))

    assert_anthropic_error(exc.value, 404, "not_found_error")
    assert "claude-nonexistent" in exc.value.body["error"]["message"]
    assert upstream.seen == []


@TRANSLATED
def test_top_k_is_refused_by_a_translated_provider(claude, upstream, side):
    with pytest.raises(anthropic.BadRequestError) as exc:
        claude.messages.create(
            model=side.model, max_tokens=10, messages=user(PROMPT), extra_body={"top_k": 5}
        )

    assert_anthropic_error(exc.value, 400, "invalid_request_error")
    assert "top_k" in exc.value.body["error"]["message"]
    assert upstream.seen == []


@TRANSLATED
def test_server_tool_is_refused_by_a_translated_provider(claude, upstream, side):
    with pytest.raises(anthropic.BadRequestError) as exc:
        claude.messages.create(
            model=side.model, max_tokens=10, messages=user(PROMPT), tools=[*TOOLS, SERVER_TOOL]
        )

    assert_anthropic_error(exc.value, 400, "invalid_request_error")
    assert SERVER_TOOL["type"] in exc.value.body["error"]["message"]
    assert upstream.seen == []


def test_invalid_body_is_an_anthropic_error(claude, upstream):
    with pytest.raises(anthropic.BadRequestError) as exc:
        claude.messages.create(model="claude-mock-agent", max_tokens=10, messages=[])

    assert_anthropic_error(exc.value, 400, "invalid_request_error")


@pytest.mark.parametrize(
    ("model", "statuses", "kind", "retry_after"),
    [
        ("mock-429", {429}, "rate_limit_error", "7"),
        ("gemini-mock-400", {400}, "invalid_request_error", None),
        ("claude-mock-429", {429}, "rate_limit_error", "7"),
        ("claude-mock-529", {503, 529}, "overloaded_error", None),
    ],
    ids=["openai-429", "gemini-400", "anthropic-429", "anthropic-529"],
)
@STREAM_OR_NOT
def test_provider_errors_in_anthropic_shape(
    claude, upstream, model, statuses, kind, retry_after, stream
):
    with pytest.raises(anthropic.APIStatusError) as exc:
        if stream:
            with claude.messages.stream(model=model, max_tokens=10, messages=user(PROMPT)) as s:
                s.get_final_message()
        else:
            claude.messages.create(model=model, max_tokens=10, messages=user(PROMPT))

    assert exc.value.status_code in statuses
    assert_anthropic_error(exc.value, exc.value.status_code, kind)
    assert exc.value.response.headers.get("retry-after") == retry_after


def test_stream_that_breaks_off_ends_with_an_error_event(claude, upstream, side):
    # Deployments: the side's model that breaks off after `Hello`, then another (conftest.py).
    model = f"stream-breaks-{side.name}"
    text = ""
    with pytest.raises(anthropic.APIStatusError) as exc:
        with claude.with_options(timeout=10).messages.stream(
            model=model, max_tokens=100, messages=user(PROMPT)
        ) as s:
            for piece in s.text_stream:
                text += piece

    assert text == "Hello", "the text before the break reaches the client"
    assert exc.value.body == {
        "type": "error",
        "error": {
            "type": "api_error",
            "message": f"The stream from the provider `{side.provider}` broke off.",
        },
    }
    # The answer had started: the next deployment is never asked.
    time.sleep(0.2)
    assert len(upstream.seen) == 1


# --- count_tokens ---------------------------------------------------------------------------------


def test_count_tokens_grows_with_the_prompt(claude, upstream, side):
    short = claude.messages.count_tokens(model=side.model, messages=user("hi"))
    longer = claude.messages.count_tokens(
        model=side.model, system=SYSTEM, messages=user("hi " * 400), tools=TOOLS
    )
    png = {"type": "base64", "media_type": "image/png", "data": PNG_BASE64}
    image = claude.messages.count_tokens(
        model=side.model,
        messages=user([{"type": "image", "source": png}, {"type": "text", "text": "hi"}]),
    )

    assert 0 < short.input_tokens < longer.input_tokens
    assert longer.input_tokens >= 300, "about four characters a token"
    assert image.input_tokens > short.input_tokens
    assert upstream.seen == [], "an estimate: the provider is not asked"


def test_count_tokens_checks_key_and_model(claude, mock_gateway):
    with pytest.raises(anthropic.NotFoundError) as exc:
        claude.messages.count_tokens(model="claude-nonexistent", messages=user("hi"))
    assert_anthropic_error(exc.value, 404, "not_found_error")
    with anthropic.Anthropic(base_url=mock_gateway, api_key="sk-nope", max_retries=0) as bad:
        with pytest.raises(anthropic.AuthenticationError) as exc:
            bad.messages.count_tokens(model="claude-mock-agent", messages=user("hi"))
    assert_anthropic_error(exc.value, 401, "authentication_error")


# --- The native lane: the Anthropic provider gets the client's request as it is -------------------

NATIVE_SIDE = AGENT_SIDES["anthropic"]
BETA = "prompt-caching-2024-07-31,token-efficient-tools-2025-02-19"
# Fields a translation to chat completions would drop or refuse.
NATIVE_PARAMS = {
    "system": [{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}],
    "messages": user(
        [{"type": "text", "text": PROMPT, "cache_control": {"type": "ephemeral", "ttl": "5m"}}]
    ),
    "metadata": {"user_id": "user-42"},
    "tools": [{**TOOLS[0], "cache_control": {"type": "ephemeral"}}],
    "tool_choice": {"type": "none"},
}
NATIVE_EXTRA = {"top_k": 5, "temperature": 0.5, "service_tier": "standard_only"}


@STREAM_OR_NOT
def test_native_lane_sends_the_body_and_headers_untouched(
    claude, upstream, mock_gateway, mock_gateway_dir, stream
):
    params = dict(model=NATIVE_SIDE.model, max_tokens=300, **NATIVE_PARAMS)
    headers = {"anthropic-beta": BETA}
    if stream:
        with claude.messages.stream(**params, extra_body=NATIVE_EXTRA, extra_headers=headers) as s:
            msg = s.get_final_message()
            request_id = s.response.headers.get("x-request-id")
    else:
        raw = claude.messages.with_raw_response.create(
            **params, extra_body=NATIVE_EXTRA, extra_headers=headers
        )
        msg, request_id = raw.parse(), raw.headers.get("x-request-id")

    # The provider's Message itself: its id, its text, its usage (cache creation included).
    assert msg.id == "msg_mock"
    assert text_of(msg) == ANSWER
    assert usage_of(msg) == USAGE
    seen = sent(upstream, NATIVE_SIDE)
    expected = {**params, **NATIVE_EXTRA}
    if stream:
        expected["stream"] = True
    assert seen.body == expected
    assert seen.headers["anthropic-beta"] == BETA
    assert seen.headers["anthropic-version"] == claude.default_headers["anthropic-version"]
    # The gateway read the usage of the provider's answer (prompt = input + cache reads).
    row = usage_row(mock_gateway, mock_gateway_dir, DEMO_KEY, request_id)
    assert row == ("messages", NATIVE_SIDE.model, "anthropic", 200, 11, 3, 2)


@pytest.mark.parametrize(
    "extra",
    [
        {"thinking": {"type": "enabled", "budget_tokens": 2048}},
        {"tools": [SERVER_TOOL]},
        {"container": "container_0123"},
    ],
    ids=["thinking", "server-tool", "container"],
)
def test_native_lane_takes_what_only_anthropic_runs(claude, upstream, extra):
    """What the translation refuses (only Anthropic runs it) goes to the Anthropic provider."""
    msg = claude.messages.create(
        model=NATIVE_SIDE.model, max_tokens=4096, messages=user(PROMPT), extra_body=extra
    )

    assert text_of(msg) == ANSWER
    body = sent(upstream, NATIVE_SIDE).body
    assert {k: body[k] for k in extra} == extra


READ_TOOL = {
    "name": "Read",
    "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}},
}
PNG_BLOCK = {
    "type": "image",
    "source": {"type": "base64", "media_type": "image/png", "data": PNG_BASE64},
}
# Conversations whose content only Anthropic reads (the translation refuses it).
ANTHROPIC_ONLY_CONTENT = {
    # What Claude Code's Read tool sends back for an image.
    "image-in-tool-result": [
        *user("read a.png"),
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "Read",
                    "input": {"file_path": "a.png"},
                }
            ],
        },
        *user([{"type": "tool_result", "tool_use_id": "toolu_1", "content": [PNG_BLOCK]}]),
    ],
    "url-pdf": user(
        [
            {"type": "document", "source": {"type": "url", "url": "https://example.com/a.pdf"}},
            {"type": "text", "text": "Summarise it."},
        ]
    ),
    "server-tool-history": [
        *user("search the web"),
        {
            "role": "assistant",
            "content": [
                {
                    "type": "server_tool_use",
                    "id": "srvtoolu_1",
                    "name": "web_search",
                    "input": {"query": "sluice"},
                },
                {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []},
                {"type": "text", "text": "Nothing found."},
            ],
        },
        *user("thanks"),
    ],
}


@pytest.mark.parametrize("messages", ANTHROPIC_ONLY_CONTENT.values(), ids=ANTHROPIC_ONLY_CONTENT)
def test_native_lane_takes_content_only_anthropic_reads(claude, upstream, messages):
    msg = claude.messages.create(
        model=NATIVE_SIDE.model, max_tokens=256, messages=messages, tools=[READ_TOOL]
    )

    assert msg.content
    assert sent(upstream, NATIVE_SIDE).body["messages"] == messages


# `claude-then-openai` (conftest.py): Anthropic answering 529, then the OpenAI-shaped provider.
FALLBACK_PATHS = ["/anthropic/v1/messages"] * (1 + RETRIES["anthropic"])


@STREAM_OR_NOT
def test_fallback_from_the_native_lane_to_a_translated_provider(claude, upstream, stream):
    msg = ask(claude, "claude-then-openai", stream, messages=user(PROMPT))

    assert text_of(msg) == ANSWER
    assert msg.stop_reason == "end_turn"
    assert usage_of(msg) == USAGE
    assert [s.path for s in upstream.seen] == [*FALLBACK_PATHS, "/v1/chat/completions"]
    assert upstream.seen[0].body["messages"] == user(PROMPT), "the native lane first"
    assert received(upstream.seen[-1]).turns == [("user", PROMPT)]


def test_native_only_request_gets_the_native_providers_error(claude, upstream):
    """Only the Anthropic deployment can take `top_k`: when it fails, its (retryable) error is the
    answer, not a refusal of the request by the next deployment."""
    with pytest.raises(anthropic.APIStatusError) as exc:
        claude.messages.create(
            model="claude-then-openai",
            max_tokens=10,
            messages=user(PROMPT),
            extra_body={"top_k": 3},
        )

    assert exc.value.status_code in (503, 529)
    assert_anthropic_error(exc.value, exc.value.status_code, "overloaded_error")
    assert [s.path for s in upstream.seen] == FALLBACK_PATHS


# --- A Claude Code-style request through the OpenAI-shaped provider -------------------------------

CLAUDE_CODE_SYSTEM = [
    {
        "type": "text",
        "text": "You are Claude Code, Anthropic's official CLI for Claude.",
        "cache_control": {"type": "ephemeral"},
    },
    {
        "type": "text",
        "text": "You are an interactive CLI tool that helps users with software tasks.",
        "cache_control": {"type": "ephemeral"},
    },
]
DRAFT7 = "http://json-schema.org/draft-07/schema#"
CLAUDE_CODE_TOOLS = [
    {
        "name": "Bash",
        "description": "Executes a given bash command in a persistent shell session.",
        "input_schema": {
            "type": "object",
            "properties": {
                "command": {"type": "string", "description": "The command to execute"},
                "timeout": {"type": "number", "description": "Optional timeout in milliseconds"},
                "description": {"type": "string"},
            },
            "required": ["command"],
            "additionalProperties": False,
            "$schema": DRAFT7,
        },
    },
    {
        "name": "Read",
        "description": "Reads a file from the local filesystem.",
        "input_schema": {
            "type": "object",
            "properties": {
                "file_path": {"type": "string"},
                "offset": {"type": "number"},
                "limit": {"type": "number"},
            },
            "required": ["file_path"],
            "additionalProperties": False,
            "$schema": DRAFT7,
        },
    },
    {
        "name": "Edit",
        "description": "Performs exact string replacements in files.",
        "input_schema": {
            "type": "object",
            "properties": {
                "file_path": {"type": "string"},
                "old_string": {"type": "string"},
                "new_string": {"type": "string"},
                "replace_all": {"type": "boolean", "default": False},
            },
            "required": ["file_path", "old_string", "new_string"],
            "additionalProperties": False,
            "$schema": DRAFT7,
        },
    },
    {
        "name": "TodoWrite",
        "description": "Update the todo list for the current session.",
        "input_schema": {
            "type": "object",
            "properties": {
                "todos": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "content": {"type": "string", "minLength": 1},
                            "status": {"type": "string", "enum": ["pending", "completed"]},
                        },
                        "required": ["content", "status"],
                    },
                }
            },
            "required": ["todos"],
            "$schema": DRAFT7,
        },
    },
]
CLAUDE_CODE_ASK = "list the files in src"
CLAUDE_CODE_BETA = "claude-code-20250219,interleaved-thinking-2025-05-14"
CLAUDE_CODE_USER = "user_0123abcd_account_4567_session_89ef"


def test_claude_code_request_through_an_openai_shaped_provider(
    mock_gateway, mock_gateway_dir, upstream
):
    side = AGENT_SIDES["openai"]
    # Claude Code authenticates with `x-api-key`.
    with anthropic.Anthropic(
        base_url=mock_gateway,
        api_key=None,
        auth_token=None,
        default_headers={"x-api-key": DEMO_KEY},
        max_retries=0,
    ) as code:
        with code.messages.stream(
            model=side.model,
            max_tokens=32000,
            system=CLAUDE_CODE_SYSTEM,
            tools=CLAUDE_CODE_TOOLS,
            metadata={"user_id": CLAUDE_CODE_USER},
            messages=user(
                [
                    {"type": "text", "text": "<system-reminder>Be brief.</system-reminder>"},
                    {
                        "type": "text",
                        "text": CLAUDE_CODE_ASK,
                        "cache_control": {"type": "ephemeral"},
                    },
                ]
            ),
            extra_headers={"anthropic-beta": CLAUDE_CODE_BETA},
        ) as stream:
            events = [e.type for e in stream]
            final = stream.get_final_message()
            request_id = stream.response.headers.get("x-request-id")

    assert "input_json" in events, "the tool input streams in pieces"
    assert final.stop_reason == "tool_use"
    [call] = [b for b in final.content if b.type == "tool_use"]
    assert call.name == "Bash"
    assert list(call.input) == ["command"]
    assert CLAUDE_CODE_ASK in call.input["command"]
    assert usage_of(final) == USAGE

    seen = sent(upstream, side, stream=True)
    body = seen.body
    assert body["stream"] is True
    assert body.get("max_tokens", body.get("max_completion_tokens")) == 32000
    assert [t["function"]["name"] for t in body["tools"]] == [t["name"] for t in CLAUDE_CODE_TOOLS]
    assert [t["function"]["parameters"] for t in body["tools"]] == [
        t["input_schema"] for t in CLAUDE_CODE_TOOLS
    ]
    what = received(seen)
    assert all(block["text"] in what.system for block in CLAUDE_CODE_SYSTEM)
    assert what.turns[-1][0] == "user" and CLAUDE_CODE_ASK in what.turns[-1][1]
    assert body.get("user") == CLAUDE_CODE_USER
    # Neither the client's key nor Anthropic's headers reach an OpenAI-shaped provider.
    assert "x-api-key" not in seen.headers and "anthropic-beta" not in seen.headers

    assert request_id, "the gateway names the request"
    row = usage_row(mock_gateway, mock_gateway_dir, DEMO_KEY, request_id)
    assert row == ("messages", side.model, side.provider, 200, 11, 3, 2)
