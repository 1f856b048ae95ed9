"""The base classes a plugin subclasses: one per stage. Each stage method receives the WIT
records as they are (`RequestCtx`, `Principal`, ...) and returns one of the classes in
`sluice_plugin.results`.

A plugin class is built once per instance: its `__init__` receives the config (see
`sluice_plugin.config`), and every call then goes to the same object. Memory kept on the object
lives as long as the gateway's instance: one request for `instances = "fresh"` (the default for
plugins loaded from files), many for `"warm"`; state that must outlive it goes in `kv`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Optional, Union

from ._wit import guard_stage, lifecycle, mcp_types, types
from .results import Allow, Deny, Enrichment, JsonVerdict, McpResult, PolicyResult, TextResult

PluginInfo = lifecycle.PluginInfo
Direction = guard_stage.Direction


class Plugin:
    """What every plugin is. Set the class attributes below to describe it to the host, or
    override `info` when the answer depends on the config."""

    wants_body: ClassVar[bool] = False
    """Whether the plugin needs request bodies (`on_request`'s `body`); else it gets `b""`."""

    look_behind: ClassVar[int] = 0
    """Guards: bytes of each stream choice's text the host holds back, so a match up to that
    long is seen whole by `check_text` even when split across chunks."""

    def info(self) -> PluginInfo:
        """What the host is told at load (`init`). The default reads the class attributes."""
        return PluginInfo(
            wants_body=bool(self.wants_body), passthrough=False, look_behind=int(self.look_behind)
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
