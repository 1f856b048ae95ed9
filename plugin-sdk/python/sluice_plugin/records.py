"""Reading and building the WIT records: header and attribute lookups, endpoint names, and
constructors with defaults (the generated classes take every field)."""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping, Optional, Sequence, Tuple, Union

from ._wit import adapter, mcp_types, types
from .results import Headers, JsonValue, header_pairs, json_text

RequestCtx = types.RequestCtx
LlmMeta = types.LlmMeta
Principal = types.Principal
Outcome = types.Outcome
Usage = types.Usage
HttpResponse = types.HttpResponse
Endpoint = types.Endpoint
McpRequest = mcp_types.McpRequest
Provider = adapter.Provider
SseEvent = types.SseEvent
UpstreamRequest = types.UpstreamRequest

_ENDPOINT_NAMES = {
    "CHAT_COMPLETIONS": "chat.completions",
    "COMPLETIONS": "completions",
    "EMBEDDINGS": "embeddings",
    "MODELS": "models",
    "AUDIO_SPEECH": "audio.speech",
    "IMAGES_GENERATIONS": "images.generations",
    "FILES": "files",
    "BATCHES": "batches",
    "MCP": "mcp",
    "USAGE": "usage",
    "MESSAGES": "messages",
    "RESPONSES": "responses",
    "AUDIO_TRANSCRIPTIONS": "audio.transcriptions",
    "AUDIO_TRANSLATIONS": "audio.translations",
    "IMAGES_EDITS": "images.edits",
    "IMAGES_VARIATIONS": "images.variations",
    "MODERATIONS": "moderations",
}


def header(source: Union[types.RequestCtx, types.HttpResponse, Iterable[Tuple[str, str]]],
           name: str) -> Optional[str]:
    """The value of the first header named `name` (case-insensitive) of a request context, an
    HTTP response or a list of (name, value) pairs."""
    pairs = getattr(source, "headers", source)
    wanted = name.lower()
    for key, value in pairs:
        if key.lower() == wanted:
            return value
    return None


def attribute(principal: Optional[types.Principal], name: str) -> Optional[str]:
    """The value of the principal's attribute `name` (limits, tier, ...), if it has one."""
    if principal is None:
        return None
    for key, value in principal.attributes:
        if key == name:
            return value
    return None


def may_use_mcp_server(principal: types.Principal, server: str) -> bool:
    """Whether the principal may reach the MCP server `server` (an empty list: every one)."""
    return not principal.mcp_servers or server in principal.mcp_servers


def endpoint_name(endpoint: types.Endpoint) -> str:
    """The endpoint's name as the gateway reports it, such as `chat.completions`."""
    return _ENDPOINT_NAMES[endpoint.name]


_ENDPOINT_PATHS = {
    "CHAT_COMPLETIONS": "/chat/completions",
    "COMPLETIONS": "/completions",
    "EMBEDDINGS": "/embeddings",
    "MODELS": "/models",
    "AUDIO_SPEECH": "/audio/speech",
    "IMAGES_GENERATIONS": "/images/generations",
    "FILES": "/files",
    "BATCHES": "/batches",
    "MCP": "/mcp-servers/{name}/mcp",
    "USAGE": "/dashboard/api/summary",
    "MESSAGES": "/messages",
    "RESPONSES": "/responses",
    "AUDIO_TRANSCRIPTIONS": "/audio/transcriptions",
    "AUDIO_TRANSLATIONS": "/audio/translations",
    "IMAGES_EDITS": "/images/edits",
    "IMAGES_VARIATIONS": "/images/variations",
    "MODERATIONS": "/moderations",
}


def endpoint_method(endpoint: types.Endpoint) -> str:
    """The HTTP method clients use for the endpoint: `GET` for models and usage, else `POST`."""
    return "GET" if endpoint.name in ("MODELS", "USAGE") else "POST"


def endpoint_path(endpoint: types.Endpoint) -> str:
    """The endpoint's path without the `/v1` prefix, such as `/chat/completions` (`/models` for
    the models endpoint; a template `/mcp-servers/{name}/mcp` for MCP)."""
    return _ENDPOINT_PATHS[endpoint.name]


def sse_event(data: Union[str, JsonValue], event: Optional[str] = None) -> types.SseEvent:
    """A server-sent event: `data` as it is when a str, else encoded as JSON."""
    return types.SseEvent(event=event, data=data if isinstance(data, str) else json_text(data))


def mcp_params(req: mcp_types.McpRequest) -> Any:
    """The MCP request's `params`, parsed (blank text counts as `{}`)."""
    return json.loads(req.params) if req.params.strip() else {}


def mcp_tool(req: mcp_types.McpRequest) -> Optional[str]:
    """The tool's name when the MCP request is a `tools/call`, else None."""
    return req.target if req.method == "tools/call" else None


def principal(
    key_id: str = "",
    owner: str = "",
    *,
    team: Optional[str] = None,
    models: Sequence[str] = (),
    attributes: Union[Mapping[str, str], Iterable[Tuple[str, str]]] = (),
    mcp_servers: Sequence[str] = (),
) -> types.Principal:
    """A `Principal` (what an auth plugin returns; tests build them too)."""
    items = attributes.items() if isinstance(attributes, Mapping) else attributes
    return types.Principal(
        key_id=key_id,
        owner=owner,
        team=team,
        models=list(models),
        attributes=[(str(k), str(v)) for k, v in items],
        mcp_servers=list(mcp_servers),
    )


def request_ctx(
    *,
    request_id: str = "",
    endpoint: types.Endpoint = types.Endpoint.CHAT_COMPLETIONS,
    model: str = "",
    stream: bool = False,
    user_id: Optional[str] = None,
    key_id: Optional[str] = None,
    headers: Headers = (),
) -> types.RequestCtx:
    """A `RequestCtx` with defaults for every field (for tests)."""
    return types.RequestCtx(
        request_id=request_id,
        endpoint=endpoint,
        model=model,
        stream=stream,
        user_id=user_id,
        key_id=key_id,
        headers=header_pairs(headers),
    )


def llm_meta(*, max_tokens: Optional[int] = None, est_prompt_tokens: int = 0,
             n: int = 1) -> types.LlmMeta:
    """An `LlmMeta` with defaults for every field (for tests)."""
    return types.LlmMeta(max_tokens=max_tokens, est_prompt_tokens=est_prompt_tokens, n=n)


def outcome(*, status: int = 200, provider: str = "", served_model: str = "",
            usage: Optional[types.Usage] = None, latency_ms: int = 0,
            upstream_us: int = 0) -> types.Outcome:
    """An `Outcome` with defaults for every field (for tests)."""
    return types.Outcome(status=status, provider=provider, served_model=served_model,
                         usage=usage, latency_ms=latency_ms, upstream_us=upstream_us)


def mcp_request(*, request_id: str = "", server: str = "", session_id: Optional[str] = None,
                user_id: Optional[str] = None, method: str = "", target: Optional[str] = None,
                params: Any = None) -> mcp_types.McpRequest:
    """An `McpRequest` with defaults (for tests); `params` is a JSON value (None: `{}`)."""
    text = "{}" if params is None else json.dumps(params)
    return mcp_types.McpRequest(request_id=request_id, server=server, session_id=session_id,
                                user_id=user_id, method=method, target=target, params=text)




def provider(name: str = "", base_url: str = "", *, api_key: Optional[str] = None,
             upstream_model: str = "") -> adapter.Provider:
    """A `Provider` with defaults for every field (for tests)."""
    return adapter.Provider(name=name, base_url=base_url, api_key=api_key,
                            upstream_model=upstream_model)


def http_response(*, status: int = 200, headers: Headers = (),
                  body: Union[bytes, str, JsonValue] = b"") -> types.HttpResponse:
    """An `HttpResponse` (for tests): a str body as UTF-8, a dict or list as JSON."""
    if isinstance(body, str):
        data = body.encode()
    elif isinstance(body, (bytes, bytearray, memoryview)):
        data = bytes(body)
    else:
        data = json_text(body).encode()
    return types.HttpResponse(status=status, headers=header_pairs(headers), body=data)


def usage(prompt_tokens: int = 0, completion_tokens: int = 0,
          cached_tokens: int = 0) -> types.Usage:
    """A `Usage` (what a stream translator's `finish` may report)."""
    return types.Usage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                       cached_tokens=cached_tokens)
