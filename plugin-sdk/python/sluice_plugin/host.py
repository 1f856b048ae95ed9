"""What a plugin may reach in the gateway: its log, the clock, its config text, events for the
operator's webhooks (`notify`), a key-value store (`kv`), for policy and enrich plugins the
gateway's price table (`prices`) and, for auth plugins, the managed keys (`keys`). Plugins have
no network, files or environment. Under plain CPython (unit tests) these are in-memory fakes; see
`testing`."""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from typing import Any, List, Mapping, Optional, Sequence, Tuple, Union

from ._wit import host as _host
from ._wit import keys as _keys
from ._wit import kv as _kv
from ._wit import prices as _prices
from ._wit import types as _types

Level = _host.Level
"""Log levels: `Level.TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR`."""

KeyRecord = (_keys.KeyRecord if _keys is not None
             else importlib.import_module(f"{__package__}._standins.keys").KeyRecord)
"""A key the gateway manages (see `lookup_key`)."""

WindowCount = _kv.WindowCount
"""What `kv_incr` answers: the counter's new value and the milliseconds until its window ends."""

Price = (_prices.Price if _prices is not None
         else importlib.import_module(f"{__package__}._standins.prices").Price)
"""A model's prices in USD per million tokens: `input`, `output` and `cached_input` (see
`price_lookup`)."""

_LEVELS = {"trace": "TRACE", "debug": "DEBUG", "info": "INFO", "warn": "WARN", "error": "ERROR"}


def log(level: Union[Level, str], message: str) -> None:
    """Writes `message` to the gateway's log at `level` (a `Level`, or its name such as
    `"info"`), tagged with this plugin's name."""
    if isinstance(level, str):
        level = Level[_LEVELS.get(level.lower(), level.upper())]
    _host.log(level, message)


def now_ms() -> int:
    """Milliseconds since the Unix epoch, from the host's clock."""
    return _host.now_ms()


def notify(kind: str, data: Mapping[str, Any]) -> None:
    """Sends the event `kind` (such as `"budget.threshold"`) with `data` (a dict, sent as a JSON
    object) to the operator's webhooks that subscribe to it. The host signs, delivers and
    retries it in the background; the call returns at once."""
    if not isinstance(data, Mapping):
        raise TypeError(f"notify: data must be a dict (a JSON object), not {type(data).__name__}")
    _host.notify(kind, json.dumps(dict(data), separators=(",", ":"), ensure_ascii=False))


def config_json() -> str:
    """This plugin's `config` table as JSON text (`{}` when absent). The SDK already parses it
    into the plugin's config type once per instance; plugins rarely need the text."""
    return _host.config()


def kv_get(key: str) -> Optional[bytes]:
    """Reads a value from this plugin's key-value store (shared by all its instances)."""
    return _kv.get(key)


def kv_set(key: str, value: Union[bytes, str], ttl_ms: Optional[int] = None) -> None:
    """Writes a value (a str is stored as UTF-8); with `ttl_ms`, it expires after that many
    milliseconds."""
    _kv.set(key, value.encode() if isinstance(value, str) else bytes(value), ttl_ms)


def kv_delete(key: str) -> None:
    """Deletes a value."""
    _kv.delete(key)


def kv_incr(key: str, delta: int, window_ms: int) -> WindowCount:
    """Atomically adds `delta` (which may be negative) to a counter that resets every
    `window_ms` milliseconds (fixed windows aligned to the epoch); answers the new value."""
    return _kv.incr(key, delta, window_ms)


def kv_add(key: str, delta: int, expires_at_ms: int) -> int:
    """Atomically adds `delta` (which may be negative) to the counter `key`, which lives until
    `expires_at_ms` (ms since the Unix epoch; a counter created earlier keeps its expiry, and
    once expired starts again from 0); answers the new value. Name the counter by its period
    (`spend|2026-12`) to count over calendar months or weeks."""
    return _kv.add(key, delta, expires_at_ms)


@dataclass
class Reserved:
    """What `kv_reserve` did: `granted`, with every counter's new value in `counts`; or refused,
    with the index of the first reservation that would pass its limit in `refused` and the value
    its counter would have reached (and the time left in its window) in `would_reach`."""

    granted: bool
    counts: List[WindowCount]
    refused: Optional[int] = None
    would_reach: Optional[WindowCount] = None


def kv_reserve(items: Sequence[Tuple[str, int, int]], window_ms: int) -> Reserved:
    """Adds each `(key, amount, limit)`'s amount to its windowed counter (as `kv_incr`) if none
    would pass its limit, and else adds none, in one atomic step: a rate limiter checks all its
    limits with one call, and they hold across gateway replicas sharing the store. Amounts of 0
    or less are never refused."""
    answer = _kv.reserve([_kv.Reservation(key=k, amount=a, limit=m) for k, a, m in items], window_ms)
    if isinstance(answer, _kv.Reserved_Granted):
        return Reserved(granted=True, counts=list(answer.value))
    return Reserved(granted=False, counts=[], refused=answer.value.index,
                    would_reach=answer.value.would_reach)


def kv_incr_all(deltas: Sequence[Tuple[str, int]], window_ms: int) -> List[WindowCount]:
    """Adds each `(key, delta)` to its windowed counter (as `kv_incr`) in one call; answers the
    new values in order."""
    return list(_kv.incr_all(list(deltas), window_ms))


def _price_table() -> Any:
    if _prices is None:
        raise RuntimeError("prices: only policy and enrich plugins (worlds `policy`, `enrich`) "
                           "may read the price table")
    return _prices


def price_lookup(model: str) -> Optional[Price]:
    """The price of `model` in the gateway's price table (`[pricing]` over a maintained list of
    common models): its own entry, else its entry without a date suffix
    (`gpt-4o-mini-2024-07-18` -> `gpt-4o-mini`), else, for a model or alias of the gateway's
    `[[models]]`, of its name and then its deployments' upstream models. None when nothing
    matches. Only policy and enrich plugins import `prices`: elsewhere this raises
    RuntimeError."""
    return _price_table().lookup(model)


def price_cost(model: str, usage: _types.Usage) -> Optional[float]:
    """What `usage` of `model` costs in USD at `price_lookup(model)`'s price (cached prompt
    tokens at the cached price); None when `model` has no price. Policy and enrich plugins
    only, as `price_lookup`."""
    return _price_table().cost(model, usage)


def cost_of(ctx: _types.RequestCtx, outcome: _types.Outcome) -> float:
    """What a finished request cost in USD: its usage priced as the model the provider served
    (`outcome.served_model`), else as the model the client asked for (`ctx.model`); 0.0 when
    neither has a price or the usage is unknown. Every first-party plugin prices a request this
    way, so they agree to the last digit. Policy and enrich plugins only, as `price_lookup`."""
    _price_table()
    usage = outcome.usage
    if usage is None:
        return 0.0
    cost = price_cost(outcome.served_model, usage)
    if cost is None:
        cost = price_cost(ctx.model, usage)
    return 0.0 if cost is None else cost


def lookup_key(sha256_hex: str) -> Optional[KeyRecord]:
    """Auth plugins: the managed key whose secret has this sha256 (lower-case hex), if any.
    Only the `auth` world imports `keys`: in a component of another stage this raises
    RuntimeError."""
    if _keys is None:
        raise RuntimeError("lookup_key: only auth plugins (world `auth`) may look keys up")
    return _keys.lookup(sha256_hex)
