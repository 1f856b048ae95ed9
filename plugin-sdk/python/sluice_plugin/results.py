"""What stage methods return: small SDK classes that the export glue turns into the WIT variants.

| stage        | method            | returns                                       |
|--------------|-------------------|-----------------------------------------------|
| policy       | `on_request`      | `Allow()`, `Continue(...)`, `Deny(err)`, `Respond(...)` |
| guard        | `check_json`      | `Allow()`, `Deny(err)`, `Rewrite(body)`       |
| guard        | `check_text`      | `Allow()`, `Replace(text)`, `Stop(err)`       |
| mcp-policy   | `on_mcp_request`  | `Allow()`, `Rewrite(params)`, `Deny(mcp_err)`, `Respond(result)` |
| enrich       | `on_response`     | `Enrichment(...)`                             |
| auth         | `authenticate`    | a `Principal` (see `principal()`), or `Deny(err)` |
| adapter      | `to_upstream`     | `Send(...)`, `Respond(...)`, `Deny(err)`      |
| adapter      | `from_upstream`   | `None` (unchanged), `Respond(...)`, `Deny(err)` |
| adapter      | stream `on_event` | a list of `SseEvent`s (see `sse_event()`), or `Deny(err)` |
| adapter      | stream `finish`   | `(events, usage)`, `events`, or `Deny(err)`   |

`Allow()` always means "let it through unchanged". Every class is a frozen dataclass, so tests
can compare results with `==` or take them apart with `match`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable, List, Mapping, Optional, Tuple, Union

from ._wit import adapter, mcp_types, types

Headers = Union[Mapping[str, str], Iterable[Tuple[str, str]]]
"""Headers as a mapping or as (name, value) pairs (names are sent lower-case)."""

JsonValue = Any
"""A value `json.dumps` accepts (dict, list, str, int, float, bool, None)."""


def header_pairs(headers: Headers) -> List[Tuple[str, str]]:
    """`headers` as the list of (lower-case name, value) pairs the WIT carries."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(str(k).lower(), str(v)) for k, v in items]


def json_text(value: JsonValue) -> str:
    """`value` as compact JSON text."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _body_bytes(body: Union[bytes, str, JsonValue]) -> bytes:
    """A body: bytes as they are, str as UTF-8, anything else as JSON."""
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode()
    return json_text(body).encode()


@dataclass(frozen=True)
class Allow:
    """Let the request, body, text or MCP call through unchanged (every stage)."""


@dataclass(frozen=True)
class Continue:
    """Policy: let the request go on, adding `headers` to the client's response, `metadata` to
    its `sluice` object (each value a JSON value, encoded by the SDK) and, if `body` is given,
    replacing the request body (a dict is sent as JSON; bytes as they are)."""

    headers: Headers = ()
    metadata: Mapping[str, JsonValue] = field(default_factory=dict)
    body: Optional[Union[bytes, JsonValue]] = None


@dataclass(frozen=True)
class Deny:
    """Refuse: an `ErrorBody` (policy, guard, auth) or an `McpError` (mcp-policy)."""

    error: Union[types.ErrorBody, mcp_types.McpError]


@dataclass(frozen=True)
class Respond:
    """Policy: answer the request now with this response (later stages and the upstream are
    skipped); a dict `body` is sent as JSON with `content-type: application/json`.
    Adapter: answer without any provider (`to_upstream`; the answer must already be in OpenAI's
    shape, whole `text/event-stream` events for a stream), or answer this in place of the
    upstream's response (`from_upstream`).
    MCP policy: answer with `body` as the JSON-RPC result (a JSON value; bytes are taken as JSON
    text); status and headers are unused there."""

    body: Union[bytes, str, JsonValue] = b""
    status: int = 200
    headers: Headers = ()


@dataclass(frozen=True)
class Send:
    """Adapter: send this request to the provider. `path` (and query) is appended to the
    provider's base URL; `headers` are sent as given (add the provider's auth header here);
    `body` None sends the host's prepared body (the client's, with the upstream model set and
    `user_id` removed), else a dict is sent as JSON and bytes as they are; `stream` tells
    whether the upstream will answer with a server-sent event stream (usually `ctx.stream`)."""

    method: str
    path: str
    headers: Headers = ()
    body: Optional[Union[bytes, JsonValue]] = None
    stream: bool = False


@dataclass(frozen=True)
class Rewrite:
    """Guard: let this JSON body through instead. MCP policy: forward these params instead."""

    body: JsonValue


@dataclass(frozen=True)
class Replace:
    """Guard, stream text: send this text in place of the whole `text` argument."""

    text: str


@dataclass(frozen=True)
class Stop:
    """Guard, stream text: end the stream now with this error as its last event."""

    error: types.ErrorBody


@dataclass(frozen=True)
class Enrichment:
    """Enrich: headers to add (ignored for streams), fields merged into the response's `sluice`
    object (JSON values, encoded by the SDK) and the request's cost in USD, if priced."""

    headers: Headers = ()
    metadata: Mapping[str, JsonValue] = field(default_factory=dict)
    cost_usd: Optional[float] = None


PolicyResult = Union[Allow, Continue, Deny, Respond]
"""What `Policy.on_request` returns."""

JsonVerdict = Union[Allow, Deny, Rewrite]
"""What `Guard.check_json` returns."""

TextResult = Union[Allow, Replace, Stop]
"""What `Guard.check_text` returns."""

McpResult = Union[Allow, Rewrite, Deny, Respond]
"""What `McpPolicy.on_mcp_request` returns."""

UpstreamResult = Union[Send, Respond, Deny]
"""What `Adapter.to_upstream` returns."""

Events = Union[List[types.SseEvent], Tuple[types.SseEvent, ...], Deny]
"""What a stream translator's `on_event` returns."""

StreamEnd = Union[Tuple[Iterable[types.SseEvent], Optional[types.Usage]],
                  List[types.SseEvent], None, Deny]
"""What a stream translator's `finish` returns: the last events and the stream's usage (or
just the events, or None for neither), or `Deny(err)` when the stream did not complete."""


# --- Conversions to the WIT variants (used by the export glue) -----------------------------------


def _metadata_pairs(metadata: Mapping[str, JsonValue]) -> List[Tuple[str, str]]:
    return [(str(k), json_text(v)) for k, v in metadata.items()]


def to_decision(result: PolicyResult) -> types.Decision:
    """The WIT `decision` for a policy result."""
    if isinstance(result, Allow):
        return types.Decision_Continue(types.Allow(headers=[], metadata=[], body=None))
    if isinstance(result, Continue):
        body = None if result.body is None else _body_bytes(result.body)
        allow = types.Allow(
            headers=header_pairs(result.headers),
            metadata=_metadata_pairs(result.metadata),
            body=body,
        )
        return types.Decision_Continue(allow)
    if isinstance(result, Deny) and isinstance(result.error, types.ErrorBody):
        return types.Decision_Deny(result.error)
    if isinstance(result, Respond):
        return types.Decision_Respond(http_response(result))
    raise TypeError(f"on_request must return Allow, Continue, Deny or Respond, not {result!r}")


def http_response(result: Respond) -> types.HttpResponse:
    """The WIT `http-response` for a `Respond` (a JSON body gets its content type)."""
    headers = header_pairs(result.headers)
    if not isinstance(result.body, (bytes, bytearray, memoryview, str)) and not any(
        k == "content-type" for k, _ in headers
    ):
        headers.append(("content-type", "application/json"))
    return types.HttpResponse(status=result.status, headers=headers, body=_body_bytes(result.body))


def to_enrichment(result: Enrichment) -> types.Enrichment:
    """The WIT `enrichment` for an enrich result."""
    if not isinstance(result, Enrichment):
        raise TypeError(f"on_response must return an Enrichment, not {result!r}")
    return types.Enrichment(
        headers=header_pairs(result.headers),
        metadata=_metadata_pairs(result.metadata),
        cost_usd=result.cost_usd,
    )


def to_mcp_decision(result: McpResult) -> mcp_types.McpDecision:
    """The WIT `mcp-decision` for an MCP policy result."""
    if isinstance(result, Allow):
        return mcp_types.McpDecision_Continue(None)
    if isinstance(result, Rewrite):
        return mcp_types.McpDecision_Continue(json_text(result.body))
    if isinstance(result, Deny) and isinstance(result.error, mcp_types.McpError):
        return mcp_types.McpDecision_Deny(result.error)
    if isinstance(result, Respond):
        body = result.body
        if isinstance(body, (bytes, bytearray, memoryview)):
            text = bytes(body).decode()
        else:
            text = json_text(body)
        return mcp_types.McpDecision_Respond(text)
    raise TypeError(
        f"on_mcp_request must return Allow, Rewrite, Deny(McpError) or Respond, not {result!r}"
    )


def to_upstream_call(result: UpstreamResult) -> Union[adapter.UpstreamCall, Deny]:
    """The WIT `upstream-call` for an adapter's `to_upstream` result (`Deny` is returned as it
    is: the glue raises its error)."""
    if isinstance(result, Send):
        body = None if result.body is None else _body_bytes(result.body)
        return adapter.UpstreamCall_Send(types.UpstreamRequest(
            method=result.method.upper(), path=result.path, headers=header_pairs(result.headers),
            body=body, stream=bool(result.stream)))
    if isinstance(result, types.UpstreamRequest):
        return adapter.UpstreamCall_Send(result)
    if isinstance(result, Respond):
        return adapter.UpstreamCall_Respond(http_response(result))
    if isinstance(result, types.HttpResponse):
        return adapter.UpstreamCall_Respond(result)
    if isinstance(result, Deny) and isinstance(result.error, types.ErrorBody):
        return result
    raise TypeError(f"to_upstream must return Send, Respond or Deny, not {result!r}")


def to_response(result: Any) -> Union[Optional[types.HttpResponse], Deny]:
    """The WIT `option<http-response>` for an adapter's `from_upstream` result (`Deny` is
    returned as it is)."""
    if result is None or isinstance(result, types.HttpResponse):
        return result
    if isinstance(result, Respond):
        return http_response(result)
    if isinstance(result, Deny) and isinstance(result.error, types.ErrorBody):
        return result
    raise TypeError(f"from_upstream must return None, Respond or Deny, not {result!r}")


def _event_list(events: Any, what: str) -> List[types.SseEvent]:
    if events is None:
        return []
    if isinstance(events, (types.SseEvent, str, bytes, Mapping)):
        raise TypeError(f"{what} must return a list of SseEvent, not {events!r}")
    out = list(events)
    for e in out:
        if not isinstance(e, types.SseEvent):
            raise TypeError(f"{what} must return SseEvent values (see sse_event()), not {e!r}")
    return out


def to_events(result: Events) -> Union[List[types.SseEvent], Deny]:
    """The WIT `list<sse-event>` for a stream translator's `on_event` result (`Deny` is returned
    as it is)."""
    if isinstance(result, Deny) and isinstance(result.error, types.ErrorBody):
        return result
    return _event_list(result, "on_event")


def to_stream_end(result: StreamEnd) -> Union[
        Tuple[List[types.SseEvent], Optional[types.Usage]], Deny]:
    """The WIT `tuple<list<sse-event>, option<usage>>` for a stream translator's `finish`
    result (`Deny` is returned as it is)."""
    if isinstance(result, Deny) and isinstance(result.error, types.ErrorBody):
        return result
    if isinstance(result, tuple) and len(result) == 2 and (
            result[1] is None or isinstance(result[1], types.Usage)):
        return _event_list(result[0], "finish"), result[1]
    return _event_list(result, "finish"), None
