"""Conformance: the official `openai` SDK against a gateway in front of the mock upstream.

The gateway (`mock_gateway` in conftest.py) routes `gpt-mock` (upstream name `mock-model`) and the
`mock-*` models to the mock upstream (mock_upstream.py), whose answers are fixed, so the tests
assert exact contents on both sides: what the client got, and what the upstream was sent. Every
request also passes the `chaos` policy plugin, which fails on demand (header `x-chaos`).
"""

from __future__ import annotations

import base64
import json

import openai
import pytest
from mock_upstream import EMBEDDING, PNG_BASE64, SPEECH, TOOL_CALL
from sdk_helpers import WEATHER_TOOLS, assemble_tool_calls, sluice_meta, user

MODEL = "gpt-mock"
CHAT = user("hello mock")
CHAT_PATH = "/v1/chat/completions"
# Parameters the gateway must hand to the upstream as they are.
PASSED_THROUGH = {
    "response_format": {
        "type": "json_schema",
        "json_schema": {"name": "reply", "schema": {"type": "object"}, "strict": True},
    },
    "tools": WEATHER_TOOLS,
    "temperature": 0.25,
    "stop": ["END", "zzz"],
    "n": 2,
}
# prompt, completion, total and cached tokens, as the mock reports them.
MOCK_USAGE = (11, 3, 14, 2)


def assert_mock_meta(obj, model: str = "mock-model") -> None:
    """Asserts that `obj` was served by the mock provider, after the chaos plugin let it through."""
    meta = sluice_meta(obj)
    assert (meta["provider"], meta["model"], meta["chaos"]) == ("mock", model, "ok")
    assert meta["request_id"].startswith("req_")


def only_request(upstream, path: str = CHAT_PATH):
    """The one request the upstream received, at `path`."""
    assert [s.path for s in upstream.seen] == [path]
    seen = upstream.seen[0]
    assert seen.headers["authorization"] == "Bearer sk-upstream"
    return seen


def usage_tuple(usage) -> tuple[int, int, int, int]:
    return (
        usage.prompt_tokens,
        usage.completion_tokens,
        usage.total_tokens,
        usage.prompt_tokens_details.cached_tokens,
    )



# --- Chat completions -----------------------------------------------------------------------------


def test_chat(mock_client, upstream):
    raw = mock_client.chat.completions.with_raw_response.create(
        model=MODEL, messages=CHAT, extra_body={"user_id": "u-1"}, **PASSED_THROUGH
    )
    resp = raw.parse()

    assert raw.headers["x-chaos-seen"] == "1"
    assert raw.headers["x-request-id"] == sluice_meta(resp)["request_id"]
    assert resp.model == "mock-model"
    assert [(c.index, c.message.content, c.finish_reason) for c in resp.choices] == [
        (0, "Hello from mock", "stop")
    ]
    assert usage_tuple(resp.usage) == MOCK_USAGE
    assert_mock_meta(resp)
    # The upstream model, no user_id, no stream options, every other parameter untouched.
    assert only_request(upstream).body == {
        "model": "mock-model",
        "messages": CHAT,
        **PASSED_THROUGH,
    }


@pytest.mark.parametrize("include_usage", [False, True], ids=["usage-not-asked", "usage-asked"])
def test_chat_stream(mock_client, upstream, include_usage):
    options = {"stream_options": {"include_usage": True}} if include_usage else {}
    chunks = list(
        mock_client.chat.completions.create(
            model=MODEL,
            messages=CHAT,
            stream=True,
            extra_body={"user_id": "u-1"},
            **options,
            **PASSED_THROUGH,
        )
    )

    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == (
        "Hello from mock"
    )
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    # The mock's five chunks, then one without choices that carries the metadata (and the usage,
    # when the client asked for it).
    assert len(chunks) == 6
    last = chunks[-1]
    assert last.choices == []
    assert_mock_meta(last)
    if include_usage:
        assert usage_tuple(last.usage) == MOCK_USAGE
    else:
        assert last.usage is None
    assert all(c.usage is None for c in chunks[:-1])
    # The gateway always asks the upstream for usage.
    assert only_request(upstream).body == {
        "model": "mock-model",
        "messages": CHAT,
        "stream": True,
        "stream_options": {"include_usage": True},
        **PASSED_THROUGH,
    }


def test_tool_call(mock_client, upstream):
    resp = mock_client.chat.completions.create(
        model="mock-tools", messages=user("weather in Paris?"), tools=WEATHER_TOOLS
    )

    choice = resp.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert [(c.id, c.type, c.function.name) for c in choice.message.tool_calls] == [
        (TOOL_CALL["id"], "function", "get_weather")
    ]
    assert choice.message.tool_calls[0].function.arguments == TOOL_CALL["arguments"]
    assert json.loads(choice.message.tool_calls[0].function.arguments) == {"city": "Paris"}
    assert_mock_meta(resp, model="mock-tools")
    assert only_request(upstream).body["tools"] == WEATHER_TOOLS


def test_tool_call_streamed(mock_client, upstream):
    chunks = list(
        mock_client.chat.completions.create(
            model="mock-tools", messages=user("weather in Paris?"), tools=WEATHER_TOOLS, stream=True
        )
    )

    calls, finish_reasons = assemble_tool_calls(chunks)
    assert calls == {0: {"id": "call_mock", "name": "get_weather", "arguments": '{"city":"Paris"}'}}
    assert finish_reasons == ["tool_calls"]
    assert chunks[-1].choices == []
    assert_mock_meta(chunks[-1], model="mock-tools")
    assert only_request(upstream).body["model"] == "mock-tools"


# --- Embeddings, speech, images -------------------------------------------------------------------


def test_embeddings(mock_client, upstream):
    resp = mock_client.embeddings.create(model=MODEL, input="embed me", encoding_format="float")

    assert [(d.index, d.embedding) for d in resp.data] == [(0, EMBEDDING)]
    assert (resp.usage.prompt_tokens, resp.usage.total_tokens) == (4, 4)
    assert_mock_meta(resp)
    assert only_request(upstream, "/v1/embeddings").body == {
        "model": "mock-model",
        "input": "embed me",
        "encoding_format": "float",
    }


def test_speech(mock_client, upstream):
    raw = mock_client.audio.speech.with_raw_response.create(
        model=MODEL, voice="alloy", input="say it", response_format="mp3"
    )

    assert raw.status_code == 200
    assert raw.headers["content-type"] == "audio/mpeg"
    assert raw.headers["x-chaos-seen"] == "1"
    assert raw.parse().content == SPEECH
    assert only_request(upstream, "/v1/audio/speech").body == {
        "model": "mock-model",
        "voice": "alloy",
        "input": "say it",
        "response_format": "mp3",
    }


def test_image_generation(mock_client, upstream):
    resp = mock_client.images.generate(model=MODEL, prompt="a mock cat", response_format="b64_json")

    assert resp.created == 1
    assert [(d.b64_json, d.revised_prompt) for d in resp.data] == [(PNG_BASE64, "a mock cat")]
    assert base64.b64decode(resp.data[0].b64_json).startswith(b"\x89PNG\r\n\x1a\n")
    assert_mock_meta(resp)
    assert only_request(upstream, "/v1/images/generations").body == {
        "model": "mock-model",
        "prompt": "a mock cat",
        "response_format": "b64_json",
    }


# Each endpoint once through the bare path: (call, what it returns, upstream path).
BARE_CALLS = {
    "chat": (
        lambda c: c.chat.completions.create(model=MODEL, messages=CHAT).choices[0].message.content,
        "Hello from mock",
        CHAT_PATH,
    ),
    "embeddings": (
        lambda c: c.embeddings.create(model=MODEL, input="x", encoding_format="float")
        .data[0]
        .embedding,
        EMBEDDING,
        "/v1/embeddings",
    ),
    "speech": (
        lambda c: c.audio.speech.create(model=MODEL, voice="alloy", input="x").content,
        SPEECH,
        "/v1/audio/speech",
    ),
    "images": (
        lambda c: c.images.generate(model=MODEL, prompt="x").data[0].b64_json,
        PNG_BASE64,
        "/v1/images/generations",
    ),
}


@pytest.mark.parametrize("endpoint", list(BARE_CALLS))
def test_bare_paths(mock_client, mock_gateway, upstream, endpoint):
    call, expected, upstream_path = BARE_CALLS[endpoint]
    assert call(mock_client.with_options(base_url=mock_gateway)) == expected
    assert only_request(upstream, upstream_path).body["model"] == "mock-model"


# --- Errors ---------------------------------------------------------------------------------------


# An upstream that fails before it answers fails a streamed request the same way.
STREAM_OR_NOT = pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])


@STREAM_OR_NOT
def test_upstream_rate_limit(mock_client, upstream, stream):
    with pytest.raises(openai.RateLimitError) as exc:
        mock_client.chat.completions.create(model="mock-429", messages=CHAT, stream=stream)

    assert exc.value.status_code == 429
    assert exc.value.body == {
        "message": "Rate limit reached for requests",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
        "retry_after": 7,
    }
    assert exc.value.response.headers["retry-after"] == "7"
    assert len(upstream.seen) == 1, "the gateway does not retry"


@pytest.mark.parametrize(
    ("model", "error", "status", "code"),
    [
        ("mock-422", openai.UnprocessableEntityError, 422, "unprocessable_entity"),
        ("mock-500-html", openai.InternalServerError, 502, "bad_upstream_response"),
        ("dead-model", openai.InternalServerError, 502, "upstream_unreachable"),
        ("mock-slow", openai.InternalServerError, 504, "upstream_timeout"),
    ],
)
@STREAM_OR_NOT
def test_upstream_failures_are_typed(mock_client, model, error, status, code, stream):
    with pytest.raises(error) as exc:
        mock_client.chat.completions.create(model=model, messages=CHAT, stream=stream)

    assert exc.value.status_code == status
    assert exc.value.code == code
    assert set(exc.value.body) == {"message", "type", "param", "code"}
    assert "html" not in exc.value.response.text.lower(), "no upstream internals in the answer"


@pytest.mark.parametrize(
    ("mode", "error", "status", "code", "retry_after"),
    [
        ("trap", openai.InternalServerError, 500, "plugin_failed", None),
        ("oom", openai.InternalServerError, 500, "plugin_out_of_memory", None),
        ("loop", openai.InternalServerError, 503, "plugin_timeout", None),
        ("deny", openai.PermissionDeniedError, 403, "forbidden", None),
        ("ratelimit", openai.RateLimitError, 429, "rate_limit_exceeded", 3),
    ],
)
def test_chaos_policy_failures_are_typed(
    mock_client, upstream, mode, error, status, code, retry_after
):
    with pytest.raises(error) as exc:
        mock_client.chat.completions.create(
            model=MODEL, messages=CHAT, extra_headers={"x-chaos": mode}
        )

    assert exc.value.status_code == status
    assert exc.value.code == code
    assert "chaos" in exc.value.body["message"], "the message names the plugin"
    assert exc.value.body.get("retry_after") == retry_after
    header = exc.value.response.headers.get("retry-after")
    assert header == (None if retry_after is None else str(retry_after))
    assert upstream.seen == [], "a refused request never reaches the upstream"


def test_body_over_max_body_bytes_is_413(mock_client, upstream):
    with pytest.raises(openai.APIStatusError) as exc:
        mock_client.chat.completions.create(model=MODEL, messages=user("x" * (1 << 20)))

    assert exc.value.status_code == 413
    assert exc.value.code == "request_too_large"
    assert upstream.seen == []


# --- Streams that go wrong ------------------------------------------------------------------------


def test_stream_broken_by_the_upstream_raises(mock_client):
    # A generous client timeout: a gateway that hangs fails the test with a timeout error.
    stream = mock_client.with_options(timeout=10).chat.completions.create(
        model="mock-broken", messages=CHAT, stream=True
    )
    text = ""
    with pytest.raises(openai.APIError) as exc:
        for chunk in stream:
            text += chunk.choices[0].delta.content or ""

    assert not isinstance(exc.value, openai.APIConnectionError), exc.value
    assert text == "Hello", "the chunks before the break reach the client"
    assert exc.value.body["code"] == "bad_upstream_response"
    assert exc.value.body["message"] == "The stream from the provider `mock` broke off."


def test_client_going_away_cancels_the_upstream(mock_client, upstream):
    stream = mock_client.chat.completions.create(model="mock-endless", messages=CHAT, stream=True)
    first = [next(stream), next(stream)]
    stream.close()

    assert [c.choices[0].delta.content for c in first] == ["tick", "tick"]
    assert upstream.endless_cut.wait(3), "the upstream is still being read after the client left"
