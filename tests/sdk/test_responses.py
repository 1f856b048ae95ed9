"""OpenAI's Responses API (`POST /v1/responses`, `GET`/`DELETE /v1/responses/{id}`) through the
official `openai` SDK, in front of each of the mock gateway's three providers (conftest.py).

The mock's `*-agent` models answer according to the request (mock_upstream.py, `agent_plan`). The
Anthropic and Gemini providers are reached through the translation to chat completions; the
OpenAI-shaped provider speaks Responses itself, so the request reaches its `/responses` untouched
(the native lane). The gateway keeps the responses it answers, per owner, and the conversation
that led to each, so `previous_response_id` works on any provider, and moves between providers.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Iterator

import openai
import pytest
from conftest import DEMO_KEY, OTHER_KEY
from mock_upstream import AGENT_CALL_ID, QUOTE
from sdk_helpers import AGENT_SIDES, AgentSide, provider_path, received, usage_row

SYSTEM = "You are terse."
PROMPT = "hello responses"
ANSWER = "Hello from mock"
WEATHER_PROMPT = "weather in Paris"
TOOL_RESULT = "18 degrees and sunny"
# input, output, total and cached tokens, as every side of the mock reports them.
USAGE = (11, 3, 14, 2)
TOOLS = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
    {
        "type": "function",
        "name": "get_time",
        "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}},
    },
]
CALLED = ("get_weather", {"city": WEATHER_PROMPT})
TEXT_EVENTS = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
]
CALL_EVENTS = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "response.output_item.done",
    "response.completed",
]
STREAM_OR_NOT = pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])


@pytest.fixture(params=list(AGENT_SIDES))
def side(request) -> AgentSide:
    return AGENT_SIDES[request.param]


@pytest.fixture(scope="session")
def other_client(mock_gateway: str) -> Iterator[openai.OpenAI]:
    """An SDK client of the mock gateway with the key of another owner than the demo key's."""
    with openai.OpenAI(base_url=f"{mock_gateway}/v1", api_key=OTHER_KEY, max_retries=0) as c:
        yield c


def sent(upstream, side: AgentSide, stream: bool = False):
    """The one request the provider received (a Responses request on the native lane)."""
    assert [s.path for s in upstream.seen] == [provider_path(side, stream, responses=True)]
    seen = upstream.seen[0]
    assert DEMO_KEY not in json.dumps(seen.headers)
    if side.provider == "mock":
        assert seen.headers["authorization"] == "Bearer sk-upstream"
        assert "previous_response_id" not in seen.body, "the gateway sends the conversation"
    return seen


def usage_of(r) -> tuple[int, int, int, int]:
    u = r.usage
    return (u.input_tokens, u.output_tokens, u.total_tokens, u.input_tokens_details.cached_tokens)


def without_meta(r) -> dict:
    """The Response as a dict, without the gateway's metadata object (it names the request)."""
    d = r.model_dump()
    d.pop("sluice", None)
    return d


def respond(client, stream: bool, **params):
    """A Response, whole or as the SDK's stream helper assembles it."""
    if not stream:
        return client.responses.create(**params)
    with client.responses.stream(**params) as s:
        return s.get_final_response()


def only_call(r):
    [call] = r.output
    assert call.type == "function_call"
    return call


# --- Text -----------------------------------------------------------------------------------------


def test_create_text(mock_client, upstream, side):
    r = mock_client.responses.create(model=side.model, input=PROMPT)

    assert (r.object, r.status, r.model) == ("response", "completed", side.model)
    assert r.id.startswith("resp_")
    assert r.output_text == ANSWER
    [item] = r.output
    assert (item.type, item.role, item.status) == ("message", "assistant", "completed")
    assert [(c.type, c.text) for c in item.content] == [("output_text", ANSWER)]
    assert usage_of(r) == USAGE
    assert received(sent(upstream, side)) == (None, [("user", PROMPT)], [])


def test_instructions(mock_client, upstream, side):
    r = mock_client.responses.create(model=side.model, instructions=SYSTEM, input=PROMPT)

    assert r.output_text == ANSWER
    assert r.instructions == SYSTEM
    assert received(sent(upstream, side)) == (SYSTEM, [("user", PROMPT)], [])


# --- Function calls, and previous_response_id -----------------------------------------------------


@STREAM_OR_NOT
def test_function_call_then_output(mock_client, upstream, side, stream):
    first = respond(
        mock_client,
        stream,
        model=side.model,
        input=[{"role": "user", "content": WEATHER_PROMPT}],
        tools=TOOLS,
    )

    assert first.status == "completed"
    call = only_call(first)
    assert (call.name, json.loads(call.arguments)) == CALLED
    assert call.call_id
    if side.provider == "mock":
        assert call.call_id == AGENT_CALL_ID
    assert [t.name for t in first.tools] == ["get_weather", "get_time"]
    assert usage_of(first) == USAGE
    assert received(sent(upstream, side, stream)) == (
        None,
        [("user", WEATHER_PROMPT)],
        ["get_weather", "get_time"],
    )

    upstream.reset()
    output = {"type": "function_call_output", "call_id": call.call_id, "output": TOOL_RESULT}
    second = respond(
        mock_client,
        stream,
        model=side.model,
        previous_response_id=first.id,
        input=[output],
        tools=TOOLS,
    )

    assert second.output_text == QUOTE + TOOL_RESULT
    assert second.id != first.id
    # The gateway sent the whole conversation: the prompt, the call, its output.
    assert received(sent(upstream, side, stream)).turns == [
        ("user", WEATHER_PROMPT),
        ("assistant", "call", *CALLED),
        ("tool", TOOL_RESULT),
    ]
    # The Response names the one it continues, as OpenAI's do (and as it is stored).
    assert second.previous_response_id == first.id
    assert mock_client.responses.retrieve(second.id).previous_response_id == first.id


@pytest.mark.parametrize(
    ("first_side", "second_side"),
    [
        (AGENT_SIDES["gemini"], AGENT_SIDES["openai"]),
        (AGENT_SIDES["openai"], AGENT_SIDES["anthropic"]),
    ],
    ids=["gemini-then-openai", "openai-then-anthropic"],
)
def test_conversation_moves_between_providers(mock_client, upstream, first_side, second_side):
    first = mock_client.responses.create(model=first_side.model, input=WEATHER_PROMPT, tools=TOOLS)
    call = only_call(first)
    upstream.reset()

    output = {"type": "function_call_output", "call_id": call.call_id, "output": TOOL_RESULT}
    second = mock_client.responses.create(
        model=second_side.model, previous_response_id=first.id, input=[output], tools=TOOLS
    )

    assert second.output_text == QUOTE + TOOL_RESULT
    assert received(sent(upstream, second_side)).turns == [
        ("user", WEATHER_PROMPT),
        ("assistant", "call", *CALLED),
        ("tool", TOOL_RESULT),
    ]


def test_a_text_turn_continues_a_text_conversation(mock_client, upstream, side):
    first = mock_client.responses.create(model=side.model, instructions=SYSTEM, input=PROMPT)
    upstream.reset()

    second = mock_client.responses.create(
        model=side.model, previous_response_id=first.id, input="and again"
    )

    assert second.output_text == ANSWER
    # Instructions are not carried over (OpenAI's rule): only the items are.
    assert received(sent(upstream, side)) == (
        None,
        [("user", PROMPT), ("assistant", ANSWER), ("user", "and again")],
        [],
    )


# --- Streams --------------------------------------------------------------------------------------


def squeeze(kinds: list[str]) -> list[str]:
    """The event types with repeats in a row folded into one."""
    return [k for i, k in enumerate(kinds) if i == 0 or kinds[i - 1] != k]


def test_stream_events_in_order(mock_client, upstream, side):
    events = list(mock_client.responses.create(model=side.model, input=PROMPT, stream=True))

    assert squeeze([e.type for e in events]) == TEXT_EVENTS
    assert [e.sequence_number for e in events] == list(range(len(events)))
    created, done = events[0].response, events[-1].response
    assert created.id == done.id and created.status in ("in_progress", "queued")
    assert (done.status, done.output_text) == ("completed", ANSWER)
    assert usage_of(done) == USAGE
    deltas = [e for e in events if e.type == "response.output_text.delta"]
    assert "".join(e.delta for e in deltas) == ANSWER
    added = next(e for e in events if e.type == "response.output_item.added")
    finished = next(e for e in events if e.type == "response.output_item.done")
    assert {e.item_id for e in deltas} == {added.item.id} == {finished.item.id}
    text_done = next(e for e in events if e.type == "response.output_text.done")
    assert text_done.text == ANSWER
    assert received(sent(upstream, side, stream=True)) == (None, [("user", PROMPT)], [])


def test_stream_function_call_events(mock_client, upstream, side):
    events = list(
        mock_client.responses.create(
            model=side.model, input=WEATHER_PROMPT, tools=TOOLS, stream=True
        )
    )

    assert squeeze([e.type for e in events]) == CALL_EVENTS
    args = "".join(e.delta for e in events if e.type == "response.function_call_arguments.delta")
    assert json.loads(args) == CALLED[1]
    args_done = next(e for e in events if e.type == "response.function_call_arguments.done")
    assert args_done.arguments == args
    item = next(e for e in events if e.type == "response.output_item.done").item
    assert (item.type, item.name, item.arguments) == ("function_call", "get_weather", args)
    done = events[-1].response
    assert only_call(done).call_id == item.call_id
    assert usage_of(done) == USAGE


def test_stream_helper_final_response(mock_client, upstream, side):
    with mock_client.responses.stream(model=side.model, input=PROMPT) as s:
        texts = [e.delta for e in s if e.type == "response.output_text.delta"]
        final = s.get_final_response()

    assert "".join(texts) == ANSWER
    assert final.output_text == ANSWER
    assert final.status == "completed"
    assert usage_of(final) == USAGE


@STREAM_OR_NOT
def test_usage_row_names_the_endpoint(
    mock_client, upstream, mock_gateway, mock_gateway_dir, side, stream
):
    options = {"stream": True} if stream else {}
    raw = mock_client.responses.with_raw_response.create(model=side.model, input=PROMPT, **options)
    if stream:
        assert list(raw.parse())[-1].type == "response.completed"

    row = usage_row(mock_gateway, mock_gateway_dir, DEMO_KEY, raw.headers["x-request-id"])
    assert row == ("responses", side.model, side.provider, 200, *USAGE[:2], USAGE[3])


@STREAM_OR_NOT
def test_fallback_from_the_native_lane_to_a_translated_provider(mock_client, upstream, stream):
    # `openai-then-claude` (conftest.py): the OpenAI-shaped provider answering 429, then Anthropic.
    r = respond(mock_client, stream, model="openai-then-claude", input=PROMPT)

    assert r.output_text == ANSWER
    assert usage_of(r) == USAGE
    assert [s.path for s in upstream.seen] == ["/v1/responses", "/anthropic/v1/messages"]
    assert received(upstream.seen[-1]).turns == [("user", PROMPT)]
    assert mock_client.responses.retrieve(r.id).output_text == ANSWER


# --- Stored responses -----------------------------------------------------------------------------


@STREAM_OR_NOT
def test_stored_response_is_retrieved_as_created(mock_client, upstream, side, stream):
    if stream:
        events = list(
            mock_client.responses.create(model=side.model, input=PROMPT, store=True, stream=True)
        )
        created = events[-1].response
    else:
        created = mock_client.responses.create(model=side.model, input=PROMPT, store=True)

    got = mock_client.responses.retrieve(created.id)

    assert without_meta(got) == without_meta(created)
    assert got.output_text == ANSWER
    assert len(upstream.seen) == 1, "the gateway answers from its own store"


def test_deleted_response_is_gone(mock_client, upstream, side):
    created = mock_client.responses.create(model=side.model, input=PROMPT)

    mock_client.responses.delete(created.id)

    with pytest.raises(openai.NotFoundError):
        mock_client.responses.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        mock_client.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError):
        mock_client.responses.create(
            model=side.model, previous_response_id=created.id, input="more"
        )
    assert len(upstream.seen) == 1


def test_unstored_response_is_not_kept(mock_client, upstream, side):
    created = mock_client.responses.create(model=side.model, input=PROMPT, store=False)

    assert created.output_text == ANSWER
    with pytest.raises(openai.NotFoundError):
        mock_client.responses.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        mock_client.responses.create(
            model=side.model, previous_response_id=created.id, input="more"
        )
    assert len(upstream.seen) == 1


def test_another_owners_response_is_not_found(mock_client, other_client, upstream, side):
    created = mock_client.responses.create(model=side.model, input=PROMPT)

    with pytest.raises(openai.NotFoundError) as exc:
        other_client.responses.create(
            model=side.model, previous_response_id=created.id, input="more"
        )
    assert created.id in exc.value.message
    with pytest.raises(openai.NotFoundError):
        other_client.responses.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        other_client.responses.delete(created.id)

    # Nothing reached the provider for the other owner, and the response is still its owner's.
    assert len(upstream.seen) == 1
    assert mock_client.responses.retrieve(created.id).id == created.id


# --- Errors ---------------------------------------------------------------------------------------


def test_errors(mock_client, bad_mock_client, upstream):
    with pytest.raises(openai.AuthenticationError):
        bad_mock_client.responses.create(model="mock-agent", input=PROMPT)
    with pytest.raises(openai.AuthenticationError):
        bad_mock_client.responses.retrieve("resp_anything")
    with pytest.raises(openai.NotFoundError):
        mock_client.responses.create(model="no-such-model", input=PROMPT)
    with pytest.raises(openai.NotFoundError) as exc:
        mock_client.responses.create(
            model="mock-agent", previous_response_id="resp_nonexistent", input=PROMPT
        )
    assert exc.value.code == "response_not_found"
    with pytest.raises(openai.BadRequestError) as exc:
        mock_client.responses.create(model="mock-agent", input=42)
    assert exc.value.param == "input"
    assert upstream.seen == []


@pytest.mark.parametrize(
    ("model", "error", "status"),
    [
        ("mock-429", openai.RateLimitError, 429),
        ("claude-mock-429", openai.RateLimitError, 429),
        ("gemini-mock-400", openai.BadRequestError, 400),
    ],
    ids=["openai-429", "anthropic-429", "gemini-400"],
)
@STREAM_OR_NOT
def test_provider_errors(mock_client, upstream, model, error, status, stream):
    with pytest.raises(error) as exc:
        respond(mock_client, stream, model=model, input=PROMPT)

    assert exc.value.status_code == status
    assert exc.value.body["message"] and exc.value.body["type"], exc.value.body
    assert exc.value.response.headers.get("retry-after") == ("7" if status == 429 else None)


def test_stream_that_breaks_off_ends_with_an_error_event(mock_client, upstream, side):
    # Deployments: the side's model that breaks off after `Hello`, then another (conftest.py).
    events = list(
        mock_client.with_options(timeout=10).responses.create(
            model=f"stream-breaks-{side.name}", input=PROMPT, stream=True
        )
    )

    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == "Hello", "the text before the break reaches the client"
    assert "response.completed" not in {e.type for e in events}
    last = events[-1]
    assert last.type == "error", [e.type for e in events]
    assert (last.code, last.message) == (
        "bad_upstream_response",
        f"The stream from the provider `{side.provider}` broke off.",
    )
    assert last.sequence_number == events[-2].sequence_number + 1
    # The answer had started: the next deployment is never asked.
    time.sleep(0.2)
    assert len(upstream.seen) == 1


@pytest.fixture(scope="session")
def bad_mock_client(mock_gateway: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{mock_gateway}/v1", api_key="sk-nope", max_retries=0) as c:
        yield c


# --- The native lane: the OpenAI-shaped provider gets the client's request as it is ---------------

NATIVE_SIDE = AGENT_SIDES["openai"]
# Fields a translation to chat completions would drop.
NATIVE_PARAMS = {
    "instructions": SYSTEM,
    "input": [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": PROMPT}]}
    ],
    "metadata": {"ticket": "T-1"},
    "prompt_cache_key": "pck-1",
    "safety_identifier": "user-42",
    "reasoning": {"effort": "low", "summary": "auto"},
    "text": {"format": {"type": "text"}, "verbosity": "low"},
    "truncation": "auto",
    "max_output_tokens": 500,
    "include": ["message.output_text.logprobs"],
    "top_logprobs": 2,
}


@STREAM_OR_NOT
def test_native_lane_sends_the_body_untouched(
    mock_client, upstream, mock_gateway, mock_gateway_dir, stream
):
    params = dict(model=NATIVE_SIDE.model, **NATIVE_PARAMS)
    options = {"stream": True} if stream else {}
    raw = mock_client.responses.with_raw_response.create(**params, **options)
    request_id = raw.headers.get("x-request-id")
    if stream:
        events = list(raw.parse())
        assert squeeze([e.type for e in events]) == TEXT_EVENTS
        r = events[-1].response
    else:
        r = raw.parse()

    # The provider's Response itself.
    assert r.id.startswith("resp_mock")
    assert r.output_text == ANSWER
    assert usage_of(r) == USAGE
    seen = sent(upstream, NATIVE_SIDE, stream)
    assert seen.body == ({**params, "stream": True} if stream else params)
    # The gateway read the usage of the provider's answer, and keeps the Response.
    row = usage_row(mock_gateway, mock_gateway_dir, DEMO_KEY, request_id)
    assert row == ("responses", NATIVE_SIDE.model, "mock", 200, 11, 3, 2)
    assert mock_client.responses.retrieve(r.id).output_text == ANSWER


def test_native_lane_takes_items_and_tools_only_openai_reads(mock_client, upstream):
    items = [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "search"}]},
        {
            "type": "web_search_call",
            "id": "ws_1",
            "status": "completed",
            "action": {"type": "search", "query": "sluice"},
        },
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Nothing found.", "annotations": []}],
        },
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "thanks"}]},
    ]
    tools = [{"type": "web_search"}]
    r = mock_client.responses.create(model=NATIVE_SIDE.model, input=items, tools=tools)

    assert r.output_text == ANSWER
    body = sent(upstream, NATIVE_SIDE).body
    assert (body["input"], body["tools"]) == (items, tools)


PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def test_gateway_file_reaches_every_provider(mock_client, upstream, side):
    """A file uploaded to the gateway, named by its id: each provider gets its content (no
    provider knows the gateway's file ids)."""
    f = mock_client.files.create(file=("a.pdf", PDF, "application/pdf"), purpose="user_data")
    content = [{"type": "input_file", "file_id": f.id}, {"type": "input_text", "text": "Sum up."}]

    r = mock_client.responses.create(model=side.model, input=[{"role": "user", "content": content}])

    assert r.output_text == ANSWER
    seen = sent(upstream, side)
    assert f.id not in json.dumps(seen.body), "the gateway's file id means nothing upstream"
    data = base64.b64encode(PDF).decode()
    assert data in json.dumps(seen.body)
