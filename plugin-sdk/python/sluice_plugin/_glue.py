"""What the export classes call: builds the plugin once per instance and serves each WIT export
from it, converting the SDK's results to the WIT variants. Not for plugin authors.

The plugin is built by `init` (the host calls it once, on the first instance it creates at load)
or, in instances the host creates later without `init`, from the host's `config` import on first
use. A failure to build is kept and answered by every later call of the instance.
"""

from __future__ import annotations

import json
import traceback
from typing import Any, Callable, List, Optional, Tuple, TypeVar

from . import results
from ._wit import adapter, guard_stage, host, lifecycle, mcp_types, result, types
from .config import ConfigError, build, prepare
from .errors import error, mcp_internal
from .stages import Adapter, Auth, Enrich, Guard, McpPolicy, Plugin, Policy

R = TypeVar("R")


class Instance:
    """The plugin value of this (single-threaded) Wasm instance."""

    def __init__(self, plugin: type) -> None:
        self.plugin = plugin
        prepare(plugin)
        self.built: Optional[Plugin] = None
        self.failure: Optional[str] = None

    def init(self, config_json: str) -> lifecycle.PluginInfo:
        """`init`: builds the plugin from `config_json`; an error rejects the load."""
        try:
            plugin = build(self.plugin, config_json)
            info = plugin.info()
        except ConfigError as e:
            raise result.Err(str(e)) from None
        self.built, self.failure = plugin, None
        return lifecycle.PluginInfo(
            wants_body=bool(info.wants_body),
            passthrough=bool(info.passthrough),
            look_behind=int(info.look_behind),
            native=list(info.native),
        )

    def get(self) -> Any:
        """The plugin, built from the host's `config` import the first time it is asked for.
        Raises ConfigError when it cannot be built."""
        if self.built is None and self.failure is None:
            try:
                self.built = build(self.plugin, host.config())
            except ConfigError as e:
                self.failure = str(e)
        if self.built is None:
            raise ConfigError(self.failure or "the plugin was not built")
        return self.built


INSTANCE: Optional[Instance] = None
"""The exported plugin's instance, set by one `export_*` call."""


def instance() -> Instance:
    """The exported plugin's instance."""
    if INSTANCE is None:
        raise RuntimeError("no plugin was exported: call sluice_plugin.export_<stage>(YourPlugin)")
    return INSTANCE


def config_error(message: str) -> types.ErrorBody:
    """The 500 a call answers when the plugin could not be built from its config."""
    return error(500, "server_error", message, code="plugin_config")


def guarded(what: str, call: Callable[[], R]) -> R:
    """Runs the plugin's method; an exception is logged with its traceback (the gateway log
    names the plugin) and re-raised, which traps: the host fails the request and retires the
    instance, as it does for a Rust plugin that panics."""
    try:
        return call()
    except Exception:
        host.log(host.Level.ERROR, f"{what} raised:\n{traceback.format_exc()}")
        raise


def _log_skipped(what: str, e: ConfigError) -> None:
    host.log(host.Level.ERROR, f"{what} skipped: {e}")


# --- policy ----------------------------------------------------------------------------------------


def on_request(ctx: types.RequestCtx, principal: types.Principal, meta: types.LlmMeta,
               body: bytes) -> types.Decision:
    """`on-request`."""
    try:
        plugin: Policy = instance().get()
    except ConfigError as e:
        return types.Decision_Deny(config_error(str(e)))
    return guarded(
        "on_request", lambda: results.to_decision(plugin.on_request(ctx, principal, meta, body))
    )


def on_complete(ctx: types.RequestCtx, principal: types.Principal, meta: types.LlmMeta,
                outcome: types.Outcome) -> None:
    """`on-complete`: a plugin that could not be built logs why and does nothing."""
    try:
        plugin: Policy = instance().get()
    except ConfigError as e:
        return _log_skipped("on_complete", e)
    guarded("on_complete", lambda: plugin.on_complete(ctx, principal, meta, outcome))


# --- guard -----------------------------------------------------------------------------------------


def check_json(ctx: types.RequestCtx, principal: Optional[types.Principal],
               direction: guard_stage.Direction, body: str) -> guard_stage.Verdict:
    """`check-json`: a body that is not JSON, or a plugin that could not be built, is refused
    (a guard fails closed)."""
    try:
        plugin: Guard = instance().get()
    except ConfigError as e:
        return guard_stage.Verdict_Deny(config_error(str(e)))
    try:
        parsed = json.loads(body)
    except ValueError as e:
        message = f"the guard was given a body that is not JSON: {e}"
        return guard_stage.Verdict_Deny(error(500, "server_error", message, code="guard_input"))
    return guarded(
        "check_json", lambda: _verdict(plugin.check_json(ctx, principal, direction, parsed))
    )


def _verdict(verdict: results.JsonVerdict) -> guard_stage.Verdict:
    if isinstance(verdict, results.Allow):
        return guard_stage.Verdict_Allow()
    if isinstance(verdict, results.Deny) and isinstance(verdict.error, types.ErrorBody):
        return guard_stage.Verdict_Deny(verdict.error)
    if isinstance(verdict, results.Rewrite):
        return guard_stage.Verdict_Rewrite(results.json_text(verdict.body))
    raise TypeError(f"check_json must return Allow, Deny or Rewrite, not {verdict!r}")


def check_text(ctx: types.RequestCtx, principal: Optional[types.Principal], choice: int,
               text: str, last: bool) -> guard_stage.TextVerdict:
    """`check-text`: a plugin that could not be built stops the stream."""
    try:
        plugin: Guard = instance().get()
    except ConfigError as e:
        return guard_stage.TextVerdict_Stop(config_error(str(e)))
    return guarded(
        "check_text", lambda: _text_verdict(plugin.check_text(ctx, principal, choice, text, last))
    )


def _text_verdict(verdict: results.TextResult) -> guard_stage.TextVerdict:
    if isinstance(verdict, results.Allow):
        return guard_stage.TextVerdict_Allow()
    if isinstance(verdict, results.Replace):
        return guard_stage.TextVerdict_Replace(verdict.text)
    if isinstance(verdict, results.Stop):
        return guard_stage.TextVerdict_Stop(verdict.error)
    raise TypeError(f"check_text must return Allow, Replace or Stop, not {verdict!r}")


# --- auth ------------------------------------------------------------------------------------------


def authenticate(ctx: types.RequestCtx, credential: Optional[str]) -> types.Principal:
    """`authenticate`: returns the principal, or raises `Err(error-body)`."""
    try:
        plugin: Auth = instance().get()
    except ConfigError as e:
        raise result.Err(config_error(str(e))) from None
    answer = guarded("authenticate", lambda: _principal(plugin.authenticate(ctx, credential)))
    if isinstance(answer, results.Deny):
        raise result.Err(answer.error)
    return answer


def _principal(answer: Any) -> Any:
    if isinstance(answer, types.Principal):
        return answer
    if isinstance(answer, results.Deny) and isinstance(answer.error, types.ErrorBody):
        return answer
    raise TypeError(f"authenticate must return a Principal or Deny, not {answer!r}")


# --- enrich ----------------------------------------------------------------------------------------


def on_response(ctx: types.RequestCtx, principal: Optional[types.Principal],
                outcome: types.Outcome) -> types.Enrichment:
    """`on-response`: a plugin that could not be built logs why and adds nothing."""
    try:
        plugin: Enrich = instance().get()
    except ConfigError as e:
        _log_skipped("on_response", e)
        return types.Enrichment(headers=[], metadata=[], cost_usd=None)
    return guarded(
        "on_response", lambda: results.to_enrichment(plugin.on_response(ctx, principal, outcome))
    )


# --- mcp-policy ------------------------------------------------------------------------------------


def on_mcp_request(req: mcp_types.McpRequest, principal: types.Principal) -> mcp_types.McpDecision:
    """`on-mcp-request`: a plugin that could not be built denies with a JSON-RPC internal
    error."""
    try:
        plugin: McpPolicy = instance().get()
    except ConfigError as e:
        return mcp_types.McpDecision_Deny(mcp_internal(str(e), {"code": "plugin_config"}))
    return guarded(
        "on_mcp_request", lambda: results.to_mcp_decision(plugin.on_mcp_request(req, principal))
    )


def on_mcp_result(req: mcp_types.McpRequest, principal: types.Principal,
                  result_json: str) -> Optional[str]:
    """`on-mcp-result`: the result is parsed for the plugin and its replacement encoded; a
    plugin that could not be built (or a result that is not JSON) keeps the result."""
    try:
        plugin: McpPolicy = instance().get()
    except ConfigError as e:
        _log_skipped("on_mcp_result", e)
        return None
    try:
        parsed = json.loads(result_json)
    except ValueError as e:
        host.log(host.Level.WARN, f"on_mcp_result skipped: the result is not JSON: {e}")
        return None
    def replace() -> Optional[str]:
        replaced = plugin.on_mcp_result(req, principal, parsed)
        return None if replaced is None else results.json_text(replaced)

    return guarded("on_mcp_result", replace)


# --- adapter ---------------------------------------------------------------------------------------


def _ok(answer: Any) -> Any:
    """The answer of a `result`-returning export: a `Deny` raises `Err(error-body)`."""
    if isinstance(answer, results.Deny):
        raise result.Err(answer.error)
    return answer


def _adapter() -> Adapter:
    """The adapter plugin; a plugin that could not be built raises `Err(500 plugin_config)`."""
    try:
        return instance().get()
    except ConfigError as e:
        raise result.Err(config_error(str(e))) from None


def to_upstream(ctx: types.RequestCtx, provider: adapter.Provider,
                body: bytes) -> adapter.UpstreamCall:
    """`to-upstream`: the call upstream, or raises `Err(error-body)`."""
    plugin = _adapter()
    return _ok(guarded(
        "to_upstream",
        lambda: results.to_upstream_call(plugin.to_upstream(ctx, provider, body)),
    ))


def from_upstream(ctx: types.RequestCtx, resp: types.HttpResponse) -> Optional[types.HttpResponse]:
    """`from-upstream`: the replacement response (None keeps it), or raises `Err(error-body)`."""
    plugin = _adapter()
    return _ok(guarded(
        "from_upstream", lambda: results.to_response(plugin.from_upstream(ctx, resp))
    ))


def stream_finished() -> types.ErrorBody:
    """The 500 for a call on a translator whose stream already finished (a host bug)."""
    return error(500, "server_error", "the stream-translator was called after its stream finished",
                 code="stream_finished")


class Stream:
    """One stream's translator, as `start_stream` made it, held by one `stream-translator`
    resource: `finish` consumes it, so a stream ends once. When the plugin could not be built,
    it holds the error instead and answers every call with it."""

    def __init__(self, ctx: types.RequestCtx, provider: adapter.Provider) -> None:
        self.translator: Any = None
        self.failure: Optional[types.ErrorBody] = None
        try:
            plugin: Adapter = instance().get()
        except ConfigError as e:
            self.failure = config_error(str(e))
            return
        def start() -> Any:
            translator = plugin.start_stream(ctx, provider)
            if not (callable(getattr(translator, "on_event", None))
                    and callable(getattr(translator, "finish", None))):
                raise TypeError("start_stream must return an object with `on_event` and "
                                f"`finish` methods, not {translator!r}")
            return translator

        self.translator = guarded("start_stream", start)

    def _held(self) -> Any:
        if self.failure is not None:
            raise result.Err(self.failure)
        if self.translator is None:
            raise result.Err(stream_finished())
        return self.translator

    def on_event(self, event: types.SseEvent) -> List[types.SseEvent]:
        """Maps one upstream event with the held translator."""
        translator = self._held()
        return _ok(guarded("on_event", lambda: results.to_events(translator.on_event(event))))

    def finish(self) -> Tuple[List[types.SseEvent], Optional[types.Usage]]:
        """Ends the stream: consumes the held translator; later calls answer an error."""
        translator = self._held()
        self.translator = None
        return _ok(guarded("finish", lambda: results.to_stream_end(translator.finish())))
