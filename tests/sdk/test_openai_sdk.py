"""Acceptance tests: the official `openai` Python SDK against a real Sluice gateway.

Every request goes to the offline `echo` model, whose answers are fully determined by the request
(see the echo adapter), so the tests assert exact contents. Token counts are whitespace-separated
words: prompt_tokens over all messages' text, completion_tokens over the answer times `n`.
"""

from __future__ import annotations

import base64
import json
import math
import struct

import openai
import pytest
from sdk_helpers import WEATHER_TOOLS, assemble_tool_calls, sluice_meta, user

MODEL = "echo"

# A two-message conversation: 3 + 4 = 7 prompt words; the echo answers with the last user text.
SYSTEM = "You are terse."
PROMPT = "hello from the sdk"
MESSAGES = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": PROMPT}]
PROMPT_TOKENS = 7
ANSWER_TOKENS = 4


def assert_echo_meta(obj) -> str:
    """Asserts that `obj` was served by the echo provider; returns its request id."""
    meta = sluice_meta(obj)
    assert meta["provider"] == "echo"
    assert meta["model"] == "echo"
    assert isinstance(meta["request_id"], str) and meta["request_id"]
    return meta["request_id"]


# --- Chat completions -----------------------------------------------------------------------------


def test_chat_plain(client):
    resp = client.chat.completions.create(model=MODEL, messages=MESSAGES)

    assert resp.object == "chat.completion"
    assert resp.model == "echo"
    assert len(resp.choices) == 1
    choice = resp.choices[0]
    assert choice.index == 0
    assert choice.message.role == "assistant"
    assert choice.message.content == PROMPT
    assert choice.message.tool_calls is None
    assert choice.finish_reason == "stop"
    assert resp.usage.prompt_tokens == PROMPT_TOKENS
    assert resp.usage.completion_tokens == ANSWER_TOKENS
    assert resp.usage.total_tokens == PROMPT_TOKENS + ANSWER_TOKENS
    assert_echo_meta(resp)
    # The same metadata is visible through the SDK's plain-dict view.
    assert resp.to_dict()["sluice"] == sluice_meta(resp)


def test_chat_request_ids_are_unique(client):
    responses = [client.chat.completions.create(model=MODEL, messages=MESSAGES) for _ in range(3)]
    assert len({assert_echo_meta(r) for r in responses}) == 3


def test_chat_through_alias_resolves_to_the_model(client):
    resp = client.chat.completions.create(model="echo-1", messages=user("via the alias"))

    assert resp.choices[0].message.content == "via the alias"
    assert resp.model == "echo"
    assert_echo_meta(resp)


def _stream_chat(client, **kwargs):
    """Streams a chat completion; returns (joined text, chunks)."""
    chunks = list(client.chat.completions.create(model=MODEL, stream=True, **kwargs))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    return text, chunks


def test_chat_stream(client):
    text, chunks = _stream_chat(client, messages=MESSAGES)

    assert text == PROMPT
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1, "every chunk of one stream shares its id"
    assert chunks[0].choices[0].delta.role == "assistant"
    # Only the last chunk with a choice closes it; the final chunk has no choices, only metadata.
    finish_reasons = [c.choices[0].finish_reason for c in chunks[:-1]]
    assert finish_reasons == [None] * (len(finish_reasons) - 1) + ["stop"]
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is None, "usage is only sent when stream_options.include_usage is set"
    assert_echo_meta(last)


def test_chat_stream_include_usage_matches_unstreamed(client):
    plain = client.chat.completions.create(model=MODEL, messages=MESSAGES)
    text, chunks = _stream_chat(client, messages=MESSAGES, stream_options={"include_usage": True})

    assert text == plain.choices[0].message.content
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert (last.usage.prompt_tokens, last.usage.completion_tokens, last.usage.total_tokens) == (
        plain.usage.prompt_tokens,
        plain.usage.completion_tokens,
        plain.usage.total_tokens,
    )
    assert all(c.usage is None for c in chunks[:-1])


def test_chat_n_choices(client):
    resp = client.chat.completions.create(model=MODEL, messages=user("three of these"), n=3)

    assert [c.index for c in resp.choices] == [0, 1, 2]
    assert [c.message.content for c in resp.choices] == ["three of these"] * 3
    assert [c.finish_reason for c in resp.choices] == ["stop"] * 3
    assert resp.usage.prompt_tokens == 3
    assert resp.usage.completion_tokens == 3 * 3


def test_chat_stream_n_choices(client):
    chunks = list(
        client.chat.completions.create(model=MODEL, messages=user("two streams"), n=2, stream=True)
    )

    texts = {0: "", 1: ""}
    for chunk in chunks:
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""
    assert texts == {0: "two streams", 1: "two streams"}
    assert chunks[-1].choices == []


@pytest.mark.parametrize("stop", ["END", ["zzz", "END"]])
def test_chat_stop_cuts_before_the_stop_string(client, stop):
    resp = client.chat.completions.create(
        model=MODEL, messages=user("alpha beta END gamma delta"), stop=stop
    )

    assert resp.choices[0].message.content == "alpha beta "
    assert resp.choices[0].finish_reason == "stop"
    assert resp.usage.completion_tokens == 2


@pytest.mark.parametrize("limit_field", ["max_tokens", "max_completion_tokens"])
def test_chat_token_limit_truncates_with_length(client, limit_field):
    resp = client.chat.completions.create(
        model=MODEL, messages=user("one two three four five"), **{limit_field: 2}
    )

    assert resp.choices[0].message.content == "one two"
    assert resp.choices[0].finish_reason == "length"
    assert resp.usage.completion_tokens == 2


@pytest.mark.parametrize(
    "response_format",
    [
        {"type": "json_object"},
        {
            "type": "json_schema",
            "json_schema": {
                "name": "echo",
                "strict": True,
                "schema": {
                    "type": "object",
                    "properties": {"echo": {"type": "string"}},
                    "required": ["echo"],
                    "additionalProperties": False,
                },
            },
        },
    ],
    ids=["json_object", "json_schema"],
)
def test_chat_json_response_format(client, response_format):
    resp = client.chat.completions.create(
        model=MODEL, messages=user('say "hi" as JSON'), response_format=response_format
    )

    assert json.loads(resp.choices[0].message.content) == {"echo": 'say "hi" as JSON'}
    assert resp.choices[0].finish_reason == "stop"


@pytest.mark.parametrize(
    ("tool_choice", "tools", "called"),
    [
        ({"type": "function", "function": {"name": "get_time"}}, WEATHER_TOOLS, "get_time"),
        ("required", WEATHER_TOOLS[:1], "get_weather"),
    ],
    ids=["named", "required"],
)
def test_chat_forced_tool_call(client, tool_choice, tools, called):
    resp = client.chat.completions.create(
        model=MODEL, messages=user("weather in Paris"), tools=tools, tool_choice=tool_choice
    )

    choice = resp.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert len(choice.message.tool_calls) == 1
    call = choice.message.tool_calls[0]
    assert call.type == "function"
    assert call.id
    assert call.function.name == called
    assert json.loads(call.function.arguments) == {"echo": "weather in Paris"}


def test_chat_forced_tool_call_streamed(client):
    plain = client.chat.completions.create(
        model=MODEL,
        messages=user("weather in Paris"),
        tools=WEATHER_TOOLS,
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    chunks = list(
        client.chat.completions.create(
            model=MODEL,
            messages=user("weather in Paris"),
            tools=WEATHER_TOOLS,
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
            stream=True,
        )
    )

    calls, finish_reasons = assemble_tool_calls(chunks)

    assert list(calls) == [0]
    assert calls[0]["id"]
    assert calls[0]["name"] == "get_weather"
    assert json.loads(calls[0]["arguments"]) == {"echo": "weather in Paris"}
    assert calls[0]["arguments"] == plain.choices[0].message.tool_calls[0].function.arguments
    assert finish_reasons == ["tool_calls"]
    assert chunks[-1].choices == []


def test_chat_image_url_part(client):
    resp = client.chat.completions.create(
        model=MODEL,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is"},
                    {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
                    {"type": "text", "text": "in this picture"},
                ],
            }
        ],
    )

    assert resp.choices[0].message.content == "what is [image] in this picture"
    assert resp.usage.completion_tokens == 6


def test_chat_accepts_user_id(client):
    resp = client.chat.completions.create(
        model=MODEL, messages=user("tagged request"), extra_body={"user_id": "u-1"}
    )

    assert resp.choices[0].message.content == "tagged request"
    assert_echo_meta(resp)


def test_raw_response_headers_match_metadata(client):
    raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES)
    resp = raw.parse()

    assert raw.status_code == 200
    assert raw.headers["x-request-id"] == assert_echo_meta(resp)
    assert raw.headers["x-sluice-overhead-us"].isdigit()
    assert resp.choices[0].message.content == PROMPT


# --- Completions ----------------------------------------------------------------------------------


def test_completion_string_prompt(client):
    resp = client.completions.create(model=MODEL, prompt="once upon a time")

    assert resp.object == "text_completion"
    assert [(c.index, c.text, c.finish_reason) for c in resp.choices] == [
        (0, "once upon a time", "stop")
    ]
    usage = resp.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (4, 4, 8)
    assert_echo_meta(resp)


def test_completion_list_prompt_with_n_and_suffix(client):
    resp = client.completions.create(
        model=MODEL, prompt=["first prompt", "second"], n=2, suffix=" end"
    )

    # n answers per prompt, prompt by prompt.
    assert [(c.index, c.text) for c in resp.choices] == [
        (0, "first prompt end"),
        (1, "first prompt end"),
        (2, "second end"),
        (3, "second end"),
    ]
    assert resp.usage.prompt_tokens == 3
    assert resp.usage.completion_tokens == 3 + 3 + 2 + 2


def test_completion_token_prompt(client):
    resp = client.completions.create(model=MODEL, prompt=[[1, 2, 3]])

    assert resp.choices[0].text == "1 2 3"


def test_completion_stream(client):
    chunks = list(
        client.completions.create(
            model=MODEL,
            prompt="stream this",
            suffix=" please",
            stream=True,
            stream_options={"include_usage": True},
        )
    )

    assert "".join(c.choices[0].text for c in chunks if c.choices) == "stream this please"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    last = chunks[-1]
    assert last.choices == []
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (2, 3)
    assert_echo_meta(last)


# --- Embeddings -----------------------------------------------------------------------------------


def test_embeddings_float(client):
    first = client.embeddings.create(model=MODEL, input="embed me", encoding_format="float")
    again = client.embeddings.create(model=MODEL, input="embed me", encoding_format="float")
    other = client.embeddings.create(model=MODEL, input="something else", encoding_format="float")

    assert first.object == "list"
    assert len(first.data) == 1 and first.data[0].index == 0
    vector = first.data[0].embedding
    assert len(vector) == 16
    assert math.isclose(math.fsum(x * x for x in vector), 1.0, abs_tol=1e-6)
    assert again.data[0].embedding == vector, "embeddings are deterministic"
    assert other.data[0].embedding != vector
    assert first.usage.prompt_tokens == 2
    assert_echo_meta(first)


def test_embeddings_base64_decodes_to_the_float_vector(client):
    floats = client.embeddings.create(model=MODEL, input="embed me", encoding_format="float")
    encoded = client.embeddings.create(model=MODEL, input="embed me", encoding_format="base64")

    packed = base64.b64decode(encoded.data[0].embedding)
    decoded = struct.unpack(f"<{len(packed) // 4}f", packed)
    expected = floats.data[0].embedding
    assert len(decoded) == len(expected) == 16
    assert all(abs(a - b) <= 1e-6 for a, b in zip(decoded, expected))


def test_embeddings_sdk_default_encoding(client):
    # Without encoding_format the SDK asks for base64 and decodes it itself.
    default = client.embeddings.create(model=MODEL, input="embed me")
    floats = client.embeddings.create(model=MODEL, input="embed me", encoding_format="float")

    decoded, expected = default.data[0].embedding, floats.data[0].embedding
    assert len(decoded) == len(expected) == 16
    assert all(abs(a - b) <= 1e-6 for a, b in zip(decoded, expected))


def test_embeddings_list_input_and_dimensions(client):
    def embed(text_or_texts):
        return client.embeddings.create(
            model=MODEL, input=text_or_texts, dimensions=8, encoding_format="float"
        )

    resp = embed(["first", "second"])
    singles = [embed(text).data[0].embedding for text in ("first", "second")]

    assert [d.index for d in resp.data] == [0, 1]
    assert [len(d.embedding) for d in resp.data] == [8, 8]
    assert [d.embedding for d in resp.data] == singles
    for d in resp.data:
        assert math.isclose(math.fsum(x * x for x in d.embedding), 1.0, abs_tol=1e-6)


# --- Audio speech ---------------------------------------------------------------------------------

# The echo speaks 60 ms of 16-bit 24 kHz silence per character of input.
SPEECH_INPUT = "hello"
SPEECH_PCM_BYTES = len(SPEECH_INPUT) * 60 * 24 * 2


@pytest.mark.parametrize(
    ("response_format", "content_type", "header"),
    [("wav", "audio/wav", 44), ("pcm", "audio/pcm", 0)],
)
def test_speech(client, response_format, content_type, header):
    raw = client.audio.speech.with_raw_response.create(
        model=MODEL, voice="alloy", input=SPEECH_INPUT, response_format=response_format
    )
    audio = raw.parse().content

    assert raw.status_code == 200
    assert raw.headers["content-type"] == content_type
    assert raw.headers.get("x-request-id")
    assert len(audio) == header + SPEECH_PCM_BYTES
    if response_format == "wav":
        assert audio[:4] == b"RIFF" and audio[8:16] == b"WAVEfmt "
    assert audio[header:] == bytes(SPEECH_PCM_BYTES)


# --- Images ---------------------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DATA_URL_PREFIX = "data:image/png;base64,"


def test_images_b64_json(client):
    resp = client.images.generate(model=MODEL, prompt="a cat", n=2, response_format="b64_json")

    assert len(resp.data) == 2
    for image in resp.data:
        assert base64.b64decode(image.b64_json).startswith(PNG_SIGNATURE)
        assert image.url is None
        assert image.revised_prompt == "a cat"
    assert_echo_meta(resp)


def test_images_url_is_a_data_url(client):
    resp = client.images.generate(model=MODEL, prompt="a dog", n=2, response_format="url")

    assert len(resp.data) == 2
    for image in resp.data:
        assert image.url.startswith(DATA_URL_PREFIX)
        assert base64.b64decode(image.url[len(DATA_URL_PREFIX) :]).startswith(PNG_SIGNATURE)
        assert image.b64_json is None


# --- Models ---------------------------------------------------------------------------------------


def test_models_list(client):
    ids = [m.id for m in client.models.list()]

    assert "echo" in ids
    assert "gpt-4o-mini" in ids


def test_models_retrieve(client):
    model = client.models.retrieve("echo")

    assert model.id == "echo"
    assert model.object == "model"
    assert model.owned_by == "echo"


@pytest.mark.parametrize("call", ["list", "retrieve"])
def test_models_responses_carry_gateway_headers(client, call):
    models = client.models.with_raw_response
    raw = models.list() if call == "list" else models.retrieve("echo")

    assert raw.status_code == 200
    assert raw.headers.get("x-request-id")
    assert (raw.headers.get("x-sluice-overhead-us") or "").isdigit()


# --- Errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["chat", "embeddings", "models"])
def test_bad_key_is_authentication_error(bad_client, endpoint):
    calls = {
        "chat": lambda: bad_client.chat.completions.create(model=MODEL, messages=user("hi")),
        "embeddings": lambda: bad_client.embeddings.create(model=MODEL, input="hi"),
        "models": lambda: bad_client.models.list(),
    }
    with pytest.raises(openai.AuthenticationError) as exc:
        calls[endpoint]()

    assert exc.value.status_code == 401
    assert exc.value.code == "invalid_api_key"
    assert exc.value.body["code"] == "invalid_api_key"


def test_unknown_model_in_chat_is_not_found(client):
    with pytest.raises(openai.NotFoundError) as exc:
        client.chat.completions.create(model="no-such-model", messages=user("hi"))

    assert exc.value.status_code == 404
    assert exc.value.code == "model_not_found"
    assert exc.value.body["param"] == "model"


def test_unknown_model_retrieve_is_not_found(client):
    with pytest.raises(openai.NotFoundError) as exc:
        client.models.retrieve("no-such-model")

    assert exc.value.code == "model_not_found"


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"body": {"model": MODEL}},
        {"body": {"model": MODEL, "messages": "not a list"}},
        {"content": b"{not json", "options": {"headers": {"Content-Type": "application/json"}}},
    ],
    ids=["missing-messages", "messages-not-a-list", "invalid-json"],
)
def test_malformed_chat_request_is_bad_request(client, request_kwargs):
    # The SDK's typed methods refuse to build these requests, so they go through its raw `post`.
    with pytest.raises(openai.BadRequestError) as exc:
        client.post("/chat/completions", cast_to=object, **request_kwargs)

    assert exc.value.status_code == 400
    assert exc.value.body["type"] == "invalid_request_error"


def test_empty_messages_is_bad_request(client):
    # OpenAI rejects an empty conversation with 400; an OpenAI-compatible gateway must too.
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=MODEL, messages=[])


def test_unconfigured_provider_is_503(client):
    with pytest.raises(openai.APIStatusError) as exc:
        client.chat.completions.create(model="gpt-4o-mini", messages=user("hi"))

    assert exc.value.status_code == 503
    assert exc.value.code == "provider_not_configured"


def test_file_part_over_10_mb_is_bad_request(client):
    data = base64.b64encode(bytes(11 << 20)).decode()
    file_part = {
        "type": "file",
        "file": {"filename": "big.pdf", "file_data": f"data:application/pdf;base64,{data}"},
    }
    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": [{"type": "text", "text": "read"}, file_part]}],
        )

    assert exc.value.code == "file_too_large"
    assert exc.value.body["param"] == "messages"
    assert "10 MB" in exc.value.body["message"] and "big.pdf" in exc.value.body["message"]
