"""sluice_plugin: write Sluice gateway plugins in Python, built into WebAssembly components with
componentize-py.

A plugin is a class that subclasses one stage's base class and is registered once:

| stage      | base class  | register with       | methods                                   |
|------------|-------------|---------------------|-------------------------------------------|
| policy     | `Policy`    | `export_policy`     | `on_request`, `on_complete`               |
| guard      | `Guard`     | `export_guard`      | `check_json`, `check_text`                |
| auth       | `Auth`      | `export_auth`       | `authenticate`                            |
| enrich     | `Enrich`    | `export_enrich`     | `on_response`                             |
| mcp-policy | `McpPolicy` | `export_mcp_policy` | `on_mcp_request`, `on_mcp_result`         |
| adapter    | `Adapter`   | `export_adapter`    | `to_upstream`, `from_upstream`, `start_stream` |

```python
from dataclasses import dataclass
import sluice_plugin
from sluice_plugin import Continue, Deny, Policy, bad_request

@dataclass(frozen=True)
class Config:
    max_tokens: int

@sluice_plugin.export_policy
class Cap(Policy):
    def __init__(self, config: Config) -> None:
        self.cap = config.max_tokens

    def on_request(self, ctx, principal, meta, body):
        if meta.max_tokens is not None and meta.max_tokens > self.cap:
            return Deny(bad_request(f"max_tokens may be at most {self.cap}", param="max_tokens"))
        return Continue(headers={"x-cap": str(self.cap)})
```

Build it (the app module is `app`, in the project directory):

```sh
componentize-py -d wit/plugin.wit -w policy componentize -p plugin-sdk/python -p . app -o app.wasm
```

**Config is parsed once per instance**, into the type `__init__` declares (see
`sluice_plugin.config`): from the JSON the host passes to `init` at load, or, in instances the
host creates later without `init`, from the host's `config` import on first use. An unknown,
missing or mistyped field rejects the load and names the field; so does any exception `__init__`
raises (`ConfigError` for checks of your own).

**What a stage gets**: the WIT records as componentize-py generates them (`RequestCtx`,
`Principal`, `LlmMeta`, `Outcome`, `McpRequest`, `Provider`, `HttpResponse`, `SseEvent`;
snake-case fields). `header(ctx, name)` and
`attribute(principal, name)` look values up; `endpoint_name(ctx.endpoint)` names the endpoint.
**What it returns**: `Allow`, `Continue`, `Deny`, `Respond`, `Rewrite`, `Replace`, `Stop`,
`Enrichment` or `Send` (see `sluice_plugin.results`); errors come from `bad_request`, `forbidden`,
`rate_limited`, ... (`sluice_plugin.errors`).

**Host imports**: `log`, `now_ms`, `config_json`, `notify` (events for the operator's webhooks),
`kv_get`/`kv_set`/`kv_delete`/`kv_incr`/`kv_reserve`/`kv_incr_all`/`kv_add`, for policy and
enrich plugins the gateway's price table (`price_lookup`, `price_cost`, `cost_of`) and, for auth
plugins, `lookup_key`.
Plugins have no network, files or environment.

**Tests** run under plain CPython: outside a component the records are pure-Python stand-ins
and the host imports are fakes; `sluice_plugin.testing` builds plugins from config and makes
records with defaults.
"""

from __future__ import annotations

from ._wit import IN_COMPONENT
from .config import ConfigError
from .errors import (
    ErrorBody,
    McpError,
    bad_request,
    bad_upstream,
    error,
    forbidden,
    invalid_api_key,
    mcp_error,
    mcp_internal,
    model_not_found,
    rate_limited,
    server_error,
    with_param,
)
from .export import (
    export_adapter,
    export_auth,
    export_enrich,
    export_guard,
    export_mcp_policy,
    export_policy,
)
from .host import (
    KeyRecord,
    Level,
    Price,
    Reserved,
    WindowCount,
    config_json,
    cost_of,
    kv_add,
    kv_delete,
    kv_get,
    kv_incr,
    kv_incr_all,
    kv_reserve,
    kv_set,
    log,
    lookup_key,
    notify,
    now_ms,
    price_cost,
    price_lookup,
)
from .records import (
    Endpoint,
    HttpResponse,
    LlmMeta,
    McpRequest,
    Outcome,
    Principal,
    Provider,
    RequestCtx,
    SseEvent,
    UpstreamRequest,
    Usage,
    attribute,
    endpoint_method,
    endpoint_name,
    endpoint_path,
    header,
    may_use_mcp_server,
    mcp_params,
    mcp_tool,
    principal,
    sse_event,
)
from .results import (
    Allow,
    Continue,
    Deny,
    Enrichment,
    JsonVerdict,
    McpResult,
    PolicyResult,
    Replace,
    Respond,
    Rewrite,
    Send,
    Stop,
    TextResult,
    UpstreamResult,
)
from .stages import (
    Adapter,
    Auth,
    Direction,
    Enrich,
    Guard,
    McpPolicy,
    PassThrough,
    Plugin,
    PluginInfo,
    Policy,
)

Decision = PolicyResult
"""What `Policy.on_request` returns (an alias of `PolicyResult`)."""

__all__ = [
    "IN_COMPONENT", "ConfigError",
    "ErrorBody", "McpError", "bad_request", "bad_upstream", "error", "forbidden",
    "invalid_api_key", "mcp_error", "mcp_internal", "model_not_found", "rate_limited",
    "server_error", "with_param",
    "export_adapter", "export_auth", "export_enrich", "export_guard", "export_mcp_policy",
    "export_policy",
    "KeyRecord", "Level", "Price", "Reserved", "WindowCount", "config_json", "cost_of", "kv_add",
    "kv_delete", "kv_get", "kv_incr", "kv_incr_all", "kv_reserve", "kv_set", "log", "lookup_key",
    "notify", "now_ms",
    "price_cost", "price_lookup",
    "Endpoint", "HttpResponse", "LlmMeta", "McpRequest", "Outcome", "Principal", "Provider",
    "RequestCtx", "SseEvent", "UpstreamRequest", "Usage", "attribute", "endpoint_method",
    "endpoint_name", "endpoint_path", "header", "may_use_mcp_server", "mcp_params", "mcp_tool",
    "principal", "sse_event",
    "Allow", "Continue", "Decision", "Deny", "Enrichment", "JsonVerdict", "McpResult",
    "PolicyResult", "Replace", "Respond", "Rewrite", "Send", "Stop", "TextResult",
    "UpstreamResult",
    "Adapter", "Auth", "Direction", "Enrich", "Guard", "McpPolicy", "PassThrough", "Plugin",
    "PluginInfo", "Policy",
]
