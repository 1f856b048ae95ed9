"""Stand-in for the generated `wit_world.imports.kv`: an in-memory store with the host's
semantics (expiring values, fixed windows aligned to the epoch, counters that expire at a given
time)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple, Union


@dataclass
class WindowCount:
    """Result of a windowed increment."""

    value: int
    ms_to_reset: int


@dataclass
class Reservation:
    """A counter `reserve` adds to and the value it must not pass."""

    key: str
    amount: int
    limit: int


@dataclass
class Refusal:
    """The reservation `reserve` refused: its index, and what its counter would have reached."""

    index: int
    would_reach: WindowCount


@dataclass
class Reserved_Granted:
    value: List[WindowCount]


@dataclass
class Reserved_Refused:
    value: Refusal


Reserved = Union[Reserved_Granted, Reserved_Refused]
"""What `reserve` did."""


VALUES: Dict[str, Tuple[bytes, Optional[int]]] = {}
"""Stored values with their expiry (ms since the epoch), if any."""

COUNTERS: Dict[str, Tuple[int, int]] = {}
"""Windowed counters: key -> (window start in ms, value)."""

TOTALS: Dict[str, Tuple[int, int]] = {}
"""Counters of `add`: key -> (expiry in ms since the epoch, value)."""


def _now() -> int:
    return time.time_ns() // 1_000_000


def get(key: str) -> Optional[bytes]:
    """Reads a value (none once it expired)."""
    found = VALUES.get(key)
    if found is None:
        return None
    value, expires = found
    if expires is not None and expires <= _now():
        del VALUES[key]
        return None
    return value


def set(key: str, value: bytes, ttl_ms: Optional[int]) -> None:
    """Writes a value; with `ttl_ms`, it expires after that many milliseconds."""
    VALUES[key] = (bytes(value), None if ttl_ms is None else _now() + ttl_ms)


def delete(key: str) -> None:
    """Deletes a value."""
    VALUES.pop(key, None)


def incr(key: str, delta: int, window_ms: int) -> WindowCount:
    """Adds `delta` to the counter of the current fixed window and returns the new value."""
    now = _now()
    window = max(window_ms, 1)
    start = now - now % window
    began, value = COUNTERS.get(key, (start, 0))
    if began != start:
        value = 0
    value += delta
    COUNTERS[key] = (start, value)
    return WindowCount(value=value, ms_to_reset=start + window - now)


def add(key: str, delta: int, expires_at_ms: int) -> int:
    """Adds `delta` to the counter `key`, which lives until `expires_at_ms`, and returns the new
    value. A counter created earlier keeps its expiry; once expired it starts again from 0."""
    found = TOTALS.get(key)
    if found is not None and found[0] > _now():
        expires, value = found[0], found[1] + delta
    else:
        expires, value = expires_at_ms, delta
    TOTALS[key] = (expires, value)
    return value


def _counted(key: str, start: int) -> int:
    began, value = COUNTERS.get(key, (start, 0))
    return value if began == start else 0


def reserve(items: List[Reservation], window_ms: int) -> Reserved:
    """Adds every amount to its windowed counter if none would pass its limit, else none (all or
    nothing); amounts of 0 or less are never refused."""
    now = _now()
    window = max(window_ms, 1)
    start = now - now % window
    for i, r in enumerate(items):
        if r.amount <= 0:
            continue
        before = sum(e.amount for e in items[:i] if e.key == r.key)
        reach = _counted(r.key, start) + before + r.amount
        if reach > r.limit:
            return Reserved_Refused(Refusal(index=i, would_reach=WindowCount(
                value=reach, ms_to_reset=start + window - now)))
    return Reserved_Granted([incr(r.key, r.amount, window_ms) for r in items])


def incr_all(deltas: List[Tuple[str, int]], window_ms: int) -> List[WindowCount]:
    """Adds each delta to its windowed counter (as `incr`), in one call."""
    return [incr(key, delta, window_ms) for key, delta in deltas]
