"""Unit-testing plugins under plain CPython, without building a component.

```python
from sluice_plugin import Deny
from sluice_plugin.testing import build, llm_meta, principal, request_ctx
from app import MaxTokens

def test_denies_above_the_cap():
    plugin = build(MaxTokens, {"max_tokens": 100})
    d = plugin.on_request(request_ctx(), principal(), llm_meta(max_tokens=101), b"")
    assert isinstance(d, Deny) and d.error.param == "max_tokens"
```

The record classes are the SDK's stand-ins for the generated bindings (same names and fields),
and the host imports are in-memory fakes: `logs()` lists what the plugin logged, `events()` what
it sent with `notify`, `reset()` empties the logs, the events, the key-value store, the price
table and the managed keys, `set_config` sets what the `config` import answers, `set_price`
prices a model for `price_lookup`, `price_cost` and `cost_of`, and `add_key` adds a managed key
for `lookup_key`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Callable, List, Mapping, Optional, Sequence, Tuple, TypeVar, Union

from ._wit import IN_COMPONENT
from .config import build as _build
from .records import (  # noqa: F401
    http_response,
    llm_meta,
    mcp_request,
    outcome,
    principal,
    provider,
    request_ctx,
    sse_event,
    usage,
)

T = TypeVar("T")

if IN_COMPONENT:  # pragma: no cover - the fakes are for plain CPython only
    raise ImportError("sluice_plugin.testing is for unit tests, not for components")

from ._standins import host as _host  # noqa: E402
from ._standins import keys as _keys  # noqa: E402
from ._standins import kv as _kv  # noqa: E402
from ._standins import prices as _prices  # noqa: E402


def build(plugin: Callable[..., T], config: Union[Mapping[str, Any], str, None] = None) -> T:
    """Builds `plugin` the way the gateway does from its config (a dict, JSON text, or None for
    `{}`): parsed into the config type `__init__` declares, then `__init__` is called. Raises
    `ConfigError` with the message that would reject the load."""
    text = config if isinstance(config, str) else json.dumps(config or {})
    return _build(plugin, text)


def logs() -> List[Tuple[str, str]]:
    """What the plugin logged: (level name in lower case, message) pairs, oldest first."""
    return [(level.name.lower(), message) for level, message in _host.LOGS]


def events() -> List[Tuple[str, Any]]:
    """What the plugin sent with `notify`: (kind, data parsed from its JSON) pairs, oldest
    first."""
    return [(kind, json.loads(data)) for kind, data in _host.EVENTS]


def set_price(model: str, input: float, output: float,
              cached_input: Optional[float] = None) -> None:
    """Prices `model` in USD per million tokens, as a `[pricing]` entry does (`cached_input`
    defaults to `input`). Lookups also find it under a dated name (`model-2024-07-18`); the
    gateway's `[[models]]` aliases are not known to the fake: price them by name."""
    _prices.PRICES[model] = _prices.Price(
        input=float(input), output=float(output),
        cached_input=float(input if cached_input is None else cached_input),
    )


def set_config(config: Union[Mapping[str, Any], str]) -> None:
    """Sets what the host's `config` import answers (used by instances built without `init`)."""
    _host.CONFIG = config if isinstance(config, str) else json.dumps(config)


def add_key(secret: str, key_id: str, owner: str, *, team: Optional[str] = None,
            models: Sequence[str] = (), attributes: Mapping[str, str] = {},
            expires_at_ms: Optional[int] = None, revoked: bool = False) -> None:
    """Adds a managed key that `lookup_key(sha256(secret))` finds."""
    digest = hashlib.sha256(secret.encode()).hexdigest()
    _keys.KEYS[digest] = _keys.KeyRecord(
        id=key_id, owner=owner, team=team, models=list(models),
        attributes=list(attributes.items()), mcp_servers=[], expires_at_ms=expires_at_ms,
        revoked=revoked,
    )


def reset() -> None:
    """Empties the logs, the events, the key-value store, the price table and the managed keys;
    the config becomes `{}`."""
    _host.LOGS.clear()
    _host.EVENTS.clear()
    _host.CONFIG = "{}"
    _kv.VALUES.clear()
    _kv.COUNTERS.clear()
    _kv.TOTALS.clear()
    _prices.PRICES.clear()
    _keys.KEYS.clear()
