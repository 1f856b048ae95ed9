"""The base classes a plugin subclasses: one per stage. Each stage method receives the WIT
records as they are (`RequestCtx`, `Principal`, ...) and returns one of the classes in
`sluice_plugin.results`.

A plugin class is built once per instance: its `__init__` receives the config (see
`sluice_plugin.config`), and every call then goes to the same object. Memory kept on the object
lives as long as the gateway's instance: one request for `instances = "fresh"` (the default for
plugins loaded from files), many for `"warm"`; state that must outlive it goes in `kv`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Optional, Tuple, Union

from ._wit import adapter, guard_stage, lifecycle, mcp_types, types
from .results import (
    Allow,
    Deny,
    Enrichment,
    Events,
    JsonVerdict,
    McpResult,
    PolicyResult,
    Respond,
    StreamEnd,
    TextResult,
    UpstreamResult,
)

PluginInfo = lifecycle.PluginInfo
Endpoint = types.Endpoint
Direction = guard_stage.Direction


class Plugin:
    """What every plugin is. Set the class attributes below to describe it to the host, or
    override `info` when the answer depends on the config."""

    wants_body: ClassVar[bool] = False
    """Whether the plugin needs request bodies (`on_request`'s and `to_upstream`'s `body`);
    else it gets `b""`."""

    passthrough: ClassVar[bool] = False
    """Adapters: whether upstream answers, whole and streamed, already are in OpenAI's shape.
    The host then forwards them without calling `from_upstream` or starting a stream
    translator (no Wasm call per stream event)."""

    look_behind: ClassVar[int] = 0
    """Guards: bytes of each stream choice's text the host holds back, so a match up to that
    long is seen whole by `check_text` even when split across chunks."""

    native: ClassVar[Tuple[Endpoint, ...]] = ()
    """Adapters: the APIs besides chat completions the provider speaks itself
    (`Endpoint.MESSAGES`, `Endpoint.RESPONSES`): requests to them reach `to_upstream`
    untranslated, and their answers are expected in that API's shapes."""

    def info(self) -> PluginInfo:
        """What the host is told at load (`init`). The default reads the class attributes."""
        return PluginInfo(
            wants_body=bool(self.wants_body),
            passthrough=bool(self.passthrough),
            look_behind=int(self.look_behind),
            native=list(self.native),
        )


class Policy(Plugin):
    """The policy stage: rate limits, budgets, allow-lists and custom rules."""

    def on_request(
        self, ctx: types.RequestCtx, principal: types.Principal, meta: types.LlmMeta, body: bytes
    ) -> PolicyResult:
        """Decides on a request before it goes upstream: `Allow()`, `Continue(headers=...,
        metadata=..., body=...)`, `Deny(error)` or `Respond(...)`. `body` is the client's JSON
        body when `wants_body` is set, else empty; headers, model and `stream` are in `ctx`."""
        raise NotImplementedError

    def on_complete(
        self,
        ctx: types.RequestCtx,
        principal: types.Principal,
        meta: types.LlmMeta,
        outcome: types.Outcome,
    ) -> None:
        """Called once the response is complete, with its outcome and usage. Default: nothing."""


class Guard(Plugin):
    """The guard stage: sees request bodies and answers, whole and streamed, and may refuse or
    redact them. Set `look_behind` for matches that may be split across stream chunks."""

    def check_json(
        self,
        ctx: types.RequestCtx,
        principal: Optional[types.Principal],
        direction: guard_stage.Direction,
        body: Any,
    ) -> JsonVerdict:
        """Checks a whole JSON body (parsed: usually a dict), a request (`Direction.REQUEST`) or
        an answer in OpenAI's shape (`Direction.RESPONSE`): `Allow()`, `Deny(error)` or
        `Rewrite(new_body)`. `sluice_plugin.guard.for_each_text` visits the text in it."""
        raise NotImplementedError

    def check_text(
        self,
        ctx: types.RequestCtx,
        principal: Optional[types.Principal],
        choice: int,
        text: str,
        last: bool,
    ) -> TextResult:
        """Checks stream text of choice `choice`: the text still held from earlier deltas (at
        most `look_behind` bytes) followed by the new delta: `Allow()`, `Replace(text)` or
        `Stop(error)`. `last` is true when the choice ends. Default: `Allow()`."""
        return Allow()


class Auth(Plugin):
    """The auth stage: turns a request's credential into a principal."""

    def authenticate(
        self, ctx: types.RequestCtx, credential: Optional[str]
    ) -> Union[types.Principal, Deny]:
        """Authenticates a request before its body is read (`ctx.model` is empty).
        `credential` is the bearer token (or `x-api-key`), if any. Return a `Principal` (see
        `sluice_plugin.principal`) or `Deny(invalid_api_key(...))`."""
        raise NotImplementedError


class Enrich(Plugin):
    """The enrich stage: cost, tracing, headers on finished answers."""

    def on_response(
        self, ctx: types.RequestCtx, principal: Optional[types.Principal], outcome: types.Outcome
    ) -> Enrichment:
        """Called when the response is complete, before its body (or last chunk) is sent."""
        raise NotImplementedError


class McpPolicy(Plugin):
    """The MCP policy stage: which tools, prompts and resources a principal may see and use."""

    def on_mcp_request(
        self, req: mcp_types.McpRequest, principal: types.Principal
    ) -> McpResult:
        """Decides on a JSON-RPC request to an MCP server: `Allow()` (forward it),
        `Rewrite(params)`, `Deny(mcp_error(...))` or `Respond(result)`."""
        raise NotImplementedError

    def on_mcp_result(
        self, req: mcp_types.McpRequest, principal: types.Principal, result: Any
    ) -> Optional[Any]:
        """Sees the (parsed) JSON-RPC result of a request this stage let through: return a
        replacement JSON value, or None to keep it. Default: None."""
        return None


class PassThrough:
    """The stream translator of adapters whose upstream already streams OpenAI chunks: every
    event goes on unchanged and nothing is added at the end (what `Adapter.start_stream`
    returns unless overridden)."""

    def on_event(self, event: types.SseEvent) -> Events:
        """The event itself."""
        return [event]

    def finish(self) -> StreamEnd:
        """No last events; the host reads the usage from the chunks."""
        return [], None


class Adapter(Plugin):
    """The provider adapter stage: maps OpenAI requests to a provider's API and its answers
    back. The host makes the HTTP call; an adapter only translates. Set `passthrough = True`
    when the provider already answers in OpenAI's shape, and `wants_body = True` to receive the
    request body in `to_upstream`.

    A stream is translated by an object `start_stream` returns, one per stream, with two
    methods: `on_event(event)` (the OpenAI events for one upstream `SseEvent`: a list, or
    `Deny(err)` to end the stream with that error) and `finish()` (the last events and the
    stream's usage, `(events, usage)`, or `Deny(err)` when the stream was cut short). What it
    remembers between events lives on that object."""

    def to_upstream(
        self, ctx: types.RequestCtx, provider: adapter.Provider, body: bytes
    ) -> UpstreamResult:
        """Builds the call the host makes upstream: `Send(method, path, headers=..., body=...,
        stream=...)`, `Respond(...)` (answer without any provider) or `Deny(error)`. `body` is
        the host's prepared body (upstream model set, `user_id` removed,
        `stream_options.include_usage` set for streams) when `wants_body` is set, else empty."""
        raise NotImplementedError

    def from_upstream(
        self, ctx: types.RequestCtx, resp: types.HttpResponse
    ) -> Union[None, Respond, Deny]:
        """Maps a whole (non-stream) upstream response, of any status, to an OpenAI response:
        `None` (the default) passes it unchanged, `Respond(...)` replaces it, `Deny(error)`
        answers an error instead. Not called for pass-through adapters."""
        return None

    def start_stream(self, ctx: types.RequestCtx, provider: adapter.Provider) -> Any:
        """Starts translating one upstream stream (called once the provider has answered a
        streaming request with a stream; not for pass-through adapters): returns an object
        with `on_event` and `finish` (see the class). Default: `PassThrough()`."""
        return PassThrough()
