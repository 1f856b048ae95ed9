"""What a plugin may reach in the gateway: its log, the clock, its config text, a key-value store
(`kv`) and, for auth plugins, the managed keys (`keys`). Plugins have no network, files or
environment. Under plain CPython (unit tests) these are in-memory fakes; see `testing`."""

from __future__ import annotations

import importlib
from typing import Optional, Union

from ._wit import host as _host
from ._wit import keys as _keys
from ._wit import kv as _kv

Level = _host.Level
"""Log levels: `Level.TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR`."""

KeyRecord = (_keys.KeyRecord if _keys is not None
             else importlib.import_module(f"{__package__}._standins.keys").KeyRecord)
"""A key the gateway manages (see `lookup_key`)."""

WindowCount = _kv.WindowCount
"""What `kv_incr` answers: the counter's new value and the milliseconds until its window ends."""

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


def lookup_key(sha256_hex: str) -> Optional[KeyRecord]:
    """Auth plugins: the managed key whose secret has this sha256 (lower-case hex), if any.
    Only the `auth` world imports `keys`: in a component of another stage this raises
    RuntimeError."""
    if _keys is None:
        raise RuntimeError("lookup_key: only auth plugins (world `auth`) may look keys up")
    return _keys.lookup(sha256_hex)
