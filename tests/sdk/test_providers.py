"""One OpenAI client, three providers: the `openai` SDK through the mock gateway (conftest.py) to
the mock upstream's OpenAI, Anthropic and Gemini sides (mock_upstream.py).

The three sides answer the same content in their own API shapes, so every chat test runs once per
side and asserts the same OpenAI-shaped result, plus what that provider was sent in its own terms.
Then the providers' errors as the SDK raises them, and fallbacks: deployments that fail before
answering are retried, then skipped; a stream that breaks off ends with an error event, and the
next deployment is not asked for a second answer.
"""

from __future__ import annotations

import math
import re
import time
from pathlib import Path
from typing import NamedTuple

import openai
import pytest
from mock_upstream import GEMINI_PREFIX, TOOL_CALL, embedding, fixture
from sdk_helpers import (
    ANTHROPIC_KEY,
    GEMINI_KEY,
    RETRIES,
    WEATHER_TOOLS,
    assemble_tool_calls,
    sluice_meta,
)

SYSTEM = "You are terse."
PROMPT = "hello providers"
MESSAGES = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": PROMPT}]
ANSWER = "Hello from mock"
# prompt, completion, total and cached tokens: the same on every side of the mock.
USAGE = (11, 3, 14, 2)
WEATHER_SCHEMA = WEATHER_TOOLS[0]["function"]["parameters"]


class Side(NamedTuple):
    """One provider of the mock gateway."""

    name: str  # the test id; `stream-breaks-<name>` falls back from it
    provider: str  # its name in the config, `sluice.provider` and `x-sluice-provider`
    model: str  # what the client asks for
    served: str  # its upstream name: the answer's `model` and `sluice.model`
    tools_model: str  # the model that answers with the `get_weather` call
    call_id: str  # that call's id as the client gets it
    broken: str  # the upstream model of `stream-breaks-<name>`'s first deployment


SIDES = {
    side.name: side
    for side in [
        Side("openai", "mock", "gpt-mock", "mock-model", "mock-tools", "call_mock", "mock-broken"),
        Side(
            "anthropic",
            "anthropic",
            "claude-mock",
            "claude-mock",
            "claude-mock-tools",
            "toolu_mock",
            "claude-mock-broken",
        ),
        # Gemini's function calls have no ids: the adapter numbers them.
        Side(
            "gemini",
            "gemini",
            "gemini-mock",
            "gemini-mock",
            "gemini-mock-tools",
            "call_0",
            "gemini-mock-broken",
        ),
    ]
}
STREAM_OR_NOT = pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])


@pytest.fixture(params=list(SIDES))
def side(request) -> Side:
    return SIDES[request.param]


def usage_tuple(usage) -> tuple[int, int, int, int]:
    return (
        usage.prompt_tokens,
        usage.completion_tokens,
        usage.total_tokens,
        usage.prompt_tokens_details.cached_tokens,
    )


def assert_served_by(obj, provider: str, model: str) -> None:
    meta = sluice_meta(obj)
    assert (meta["provider"], meta["model"]) == (provider, model)


def sent_model(seen) -> str:
    """The upstream model a recorded request asked for (Gemini names it in the path)."""
    return seen.body.get("model") or seen.path.removeprefix(GEMINI_PREFIX).partition(":")[0]


def expected_request(side: Side, model: str, stream: bool, tools: bool) -> tuple[str, dict]:
    """The path and body of MESSAGES (and WEATHER_TOOLS, when `tools`) in `side`'s API."""
    if side.provider == "anthropic":
        body = {
            "model": model,
            "system": SYSTEM,
            "messages": [{"role": "user", "content": [{"type": "text", "text": PROMPT}]}],
            "max_tokens": 4096,  # the adapter's default: Anthropic requires one
        }
        if stream:
            body["stream"] = True
        if tools:
            body["tools"] = [
                {
                    "name": "get_weather",
                    "description": "The weather in a city.",
                    "input_schema": WEATHER_SCHEMA,
                },
                {"name": "get_time", "input_schema": {"type": "object", "properties": {}}},
            ]
        return "/anthropic/v1/messages", body
    if side.provider == "gemini":
        body = {
            "systemInstruction": {"parts": [{"text": SYSTEM}]},
            "contents": [{"role": "user", "parts": [{"text": PROMPT}]}],
        }
        if tools:
            weather = {
                "name": "get_weather",
                "description": "The weather in a city.",
                "parameters": WEATHER_SCHEMA,
            }
            # get_time's object schema has no properties, which Gemini refuses: it is left out.
            body["tools"] = [{"functionDeclarations": [weather, {"name": "get_time"}]}]
        method = "streamGenerateContent?alt=sse" if stream else "generateContent"
        return f"{GEMINI_PREFIX}{model}:{method}", body
    body = {"model": model, "messages": MESSAGES}
    if stream:
        body |= {"stream": True, "stream_options": {"include_usage": True}}
    if tools:
        body["tools"] = WEATHER_TOOLS
    return "/v1/chat/completions", body


# Each provider's key header and value; no other key header may reach it.
KEY_HEADERS = {
    "mock": ("authorization", "Bearer sk-upstream"),
    "anthropic": ("x-api-key", ANTHROPIC_KEY),
    "gemini": ("x-goog-api-key", GEMINI_KEY),
}


def assert_key_sent(seen, provider: str) -> None:
    """The provider's own key went with the request, and no other key (not the client's)."""
    name, value = KEY_HEADERS[provider]
    assert seen.headers[name] == value
    others = {n for n, _ in KEY_HEADERS.values()} - {name}
    assert others.isdisjoint(seen.headers), seen.headers
    if provider == "anthropic":
        assert seen.headers["anthropic-version"] == "2023-06-01"


def assert_sent(upstream, side: Side, model: str, stream: bool = False, tools: bool = False):
    """The upstream received one request: MESSAGES in `side`'s API, with the provider's key."""
    assert len(upstream.seen) == 1, [s.path for s in upstream.seen]
    seen = upstream.seen[0]
    assert (seen.path, seen.body) == expected_request(side, model, stream, tools)
    assert_key_sent(seen, side.provider)


# --- Chat, streamed chat, tool calls: the same answer from every provider -------------------------


def test_chat(mock_client, upstream, side):
    raw = mock_client.chat.completions.with_raw_response.create(
        model=side.model, messages=MESSAGES
    )
    resp = raw.parse()

    assert resp.object == "chat.completion"
    assert resp.model == side.served
    assert [
        (c.index, c.message.role, c.message.content, c.message.tool_calls, c.finish_reason)
        for c in resp.choices
    ] == [(0, "assistant", ANSWER, None, "stop")]
    assert usage_tuple(resp.usage) == USAGE
    assert_served_by(resp, side.provider, side.served)
    assert raw.headers["x-sluice-provider"] == side.provider
    assert_sent(upstream, side, side.served)


@pytest.mark.parametrize("include_usage", [False, True], ids=["usage-not-asked", "usage-asked"])
def test_chat_stream(mock_client, upstream, side, include_usage):
    options = {"stream_options": {"include_usage": True}} if include_usage else {}
    chunks = list(
        mock_client.chat.completions.create(
            model=side.model, messages=MESSAGES, stream=True, **options
        )
    )

    *deltas, last = chunks
    assert all(len(c.choices) == 1 and c.choices[0].index == 0 for c in deltas)
    assert deltas[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in deltas) == ANSWER
    assert [c.choices[0].finish_reason for c in deltas if c.choices[0].finish_reason] == ["stop"]
    assert {(c.id, c.object, c.model) for c in chunks} == {
        (chunks[0].id, "chat.completion.chunk", side.served)
    }
    # The last chunk, without choices, names the provider, and holds the usage only if asked.
    assert last.choices == []
    assert_served_by(last, side.provider, side.served)
    assert all("sluice" not in (c.model_extra or {}) for c in deltas)
    if include_usage:
        assert usage_tuple(last.usage) == USAGE
    else:
        assert last.usage is None
    assert all(c.usage is None for c in deltas)
    assert_sent(upstream, side, side.served, stream=True)


def test_tool_call(mock_client, upstream, side):
    resp = mock_client.chat.completions.create(
        model=side.tools_model, messages=MESSAGES, tools=WEATHER_TOOLS
    )

    choice = resp.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert [
        (c.id, c.type, c.function.name, c.function.arguments) for c in choice.message.tool_calls
    ] == [(side.call_id, "function", "get_weather", TOOL_CALL["arguments"])]
    assert usage_tuple(resp.usage) == USAGE
    assert_served_by(resp, side.provider, side.tools_model)
    assert_sent(upstream, side, side.tools_model, tools=True)


def test_tool_call_streamed(mock_client, upstream, side):
    chunks = list(
        mock_client.chat.completions.create(
            model=side.tools_model,
            messages=MESSAGES,
            tools=WEATHER_TOOLS,
            stream=True,
            stream_options={"include_usage": True},
        )
    )

    calls, finish_reasons = assemble_tool_calls(chunks)
    assert calls == {
        0: {"id": side.call_id, "name": "get_weather", "arguments": TOOL_CALL["arguments"]}
    }
    assert finish_reasons == ["tool_calls"]
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == ""
    assert chunks[-1].choices == []
    assert usage_tuple(chunks[-1].usage) == USAGE
    assert_served_by(chunks[-1], side.provider, side.tools_model)
    assert_sent(upstream, side, side.tools_model, stream=True, tools=True)


# --- Embeddings -----------------------------------------------------------------------------------


@pytest.mark.parametrize("side", [SIDES["openai"], SIDES["gemini"]], ids=["openai", "gemini"])
@pytest.mark.parametrize("inputs", ["embed me", ["embed me", "and me too"]], ids=["one", "list"])
def test_embeddings(mock_client, upstream, side, inputs):
    resp = mock_client.embeddings.create(model=side.model, input=inputs, encoding_format="float")

    texts = [inputs] if isinstance(inputs, str) else inputs
    assert resp.object == "list"
    assert resp.model == side.served
    assert [(d.object, d.index, d.embedding) for d in resp.data] == [
        ("embedding", i, embedding(i)) for i in range(len(texts))
    ]
    assert_served_by(resp, side.provider, side.served)
    [seen] = upstream.seen
    assert_key_sent(seen, side.provider)
    if side.provider == "gemini":
        # Gemini reports no usage for embeddings: the adapter estimates ceil(characters / 4).
        tokens = sum(math.ceil(len(t) / 4) for t in texts)
        contents = [{"content": {"parts": [{"text": t}]}} for t in texts]
        if isinstance(inputs, str):
            expected = (f"{GEMINI_PREFIX}gemini-mock:embedContent", contents[0])
        else:
            requests = [{**c, "model": "models/gemini-mock"} for c in contents]
            expected = (f"{GEMINI_PREFIX}gemini-mock:batchEmbedContents", {"requests": requests})
    else:
        tokens = 4  # the mock's figure
        body = {"model": side.served, "input": inputs, "encoding_format": "float"}
        expected = ("/v1/embeddings", body)
    assert (resp.usage.prompt_tokens, resp.usage.total_tokens) == (tokens, tokens)
    assert (seen.path, seen.body) == expected


def test_anthropic_serves_no_embeddings(mock_client, upstream):
    with pytest.raises(openai.BadRequestError) as exc:
        mock_client.embeddings.create(model="claude-mock", input="embed me")

    assert exc.value.code == "unsupported_endpoint"
    assert upstream.seen == []


# --- Provider errors, as the SDK raises them ------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "error", "status", "kind", "code", "body_of", "retry_after"),
    [
        (
            "claude-mock-529",
            openai.InternalServerError,
            503,
            "upstream_error",
            "provider_overloaded",
            "anthropic/error_overloaded.json",
            None,
        ),
        (
            "claude-mock-429",
            openai.RateLimitError,
            429,
            "rate_limit_exceeded",
            "rate_limit_exceeded",
            "anthropic/error_rate_limit.json",
            7,
        ),
        (
            "gemini-mock-400",
            openai.BadRequestError,
            400,
            "invalid_request_error",
            None,
            "gemini/error_invalid_argument.json",
            None,
        ),
        (
            "gemini-mock-503",
            openai.InternalServerError,
            503,
            "upstream_error",
            "provider_unavailable",
            "gemini/error_unavailable.json",
            None,
        ),
    ],
    ids=["anthropic-529", "anthropic-429", "gemini-400", "gemini-503"],
)
@STREAM_OR_NOT
def test_provider_errors_are_mapped(
    mock_client, upstream, model, error, status, kind, code, body_of, retry_after, stream
):
    with pytest.raises(error) as exc:
        mock_client.chat.completions.create(model=model, messages=MESSAGES, stream=stream)

    provider = body_of.split("/")[0]
    message = f"{provider}: {fixture(body_of)['error']['message'].rstrip()}"
    expected = {"message": message, "type": kind, "param": None, "code": code}
    if retry_after is not None:
        expected["retry_after"] = retry_after
    assert exc.value.status_code == status
    assert exc.value.body == expected
    header = exc.value.response.headers.get("retry-after")
    assert header == (None if retry_after is None else str(retry_after))
    assert exc.value.response.headers["x-sluice-provider"] == provider
    # 429 and 5xx are retried on the provider, unless a 429 asks for more than a second's pause
    # (then the next deployment is tried at once); a client error is final at once.
    quick_retry = status == 503 or (status == 429 and not (retry_after and retry_after > 1))
    tries = 1 + RETRIES[provider] if quick_retry else 1
    assert [sent_model(s) for s in upstream.seen] == [model] * tries


# --- Fallbacks ------------------------------------------------------------------------------------


def failed_attempts(log: Path, request_id: str) -> list[str]:
    """The providers whose attempts for `request_id` failed before answering, in the gateway's log
    order (the dead provider's attempts leave no trace at the mock)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", log.read_text(errors="replace"))
    return [
        re.search(r"\bprovider=(\S+)", line).group(1)
        for line in text.splitlines()
        if f"request_id={request_id}" in line and "upstream failed before answering" in line
    ]


@STREAM_OR_NOT
def test_fallback_chain_answers_from_the_last_deployment(
    mock_client, upstream, mock_gateway_dir, stream
):
    # Deployments: a closed port, Anthropic answering 529, Gemini too slow, the mock (conftest.py).
    raw = mock_client.with_options(timeout=10).chat.completions.with_raw_response.create(
        model="fallback-chain", messages=MESSAGES, stream=stream
    )
    if stream:
        chunks = list(raw.parse())
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        answer = chunks[-1]
    else:
        answer = raw.parse()
        text = answer.choices[0].message.content

    assert text == ANSWER
    assert raw.headers["x-sluice-provider"] == "mock"
    assert_served_by(answer, "mock", "mock-model")
    # Every failing deployment was tried, in order; the 529 one 1 + retries times.
    anthropic_tries = 1 + RETRIES["anthropic"]
    gemini_method = "streamGenerateContent?alt=sse" if stream else "generateContent"
    assert [(s.path, sent_model(s)) for s in upstream.seen] == [
        ("/anthropic/v1/messages", "claude-mock-529")
    ] * anthropic_tries + [
        (f"{GEMINI_PREFIX}gemini-mock-slow:{gemini_method}", "gemini-mock-slow"),
        ("/v1/chat/completions", "mock-model"),
    ]
    log = mock_gateway_dir / "stderr.log"
    assert failed_attempts(log, sluice_meta(answer)["request_id"]) == ["dead"] * (
        1 + RETRIES["dead"]
    ) + ["anthropic"] * anthropic_tries + ["gemini"]


def test_stream_that_breaks_off_ends_with_an_error_and_no_second_answer(
    mock_client, upstream, side
):
    # A generous client timeout: a gateway that hangs fails the test with a timeout error.
    stream = mock_client.with_options(timeout=10).chat.completions.create(
        model=f"stream-breaks-{side.name}", messages=MESSAGES, stream=True
    )
    text = ""
    with pytest.raises(openai.APIError) as exc:
        for chunk in stream:
            text += "".join(c.delta.content or "" for c in chunk.choices)

    assert not isinstance(exc.value, openai.APIConnectionError), exc.value
    assert text == "Hello", "the chunks before the break reach the client"
    assert exc.value.body == {
        "message": f"The stream from the provider `{side.provider}` broke off.",
        "type": "upstream_error",
        "param": None,
        "code": "bad_upstream_response",
    }
    # The answer had started: the next deployment is never asked (not even a little later).
    time.sleep(0.2)
    assert [sent_model(s) for s in upstream.seen] == [side.broken]
