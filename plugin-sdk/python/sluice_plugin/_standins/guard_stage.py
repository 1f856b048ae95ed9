"""Stand-in for the generated `wit_world.exports.guard_stage`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Union

from .types import ErrorBody


class Direction(Enum):
    """Which side of the exchange a whole body comes from."""

    REQUEST = 0
    RESPONSE = 1


@dataclass
class Verdict_Allow:
    """Let the body through unchanged."""


@dataclass
class Verdict_Deny:
    """Refuse the body."""

    value: ErrorBody


@dataclass
class Verdict_Rewrite:
    """Let this JSON text through instead."""

    value: str


Verdict = Union[Verdict_Allow, Verdict_Deny, Verdict_Rewrite]


@dataclass
class TextVerdict_Allow:
    """Send the text as it is."""


@dataclass
class TextVerdict_Replace:
    """Send this text in its place."""

    value: str


@dataclass
class TextVerdict_Stop:
    """End the stream with this error."""

    value: ErrorBody


TextVerdict = Union[TextVerdict_Allow, TextVerdict_Replace, TextVerdict_Stop]
