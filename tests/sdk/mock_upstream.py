"""A mock OpenAI-compatible upstream on 127.0.0.1:0, in pure stdlib, for the SDK suite.

Every request is recorded (path, lower-cased headers, JSON body). Chat answers depend on `model`:

| model           | answer                                                                      |
|-----------------|-----------------------------------------------------------------------------|
| (any other)     | `Hello from mock` (JSON), or SSE in 7-byte pieces, usage chunk when asked    |
| `mock-tools`    | a `get_weather` tool call; streamed as deltas, the arguments in pieces      |
| `mock-429`      | 429 in OpenAI's shape with `retry-after: 7`                                 |
| `mock-422`      | 422 with a FastAPI-style `{"detail": [...]}` body                           |
| `mock-500-html` | 500 with an HTML body                                                       |
| `mock-slow`     | waits 3 s before answering                                                  |
| `mock-broken`   | a stream that sends two chunks, then closes the connection (no `[DONE]`)    |
| `mock-endless`  | a chunk every 50 ms for 10 s; `endless_cut` is set if the reader went away  |

`/v1/embeddings`, `/v1/audio/speech` and `/v1/images/generations` answer with fixed contents.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple

USAGE = {
    "prompt_tokens": 11,
    "completion_tokens": 3,
    "total_tokens": 14,
    "prompt_tokens_details": {"cached_tokens": 2},
}
TOOL_CALL = {"id": "call_mock", "name": "get_weather", "arguments": '{"city":"Paris"}'}
EMBEDDING = [0.6, 0.8]
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
        deltas = [{"role": "assistant", "content": ""}] + [
            {"content": word} for word in ("Hello", " from", " mock")
        ]
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
        message = {"role": "assistant", "content": "Hello from mock"}
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


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, and chunked bodies for streams
    disable_nagle_algorithm = True  # every small write goes out as it is

    def log_message(self, format, *args) -> None:  # noqa: A002 (the base class's name)
        pass

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        body = json.loads(raw) if raw else None
        mock: MockUpstream = self.server.mock
        mock.record(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        routes = {
            "/v1/chat/completions": self._chat,
            "/v1/embeddings": self._embeddings,
            "/v1/audio/speech": self._speech,
            "/v1/images/generations": self._images,
        }
        try:
            if self.path in routes:
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
        if model == "mock-broken":
            return self._broken(_chat_events(model, False)[:2])
        include_usage = (body.get("stream_options") or {}).get("include_usage") is True
        events = b"".join(_sse(e) for e in _chat_events(model, include_usage))
        pieces = [events[i : i + PIECE] for i in range(0, len(events), PIECE)]
        self._bytes(200, "text/event-stream", pieces + [_sse("[DONE]")])

    def _embeddings(self, body: dict) -> None:
        data = [{"object": "embedding", "index": 0, "embedding": EMBEDDING}]
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

    def _broken(self, events: list[dict]) -> None:
        """Sends `events`, then drops the connection in the middle of the chunked body."""
        self._start_chunked(200, "text/event-stream")
        for event in events:
            self._write_chunk(_sse(event))
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
