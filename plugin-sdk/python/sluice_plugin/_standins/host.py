"""Stand-in for the generated `wit_world.imports.host`: log lines are kept in `LOGS` (and not
printed), events sent with `notify` in `EVENTS`, the clock is the system's, and the config is
`CONFIG` (set it through `sluice_plugin.testing`)."""

from __future__ import annotations

import time
from enum import Enum
from typing import List, Tuple


class Level(Enum):
    """Severity of a log line."""

    TRACE = 0
    DEBUG = 1
    INFO = 2
    WARN = 3
    ERROR = 4


LOGS: List[Tuple[Level, str]] = []
"""Every line logged through the stand-in, oldest first."""

EVENTS: List[Tuple[str, str]] = []
"""Every event sent through the stand-in, oldest first: (kind, data as JSON text)."""

CONFIG: str = "{}"
"""What `config()` answers: the plugin's config table as JSON text."""


def log(level: Level, message: str) -> None:
    """Records a log line in `LOGS`."""
    LOGS.append((level, message))


def now_ms() -> int:
    """Milliseconds since the Unix epoch."""
    return time.time_ns() // 1_000_000


def config() -> str:
    """The plugin's config table as JSON text (`CONFIG`)."""
    return CONFIG


def notify(kind: str, data: str) -> None:
    """Records an event for the operator's webhooks in `EVENTS`."""
    EVENTS.append((kind, data))
