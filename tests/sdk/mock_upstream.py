"""A mock upstream on 127.0.0.1:0, in pure stdlib, for the SDK suite: OpenAI's API under `/v1`,
Anthropic's Messages API under `/anthropic/v1`, Gemini's API under `/gemini/v1beta`.

Every request is recorded (path with its query, lower-cased headers, JSON body). For the same
logical request the three sides answer the same thing in their own shapes: the text
`Hello from mock` with usage prompt 11 / completion 3 / cached 2, or, for the `*-tools` models, one
`get_weather` call with arguments `{"city":"Paris"}`. Streams are written in 7-byte pieces, so
events straddle the gateway's reads. Answers depend on the model (Gemini's is in the path):

| OpenAI: `/v1/chat/completions` | answer                                                    |
|--------------------------------|-----------------------------------------------------------|
| (any other)                    | the text (JSON or SSE, usage chunk when asked)            |
| `mock-tools`                   | the tool call; streamed as deltas, the arguments in pieces|
| `mock-429`                     | 429 in OpenAI's shape with `retry-after: 7`               |
| `mock-422`                     | 422 with a FastAPI-style `{"detail": [...]}` body         |
| `mock-500-html`                | 500 with an HTML body                                     |
| `mock-slow`                    | waits 3 s before answering                                |
| `mock-broken`                  | the stream breaks off after `Hello` (no `[DONE]`)         |
| `mock-endless`                 | a chunk every 50 ms for 10 s; sets `endless_cut` if the   |
|                                | reader went away                                          |
| `mock-pii`                     | `PII_TEXT` (an email, a phone number, a card number and an|
|                                | IBAN); streamed in `PII_DELTAS`, split inside each of them|

| Anthropic: `/anthropic/v1/messages` | answer                                             |
|-------------------------------------|----------------------------------------------------|
| (any other)                         | the text: input 9 + cache read 2, output 3         |
| `claude-mock-tools`                 | the call as a `tool_use` block (`toolu_mock`),     |
|                                     | streamed as `input_json_delta` pieces              |
| `claude-mock-429`                   | `error_rate_limit.json`, `retry-after: 7`          |
| `claude-mock-529`                   | `error_overloaded.json`                            |
| `claude-mock-broken`                | the stream breaks off after `Hello`                |

| Gemini: `/gemini/v1beta/models/M:...` | answer                                           |
|---------------------------------------|--------------------------------------------------|
| (any other)                           | the text (`:generateContent`), or SSE chunks     |
|                                       | (`:streamGenerateContent?alt=sse`)               |
| `gemini-mock-tools`                   | the call as a `functionCall` part                |
| `gemini-mock-400`                     | `error_invalid_argument.json`                    |
| `gemini-mock-503`                     | `error_unavailable.json`                         |
| `gemini-mock-slow`                    | waits 2 s before answering                       |
| `gemini-mock-broken`                  | the stream breaks off after `Hello`              |

The `*-agent` models (`mock-agent`, `claude-mock-agent`, `gemini-mock-agent`) and OpenAI's
Responses API (`POST /v1/responses`, any model) answer according to the request, whole or streamed
in each API's shapes (see `agent_plan`): the last turn a tool result -> the text `QUOTE` + that
result; else tools in the request (and a tool choice other than none) -> a call of the first tool
(or the forced one), its arguments the last user prompt (`tool_arguments`); else the canned text,
cut at a stop sequence the request names. Usage is the canned usage above. (The other models keep
their fixed answers: clients send them tools and expect the text.) `/v1/responses` refuses a
`previous_response_id` (the gateway keeps the conversation, and must send it whole); its
`mock-429` and `mock-broken` models fail as the chat ones do. Other methods (GET, DELETE) are
recorded and answer 404.

`:embedContent` and `:batchEmbedContents` answer `embedding(i)` for input i, as `/v1/embeddings`
does; `/v1/audio/speech` and `/v1/images/generations` answer with fixed contents. The error
bodies come from `tests/fixtures/` (see its README).

The multipart endpoints (their routes are in `mock_uploads.py`) are recorded as `{"fields": {name: value or [values]}, "files": {name:
[{"filename", "content_type", "data"}]}}` and answer the text `Hello from mock` too:
`/v1/audio/transcriptions` in the `response_format` asked (`json` with token usage 11 / 3,
`verbose_json` with `duration` 2.5, `text`, `srt`, `vtt` as `text/plain`), or with
`stream=true` as `transcript.text.delta` events and a `transcript.text.done` event;
`/v1/audio/translations` as JSON with usage `{"type": "duration", "seconds": 3}`;
`/v1/images/edits` and `/v1/images/variations` one PNG (`b64_json`), edits with token usage.
`/v1/moderations` answers one unflagged result per input.
"""

from __future__ import annotations

import itertools
import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import NamedTuple

from mock_uploads import UploadRoutes, parse_multipart

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

USAGE = {
    "prompt_tokens": 11,
    "completion_tokens": 3,
    "total_tokens": 14,
    "prompt_tokens_details": {"cached_tokens": 2},
}
TOOL_CALL = {"id": "call_mock", "name": "get_weather", "arguments": '{"city":"Paris"}'}
WORDS = ("Hello", " from", " mock")
# Personal data, streamed in deltas that split each item across two chunks.
PII_DELTAS = (
    "Reach alice.smi",
    "th@example.com or +44 20 79",
    "46 0958; card 4111 1111 ",
    "1111 1111, IBAN GB82 WEST 12",
    "34 5698 7654 32. Thanks!",
)
PII_TEXT = "".join(PII_DELTAS)
EMBEDDING = [0.6, 0.8]
# The same usage in Anthropic's terms (prompt = input + cache reads) and Gemini's.
ANTHROPIC_USAGE = {
    "input_tokens": 9,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 2,
    "output_tokens": 3,
}
GEMINI_USAGE = {
    "promptTokenCount": 11,
    "candidatesTokenCount": 3,
    "totalTokenCount": 14,
    "cachedContentTokenCount": 2,
}
ANTHROPIC_PREFIX = "/anthropic/v1/"
GEMINI_PREFIX = "/gemini/v1beta/models/"
SPEECH = b"ID3mock-mp3-bytes" * 100
# A 1x1 PNG.
PNG_BASE64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
RATE_LIMITED = {
    "error": {
        "message": "Rate limit reached for requests",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }
}
PIECE = 7  # stream bytes per write, so events straddle the gateway's reads


def fixture(name: str) -> dict:
    """A provider fixture, `tests/fixtures/<name>`, parsed."""
    return json.loads((FIXTURES / name).read_text())


def embedding(i: int) -> list[float]:
    """The vector the mock answers for input `i`."""
    return EMBEDDING if i % 2 == 0 else EMBEDDING[::-1]


class Seen(NamedTuple):
    """One recorded request."""

    path: str
    headers: dict[str, str]
    body: object


class MockUpstream:
    """The running mock. `url` is `http://127.0.0.1:PORT` (the provider's base_url adds `/v1`)."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.endless_cut = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.mock = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)

    def reset(self) -> None:
        with self._lock:
            self.seen.clear()
        self.endless_cut.clear()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _chunk(model: str, delta: dict, finish_reason: str | None = None) -> dict:
    return {
        "id": "chatcmpl-mock",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def _chat_events(model: str, include_usage: bool) -> list[dict]:
    """The chunks of a streamed answer (without `[DONE]`)."""
    if model == "mock-tools":
        call = {"index": 0, "id": TOOL_CALL["id"], "type": "function"}
        args = TOOL_CALL["arguments"]
        deltas = [
            {"role": "assistant", "content": None},
            {"tool_calls": [{**call, "function": {"name": TOOL_CALL["name"], "arguments": ""}}]},
            {"tool_calls": [{"index": 0, "function": {"arguments": args[:8]}}]},
            {"tool_calls": [{"index": 0, "function": {"arguments": args[8:]}}]},
        ]
        finish_reason = "tool_calls"
    else:
        words = PII_DELTAS if model == "mock-pii" else WORDS
        deltas = [{"role": "assistant", "content": ""}] + [{"content": w} for w in words]
        finish_reason = "stop"
    events = [_chunk(model, d) for d in deltas] + [_chunk(model, {}, finish_reason)]
    if include_usage:
        events.append({**_chunk(model, {}), "choices": [], "usage": USAGE})
    return events


def _chat_answer(model: str) -> dict:
    if model == "mock-tools":
        call = {"name": TOOL_CALL["name"], "arguments": TOOL_CALL["arguments"]}
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": TOOL_CALL["id"], "type": "function", "function": call}],
        }
        finish_reason = "tool_calls"
    else:
        text = PII_TEXT if model == "mock-pii" else "Hello from mock"
        message = {"role": "assistant", "content": text}
        finish_reason = "stop"
    return {
        "id": "chatcmpl-mock",
        "object": "chat.completion",
        "created": 1,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": USAGE,
    }


def _sse(data: dict | str) -> bytes:
    return f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n".encode()


def _anthropic_message(model: str) -> dict:
    if model.endswith("-tools"):
        args = json.loads(TOOL_CALL["arguments"])
        call = {"type": "tool_use", "id": "toolu_mock", "name": TOOL_CALL["name"], "input": args}
        blocks = [call]
        stop_reason = "tool_use"
    else:
        blocks = [{"type": "text", "text": "".join(WORDS)}]
        stop_reason = "end_turn"
    return {
        "id": "msg_mock",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": blocks,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": ANTHROPIC_USAGE,
    }


def _anthropic_stream(model: str) -> bytes:
    """The Messages API's events for the answer, as Anthropic sends them."""
    whole = _anthropic_message(model)
    usage = {**ANTHROPIC_USAGE, "output_tokens": 1}
    start = {**whole, "content": [], "stop_reason": None, "usage": usage}
    if model.endswith("-tools"):
        block = {**whole["content"][0], "input": {}}
        args = TOOL_CALL["arguments"]
        deltas = [{"type": "input_json_delta", "partial_json": p} for p in ("", args[:8], args[8:])]
    else:
        block = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": word} for word in WORDS]
    events = [
        ("message_start", {"message": start}),
        ("content_block_start", {"index": 0, "content_block": block}),
        ("ping", {}),
        *[("content_block_delta", {"index": 0, "delta": d}) for d in deltas],
        ("content_block_stop", {"index": 0}),
        (
            "message_delta",
            {
                "delta": {"stop_reason": whole["stop_reason"], "stop_sequence": None},
                "usage": {"output_tokens": ANTHROPIC_USAGE["output_tokens"]},
            },
        ),
        ("message_stop", {}),
    ]
    return b"".join(
        f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n".encode()
        for name, data in events
    )


def _gemini_answer(model: str, parts: list[dict], finish: str | None, usage: dict) -> dict:
    """A `GenerateContentResponse` with one candidate."""
    candidate = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if finish is not None:
        candidate["finishReason"] = finish
    return {
        "candidates": [candidate],
        "usageMetadata": usage,
        "modelVersion": model,
        "responseId": "mock-response",
    }


def _gemini_parts(model: str) -> list[dict]:
    if model.endswith("-tools"):
        args = json.loads(TOOL_CALL["arguments"])
        return [{"functionCall": {"name": TOOL_CALL["name"], "args": args}}]
    return [{"text": "".join(WORDS)}]


def _gemini_stream(model: str) -> bytes:
    """`streamGenerateContent?alt=sse` chunks, CRLF-framed as Gemini sends them: text pieces (a
    function call comes whole), the last with `finishReason` and the full usage."""
    if model.endswith("-tools"):
        answers = [_gemini_answer(model, _gemini_parts(model), "STOP", GEMINI_USAGE)]
    else:
        early = {"promptTokenCount": 11, "totalTokenCount": 11}
        answers = [_gemini_answer(model, [{"text": w}], None, early) for w in WORDS[:-1]]
        answers.append(_gemini_answer(model, [{"text": WORDS[-1]}], "STOP", GEMINI_USAGE))
    return b"".join(f"data: {json.dumps(a)}\r\n\r\n".encode() for a in answers)


class _Handler(UploadRoutes, BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, and chunked bodies for streams
    disable_nagle_algorithm = True  # every small write goes out as it is

    def log_message(self, format, *args) -> None:  # noqa: A002 (the base class's name)
        pass

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        content_type = self.headers.get("content-type") or ""
        if content_type.startswith("multipart/form-data"):
            body = parse_multipart(content_type, raw)
        else:
            body = json.loads(raw) if raw else None
        mock: MockUpstream = self.server.mock
        mock.record(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        routes = {
            "/v1/chat/completions": self._chat,
            "/v1/embeddings": self._embeddings,
            "/v1/audio/speech": self._speech,
            "/v1/images/generations": self._images,
            "/v1/responses": self._responses,
            "/v1/audio/transcriptions": self._transcription,
            "/v1/audio/translations": self._translation,
            "/v1/images/edits": self._image_edit,
            "/v1/images/variations": self._image_edit,
            "/v1/moderations": self._moderation,
        }
        try:
            if self.path.startswith(ANTHROPIC_PREFIX):
                self._anthropic(body)
            elif self.path.startswith(GEMINI_PREFIX):
                self._gemini(body)
            elif self.path in routes:
                routes[self.path](body)
            else:
                self._json(404, {"error": {"message": f"no route {self.path}", "type": "invalid"}})
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the gateway gave up on this request (a timeout)

    def _other_method(self) -> None:
        """GET, DELETE and the like: recorded, and a 404 (no provider call should need them)."""
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.mock.record(Seen(self.path, headers, body))
        error = {"message": f"no route {self.command} {self.path}", "type": "invalid_request_error"}
        self._json(404, {"error": error})

    do_GET = do_DELETE = do_PUT = do_PATCH = _other_method

    # --- Routes -----------------------------------------------------------------------------------

    def _chat(self, body: dict) -> None:
        model = body.get("model", "")
        if model == "mock-slow":
            time.sleep(3)
        if model == "mock-429":
            return self._json(429, RATE_LIMITED, {"retry-after": "7"})
        if model == "mock-422":
            detail = [{"loc": ["body", "messages"], "msg": "field required"}]
            return self._json(422, {"detail": detail})
        if model == "mock-500-html":
            return self._bytes(500, "text/html", [b"<html>internal stack trace here</html>"])
        if model == "mock-endless":
            return self._endless(model)
        if is_agent(model):
            return self._chat_agent(body)
        if not body.get("stream"):
            return self._json(200, _chat_answer(model))
        include_usage = (body.get("stream_options") or {}).get("include_usage") is True
        events = b"".join(_sse(e) for e in _chat_events(model, include_usage))
        self._stream(events + _sse("[DONE]"), broken=model == "mock-broken")

    def _anthropic(self, body: dict) -> None:
        if self.path != ANTHROPIC_PREFIX + "messages":
            error = {"type": "not_found_error", "message": f"no route {self.path}"}
            return self._json(404, {"type": "error", "error": error})
        model = body.get("model", "")
        if model == "claude-mock-429":
            return self._json(429, fixture("anthropic/error_rate_limit.json"), {"retry-after": "7"})
        if model == "claude-mock-529":
            return self._json(529, fixture("anthropic/error_overloaded.json"))
        if is_agent(model):
            return self._anthropic_agent(body)
        if not body.get("stream"):
            return self._json(200, _anthropic_message(model))
        self._stream(_anthropic_stream(model), broken=model == "claude-mock-broken")

    def _gemini(self, body: dict) -> None:
        model, _, method = self.path.removeprefix(GEMINI_PREFIX).partition(":")
        if model == "gemini-mock-400":
            return self._json(400, fixture("gemini/error_invalid_argument.json"))
        if model == "gemini-mock-503":
            return self._json(503, fixture("gemini/error_unavailable.json"))
        if model == "gemini-mock-slow":
            time.sleep(2)
        if is_agent(model) and method in ("generateContent", "streamGenerateContent?alt=sse"):
            return self._gemini_agent(model, method, body)
        if method == "generateContent":
            answer = _gemini_answer(model, _gemini_parts(model), "STOP", GEMINI_USAGE)
            return self._json(200, answer)
        if method == "streamGenerateContent?alt=sse":
            return self._stream(_gemini_stream(model), broken=model == "gemini-mock-broken")
        if method == "embedContent":
            return self._json(200, {"embedding": {"values": embedding(0)}})
        if method == "batchEmbedContents":
            vectors = [{"values": embedding(i)} for i in range(len(body["requests"]))]
            return self._json(200, {"embeddings": vectors})
        error = {"code": 404, "message": f"no route {self.path}", "status": "NOT_FOUND"}
        self._json(404, {"error": error})

    def _embeddings(self, body: dict) -> None:
        inputs = body["input"]
        texts = isinstance(inputs, list) and all(isinstance(i, str) for i in inputs)
        n = len(inputs) if texts else 1
        data = [{"object": "embedding", "index": i, "embedding": embedding(i)} for i in range(n)]
        usage = {"prompt_tokens": 4, "total_tokens": 4}
        self._json(200, {"object": "list", "model": body["model"], "data": data, "usage": usage})

    def _speech(self, body: dict) -> None:
        self._bytes(200, "audio/mpeg", [SPEECH[i : i + 500] for i in range(0, len(SPEECH), 500)])

    def _images(self, body: dict) -> None:
        data = [{"b64_json": PNG_BASE64, "revised_prompt": body["prompt"]}]
        self._json(200, {"created": 1, "data": data})

    # --- Answers according to the request (`*-agent` models, `/v1/responses`) -------------------

    def _chat_agent(self, body: dict) -> None:
        model, plan = body["model"], chat_plan(body)
        if not body.get("stream"):
            return self._json(200, _chat_agent_answer(model, plan))
        include_usage = (body.get("stream_options") or {}).get("include_usage") is True
        events = b"".join(_sse(e) for e in _chat_agent_events(model, plan, include_usage))
        self._stream(events + _sse("[DONE]"))

    def _anthropic_agent(self, body: dict) -> None:
        model, plan = body["model"], anthropic_plan(body)
        whole = _anthropic_agent_message(model, plan)
        if not body.get("stream"):
            return self._json(200, whole)
        self._stream(_anthropic_agent_stream(whole, plan))

    def _gemini_agent(self, model: str, method: str, body: dict) -> None:
        plan = gemini_plan(body)
        if method == "generateContent":
            parts = _gemini_agent_parts(plan)
            return self._json(200, _gemini_answer(model, parts, "STOP", GEMINI_USAGE))
        self._stream(_gemini_agent_stream(model, plan))

    def _responses(self, body: dict) -> None:
        if body.get("previous_response_id") is not None:
            error = {
                "message": f"Previous response with id '{body['previous_response_id']}' not found.",
                "type": "invalid_request_error",
                "param": "previous_response_id",
                "code": "previous_response_not_found",
            }
            return self._json(400, {"error": error})
        model = body.get("model", "")
        if model == "mock-429":
            return self._json(429, RATE_LIMITED, {"retry-after": "7"})
        plan = responses_plan(body)
        n = next(_RESPONSE_NUMBERS)
        if not body.get("stream"):
            return self._json(200, _response_object(body, plan, n, done=True))
        self._stream(_responses_stream(body, plan, n), broken=model == "mock-broken")

    # --- Writing ----------------------------------------------------------------------------------

    def _json(self, status: int, obj: dict, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(obj).encode()
        self.send_response(status)
        for name, value in {"content-type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _start_chunked(self, status: int, content_type: str) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _bytes(self, status: int, content_type: str, pieces: list[bytes]) -> None:
        """A chunked body, one HTTP chunk per piece, with a pause now and then."""
        self._start_chunked(status, content_type)
        for i, piece in enumerate(pieces):
            if i % 8 == 7:
                time.sleep(0.001)
            self._write_chunk(piece)
        self._write_chunk(b"")

    def _stream(self, events: bytes, broken: bool = False) -> None:
        """A 200 event stream in PIECE-byte pieces. A `broken` one stops in the middle of the event
        after `Hello` and drops the connection in the middle of the chunked body."""
        if broken:
            events = events[: events.index(b'" from"')]
        pieces = [events[i : i + PIECE] for i in range(0, len(events), PIECE)]
        if not broken:
            return self._bytes(200, "text/event-stream", pieces)
        self._start_chunked(200, "text/event-stream")
        for piece in pieces:
            self._write_chunk(piece)
        self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True

    def _endless(self, model: str) -> None:
        self._start_chunked(200, "text/event-stream")
        deadline = time.monotonic() + 10
        try:
            while time.monotonic() < deadline:
                self._write_chunk(_sse(_chunk(model, {"content": "tick"})))
                time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            self.server.mock.endless_cut.set()
            raise
        self._write_chunk(_sse("[DONE]"))
        self._write_chunk(b"")


# --- Answers according to the request ------------------------------------------------------------

AGENT_SUFFIX = "-agent"
# The text that answers a tool result: this, then the result.
QUOTE = "The tool said: "
# The ids of the calls an agent model makes (Gemini's calls have none).
AGENT_CALL_ID = "call_agent"
AGENT_TOOL_USE_ID = "toolu_agent"
# The usage of `/v1/responses` answers: the canned usage in the Responses API's terms.
RESPONSES_USAGE = {
    "input_tokens": 11,
    "input_tokens_details": {"cached_tokens": 2, "cache_write_tokens": 0},
    "output_tokens": 3,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 14,
}
# Numbers the Responses the mock makes (their ids are unique, as OpenAI's are).
_RESPONSE_NUMBERS = itertools.count(1)


def is_agent(model: str) -> bool:
    """Whether `model` answers according to the request."""
    return model.endswith(AGENT_SUFFIX)


class Plan(NamedTuple):
    """What an agent answers: a call of `tool` with `arguments` (JSON text), or `text` (cut at
    `stop_sequence`, if one of the request's was in it)."""

    text: str | None = None
    tool: str | None = None
    arguments: str | None = None
    stop_sequence: str | None = None


def tool_arguments(schema: dict | None, prompt: str) -> str:
    """The arguments of a call the mock makes: `prompt` as the value of the schema's first property
    (`input` when it has none), as compact JSON."""
    properties = (schema or {}).get("properties") or {}
    name = next(iter(properties), "input")
    return json.dumps({name: prompt}, separators=(",", ":"))


def agent_plan(
    tools: list[tuple[str, dict | None]],
    result: str | None,
    prompt: str,
    stops: list[str],
    choice: str | None = None,
) -> Plan:
    """The answer to a request whose last turn is the tool result `result` (None if it is not),
    that offers `tools` ((name, JSON schema) in order) and asks `prompt` (its last user text).
    `choice` is the request's tool choice: `none`, or the name of the tool it forces."""
    if result is not None:
        return Plan(text=QUOTE + result)
    if choice == "none":
        tools = []
    forced = [t for t in tools if t[0] == choice]
    if tools:
        name, schema = (forced or tools)[0]
        return Plan(tool=name, arguments=tool_arguments(schema, prompt))
    text = "".join(WORDS)
    hits = [(text.index(s), s) for s in stops if s and s in text]
    if hits:
        at, stop = min(hits)
        return Plan(text=text[:at], stop_sequence=stop)
    return Plan(text=text)


def text_of(content) -> str:
    """The text of a message's content: a string, or the text of its parts/blocks."""
    if isinstance(content, str):
        return content
    texts = [
        part.get("text", "")
        for part in content or []
        if isinstance(part, dict) and part.get("type") in ("text", "input_text", "output_text")
    ]
    return "\n".join(texts)


def _stops(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def chat_plan(body: dict) -> Plan:
    """The plan for a chat completion request."""
    messages = body.get("messages") or [{}]
    last = messages[-1]
    result = text_of(last.get("content")) if last.get("role") == "tool" else None
    users = [text_of(m.get("content")) for m in messages if m.get("role") == "user"]
    tools = [
        (t["function"]["name"], t["function"].get("parameters"))
        for t in body.get("tools") or []
        if t.get("type") == "function"
    ]
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        choice = (choice.get("function") or {}).get("name")
    return agent_plan(tools, result, (users or [""])[-1], _stops(body.get("stop")), choice)


def _blocks(content) -> list[dict]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else list(content or [])


def anthropic_plan(body: dict) -> Plan:
    """The plan for a Messages request."""
    messages = body.get("messages") or [{}]
    last = messages[-1]
    results = [b for b in _blocks(last.get("content")) if b.get("type") == "tool_result"]
    result = None
    if last.get("role") == "user" and results:
        result = text_of(results[-1].get("content"))
    prompts = [
        "\n".join(b["text"] for b in _blocks(m.get("content")) if b.get("type") == "text")
        for m in messages
        if m.get("role") == "user"
    ]
    prompts = [p for p in prompts if p] or [""]
    tools = [
        (t["name"], t.get("input_schema")) for t in body.get("tools") or [] if "input_schema" in t
    ]
    choice = body.get("tool_choice") or {}
    choice = choice.get("name") if choice.get("type") == "tool" else choice.get("type")
    return agent_plan(tools, result, prompts[-1], _stops(body.get("stop_sequences")), choice)


def gemini_plan(body: dict) -> Plan:
    """The plan for a `generateContent` request."""
    contents = body.get("contents") or [{}]
    last = contents[-1]
    responses = [p["functionResponse"] for p in last.get("parts") or [] if "functionResponse" in p]
    result = None
    if responses:
        answer = responses[-1].get("response")
        inner = answer.get("content") if isinstance(answer, dict) else answer
        result = inner if isinstance(inner, str) else json.dumps(inner)
    prompts = [
        "\n".join(p["text"] for p in c.get("parts") or [] if "text" in p)
        for c in contents
        if c.get("role", "user") == "user"
    ]
    prompts = [p for p in prompts if p] or [""]
    tools = [
        (d["name"], d.get("parameters") or d.get("parametersJsonSchema"))
        for t in body.get("tools") or []
        for d in t.get("functionDeclarations") or []
    ]
    stops = (body.get("generationConfig") or {}).get("stopSequences")
    config = (body.get("toolConfig") or {}).get("functionCallingConfig") or {}
    allowed = config.get("allowedFunctionNames") or []
    choice = "none" if config.get("mode") == "NONE" else (allowed[0] if allowed else None)
    return agent_plan(tools, result, prompts[-1], _stops(stops), choice)


def responses_plan(body: dict) -> Plan:
    """The plan for a Responses request."""
    items = body.get("input")
    if isinstance(items, str):
        items = [{"type": "message", "role": "user", "content": items}]
    items = items or [{}]
    last = items[-1]
    result = None
    if last.get("type") == "function_call_output":
        result = text_of(last.get("output"))
    prompts = [
        text_of(i.get("content"))
        for i in items
        if i.get("type", "message") == "message" and i.get("role") == "user"
    ]
    tools = [
        (t["name"], t.get("parameters"))
        for t in body.get("tools") or []
        if t.get("type") == "function"
    ]
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        choice = choice.get("name")
    return agent_plan(tools, result, (prompts or [""])[-1], [], choice)


def pieces(text: str, n: int = 3) -> list[str]:
    """`text` in `n` pieces (fewer if it is shorter), for streamed arguments."""
    size = max(1, -(-len(text) // n))
    return [text[i : i + size] for i in range(0, len(text), size)]


def words(text: str) -> list[str]:
    """`text` word by word, each word with the spaces before it (`Hello`, ` from`, ` mock`)."""
    return re.findall(r"\s*\S+", text) or [text]


def _chat_agent_answer(model: str, plan: Plan) -> dict:
    answer = _chat_answer(model)
    if plan.tool is not None:
        call = {"name": plan.tool, "arguments": plan.arguments}
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": AGENT_CALL_ID, "type": "function", "function": call}],
        }
        answer["choices"][0] |= {"message": message, "finish_reason": "tool_calls"}
    else:
        answer["choices"][0]["message"]["content"] = plan.text
    return answer


def _chat_agent_events(model: str, plan: Plan, include_usage: bool) -> list[dict]:
    """The chunks of a streamed agent answer: the arguments of a call in pieces."""
    if plan.tool is not None:
        call = {"index": 0, "id": AGENT_CALL_ID, "type": "function"}
        deltas = [
            {"role": "assistant", "content": None},
            {"tool_calls": [{**call, "function": {"name": plan.tool, "arguments": ""}}]},
        ]
        deltas += [
            {"tool_calls": [{"index": 0, "function": {"arguments": p}}]}
            for p in pieces(plan.arguments)
        ]
        finish_reason = "tool_calls"
    else:
        deltas = [{"role": "assistant", "content": ""}] + [{"content": w} for w in words(plan.text)]
        finish_reason = "stop"
    events = [_chunk(model, d) for d in deltas] + [_chunk(model, {}, finish_reason)]
    if include_usage:
        events.append({**_chunk(model, {}), "choices": [], "usage": USAGE})
    return events


def _anthropic_agent_message(model: str, plan: Plan) -> dict:
    whole = _anthropic_message(model)
    if plan.tool is not None:
        call = {
            "type": "tool_use",
            "id": AGENT_TOOL_USE_ID,
            "name": plan.tool,
            "input": json.loads(plan.arguments),
        }
        return whole | {"content": [call], "stop_reason": "tool_use"}
    stop_reason = "end_turn" if plan.stop_sequence is None else "stop_sequence"
    return whole | {
        "content": [{"type": "text", "text": plan.text}],
        "stop_reason": stop_reason,
        "stop_sequence": plan.stop_sequence,
    }


def _anthropic_agent_stream(whole: dict, plan: Plan) -> bytes:
    """The Messages API's events for the agent answer `whole`: a tool_use's input in
    `input_json_delta` pieces, a text word by word."""
    usage = {**ANTHROPIC_USAGE, "output_tokens": 1}
    start = {**whole, "content": [], "stop_reason": None, "stop_sequence": None, "usage": usage}
    if plan.tool is not None:
        block = {**whole["content"][0], "input": {}}
        parts = [""] + pieces(plan.arguments)
        deltas = [{"type": "input_json_delta", "partial_json": p} for p in parts]
    else:
        block = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": w} for w in words(plan.text)]
    events = [
        ("message_start", {"message": start}),
        ("content_block_start", {"index": 0, "content_block": block}),
        ("ping", {}),
        *[("content_block_delta", {"index": 0, "delta": d}) for d in deltas],
        ("content_block_stop", {"index": 0}),
        (
            "message_delta",
            {
                "delta": {
                    "stop_reason": whole["stop_reason"],
                    "stop_sequence": whole["stop_sequence"],
                },
                "usage": {"output_tokens": ANTHROPIC_USAGE["output_tokens"]},
            },
        ),
        ("message_stop", {}),
    ]
    return b"".join(
        f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n".encode()
        for name, data in events
    )


def _gemini_agent_parts(plan: Plan) -> list[dict]:
    if plan.tool is not None:
        return [{"functionCall": {"name": plan.tool, "args": json.loads(plan.arguments)}}]
    return [{"text": plan.text}]


def _gemini_agent_stream(model: str, plan: Plan) -> bytes:
    """`streamGenerateContent?alt=sse` chunks of the agent answer: a call whole, a text word by
    word, the last chunk with `finishReason` and the full usage."""
    if plan.tool is not None:
        answers = [_gemini_answer(model, _gemini_agent_parts(plan), "STOP", GEMINI_USAGE)]
    else:
        early = {"promptTokenCount": 11, "totalTokenCount": 11}
        *head, tail = words(plan.text)
        answers = [_gemini_answer(model, [{"text": w}], None, early) for w in head]
        answers.append(_gemini_answer(model, [{"text": tail}], "STOP", GEMINI_USAGE))
    return b"".join(f"data: {json.dumps(a)}\r\n\r\n".encode() for a in answers)


def _response_item(plan: Plan, n: int, done: bool) -> dict:
    """The Response's one output item: a `function_call` or an assistant `message`; while it is
    streamed (`done` false) without its content yet."""
    status = "completed" if done else "in_progress"
    if plan.tool is not None:
        return {
            "id": f"fc_mock{n:04d}",
            "type": "function_call",
            "status": status,
            "call_id": AGENT_CALL_ID,
            "name": plan.tool,
            "arguments": plan.arguments if done else "",
        }
    content = [_output_text(plan.text)] if done else []
    return {
        "id": f"msg_mock{n:04d}",
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content,
    }


def _output_text(text: str) -> dict:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _response_object(body: dict, plan: Plan, n: int, done: bool) -> dict:
    """The Response (`object: "response"`) to `body`, echoing its settings; `done` false: the
    in-progress Response a stream starts with (no output, no usage)."""
    return {
        "id": f"resp_mock{n:04d}",
        "object": "response",
        "created_at": 1700000000 + n,
        "status": "completed" if done else "in_progress",
        "completed_at": 1700000001 + n if done else None,
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": None,
        "model": body.get("model"),
        "output": [_response_item(plan, n, True)] if done else [],
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": body.get("text") or {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools") or [],
        "top_logprobs": 0,
        "top_p": body.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": RESPONSES_USAGE if done else None,
        "user": None,
        "metadata": body.get("metadata") or {},
    }


def _responses_stream(body: dict, plan: Plan, n: int) -> bytes:
    """The Responses API's stream for `plan`, as OpenAI sends it: `response.created`,
    `response.in_progress`, the item added, its text or arguments in deltas, the item done, then
    `response.completed` with the whole Response (every event numbered by `sequence_number`)."""
    item = _response_item(plan, n, False)
    done_item = _response_item(plan, n, True)
    at = {"output_index": 0, "item_id": item["id"]}
    events: list[dict] = [
        {"type": "response.created", "response": _response_object(body, plan, n, False)},
        {"type": "response.in_progress", "response": _response_object(body, plan, n, False)},
        {"type": "response.output_item.added", "output_index": 0, "item": item},
    ]
    if plan.tool is not None:
        events += [
            {"type": "response.function_call_arguments.delta", **at, "delta": p}
            for p in pieces(plan.arguments)
        ]
        events.append(
            {
                "type": "response.function_call_arguments.done",
                **at,
                "name": plan.tool,
                "arguments": plan.arguments,
            }
        )
    else:
        part = {**at, "content_index": 0}
        events.append({"type": "response.content_part.added", **part, "part": _output_text("")})
        events += [
            {"type": "response.output_text.delta", **part, "delta": w, "logprobs": []}
            for w in words(plan.text)
        ]
        events += [
            {"type": "response.output_text.done", **part, "text": plan.text, "logprobs": []},
            {"type": "response.content_part.done", **part, "part": _output_text(plan.text)},
        ]
    events += [
        {"type": "response.output_item.done", "output_index": 0, "item": done_item},
        {"type": "response.completed", "response": _response_object(body, plan, n, True)},
    ]
    return b"".join(
        f"event: {e['type']}\ndata: {json.dumps({**e, 'sequence_number': i})}\n\n".encode()
        for i, e in enumerate(events)
    )
