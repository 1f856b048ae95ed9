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

import json
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
