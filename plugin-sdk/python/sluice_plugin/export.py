"""Registers a plugin class as the component's export: one `export_<stage>` call per app.

componentize-py looks for one class per exported WIT interface in the app module (the module
named on its command line, `app`), named after the interface in PascalCase: `Lifecycle` for
`lifecycle`, `PolicyStage` for `policy-stage`, `GuardStage` for `guard-stage`, and so on. It
instantiates them and calls their methods. The SDK defines those classes here; `export_<stage>`
puts them into the app module, so the app itself only defines and registers its plugin:

```python
@sluice_plugin.export_policy
class MaxTokens(sluice_plugin.Policy):
    ...
```

Adding a stage is mechanical: an export class per WIT interface of its world that forwards to a
function of `_glue`, and a line in `_STAGES`.

Resources are looked up elsewhere: componentize-py expects the class of an exported resource in
a top-level module named after its interface, so the `stream-translator` of the `adapter`
interface is the class `StreamTranslator` of a module `adapter`. `export_adapter` registers that
module (in `sys.modules`, so no file of that name may be on the path) and also puts
`StreamTranslator` into the app module, where tests find it. The export class of the `adapter`
interface is called `Adapter`, like the base class plugins subclass: in the app module the name
`Adapter` is rebound to the export class once the plugin is exported (subclass it before, or
write `sluice_plugin.Adapter`).
"""

from __future__ import annotations

import sys
import types as pytypes
from typing import Any, Dict, List, Optional, Tuple, Type, TypeVar

from . import _glue
from . import stages
from ._wit import IN_COMPONENT, adapter, guard_stage, lifecycle, mcp_types, types
from .stages import Auth, Enrich, Guard, McpPolicy, Plugin, Policy

P = TypeVar("P", bound=type)


class Lifecycle:
    """Export of `lifecycle` (every world): `init` builds the plugin from its config."""

    def init(self, config_json: str) -> lifecycle.PluginInfo:
        """Validates the config and describes the plugin; raises `Err(message)` to reject it."""
        return _glue.instance().init(config_json)


class PolicyStage:
    """Export of `policy-stage` (world `policy`)."""

    def on_request(self, ctx: types.RequestCtx, principal: types.Principal,
                   meta: types.LlmMeta, body: bytes) -> types.Decision:
        """Forwards to the plugin's `on_request`."""
        return _glue.on_request(ctx, principal, meta, body)

    def on_complete(self, ctx: types.RequestCtx, principal: types.Principal,
                    meta: types.LlmMeta, outcome: types.Outcome) -> None:
        """Forwards to the plugin's `on_complete`."""
        _glue.on_complete(ctx, principal, meta, outcome)


class GuardStage:
    """Export of `guard-stage` (world `guard`)."""

    def check_json(self, ctx: types.RequestCtx, principal: Optional[types.Principal],
                   direction: guard_stage.Direction, body: str) -> guard_stage.Verdict:
        """Forwards to the plugin's `check_json` with the body parsed."""
        return _glue.check_json(ctx, principal, direction, body)

    def check_text(self, ctx: types.RequestCtx, principal: Optional[types.Principal],
                   choice: int, text: str, final: bool) -> guard_stage.TextVerdict:
        """Forwards to the plugin's `check_text`."""
        return _glue.check_text(ctx, principal, choice, text, final)


class AuthStage:
    """Export of `auth-stage` (world `auth`)."""

    def authenticate(self, ctx: types.RequestCtx, credential: Optional[str]) -> types.Principal:
        """Forwards to the plugin's `authenticate`; a denial raises `Err(error-body)`."""
        return _glue.authenticate(ctx, credential)


class EnrichStage:
    """Export of `enrich-stage` (world `enrich`)."""

    def on_response(self, ctx: types.RequestCtx, principal: Optional[types.Principal],
                    outcome: types.Outcome) -> types.Enrichment:
        """Forwards to the plugin's `on_response`."""
        return _glue.on_response(ctx, principal, outcome)


class McpPolicyStage:
    """Export of `mcp-policy-stage` (world `mcp-policy`)."""

    def on_mcp_request(self, req: mcp_types.McpRequest,
                       principal: types.Principal) -> mcp_types.McpDecision:
        """Forwards to the plugin's `on_mcp_request`."""
        return _glue.on_mcp_request(req, principal)

    def on_mcp_result(self, req: mcp_types.McpRequest, principal: types.Principal,
                      result: str) -> Optional[str]:
        """Forwards to the plugin's `on_mcp_result` with the result parsed."""
        return _glue.on_mcp_result(req, principal, result)


class Adapter:
    """Export of `adapter` (world `provider-adapter`). Not the base class of adapter plugins,
    which is `sluice_plugin.Adapter` (`sluice_plugin.stages.Adapter`)."""

    def to_upstream(self, ctx: types.RequestCtx, provider: adapter.Provider,
                    body: bytes) -> adapter.UpstreamCall:
        """Forwards to the plugin's `to_upstream`; a denial raises `Err(error-body)`."""
        return _glue.to_upstream(ctx, provider, body)

    def from_upstream(self, ctx: types.RequestCtx,
                      resp: types.HttpResponse) -> Optional[types.HttpResponse]:
        """Forwards to the plugin's `from_upstream`; a denial raises `Err(error-body)`."""
        return _glue.from_upstream(ctx, resp)


class StreamTranslator:
    """The `stream-translator` resource of `adapter`: the host constructs one per stream of an
    adapter that is not pass-through; it holds what the plugin's `start_stream` returned until
    `finish`."""

    def __init__(self, ctx: types.RequestCtx, provider: adapter.Provider) -> None:
        self._stream = _glue.Stream(ctx, provider)

    def on_event(self, event: types.SseEvent) -> List[types.SseEvent]:
        """Maps one upstream event; an error raises `Err(error-body)`."""
        return self._stream.on_event(event)

    def finish(self) -> Tuple[List[types.SseEvent], Optional[types.Usage]]:
        """Ends the stream: the last events and its usage; an error raises `Err(error-body)`."""
        return self._stream.finish()


RESOURCE_MODULE = "adapter"
"""The module componentize-py imports the `stream-translator` class from."""


def _export_resources() -> None:
    """Registers the module `adapter` holding `StreamTranslator` (see the module's doc)."""
    module = sys.modules.get(RESOURCE_MODULE)
    if module is None:
        module = pytypes.ModuleType(RESOURCE_MODULE, "The SDK's `stream-translator` resource.")
        sys.modules[RESOURCE_MODULE] = module
    setattr(module, "StreamTranslator", StreamTranslator)


# Stage -> (the base class its plugins subclass, the export classes of its world).
_STAGES: Dict[str, Tuple[Type[Plugin], Tuple[type, ...]]] = {
    "adapter": (stages.Adapter, (Lifecycle, Adapter, StreamTranslator)),
    "policy": (Policy, (Lifecycle, PolicyStage)),
    "guard": (Guard, (Lifecycle, GuardStage)),
    "auth": (Auth, (Lifecycle, AuthStage)),
    "enrich": (Enrich, (Lifecycle, EnrichStage)),
    "mcp-policy": (McpPolicy, (Lifecycle, McpPolicyStage)),
}


def _export(stage: str, plugin: Any, module: Optional[str], depth: int) -> None:
    base, classes = _STAGES[stage]
    if not (isinstance(plugin, type) and issubclass(plugin, base)):
        raise TypeError(f"export_{stage.replace('-', '_')} takes a subclass of "
                        f"sluice_plugin.{base.__name__}, not {plugin!r}")
    if _glue.INSTANCE is not None and IN_COMPONENT:
        raise RuntimeError(f"a plugin was already exported ({_glue.INSTANCE.plugin.__name__}): "
                           "a component exports one")
    _glue.INSTANCE = _glue.Instance(plugin)
    name = module if module is not None else sys._getframe(depth).f_globals["__name__"]
    target = sys.modules[name]
    for cls in classes:
        setattr(target, cls.__name__, cls)
    if stage == "adapter":
        _export_resources()


def export_adapter(plugin: P, *, module: Optional[str] = None) -> P:
    """Exports an `Adapter` plugin class (world `provider-adapter`); see `export_policy`. It
    also registers the module `adapter` with the `stream-translator` class componentize-py
    looks for, and rebinds `Adapter` in the app module to the export class."""
    _export("adapter", plugin, module, 2)
    return plugin


def export_policy(plugin: P, *, module: Optional[str] = None) -> P:
    """Exports a `Policy` plugin class (world `policy`). Use it as a class decorator or call it
    once in the app module; the export classes go into `module` (default: the caller's)."""
    _export("policy", plugin, module, 2)
    return plugin


def export_guard(plugin: P, *, module: Optional[str] = None) -> P:
    """Exports a `Guard` plugin class (world `guard`); see `export_policy`."""
    _export("guard", plugin, module, 2)
    return plugin


def export_auth(plugin: P, *, module: Optional[str] = None) -> P:
    """Exports an `Auth` plugin class (world `auth`); see `export_policy`."""
    _export("auth", plugin, module, 2)
    return plugin


def export_enrich(plugin: P, *, module: Optional[str] = None) -> P:
    """Exports an `Enrich` plugin class (world `enrich`); see `export_policy`."""
    _export("enrich", plugin, module, 2)
    return plugin


def export_mcp_policy(plugin: P, *, module: Optional[str] = None) -> P:
    """Exports an `McpPolicy` plugin class (world `mcp-policy`); see `export_policy`."""
    _export("mcp-policy", plugin, module, 2)
    return plugin
