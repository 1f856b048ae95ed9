"""Stand-in for the generated `wit_world.imports.prices`: the gateway's price table is `PRICES`
(empty until a test sets prices through `sluice_plugin.testing.set_price`). Names are matched as
the host matches them: the entry of that name, else of the name without a provider's date suffix
(`-2024-07-18`, `-20250929`, `-001`). The gateway's `[[models]]` names and aliases are not known
here: give them prices of their own."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, Optional

from .types import Usage


@dataclass
class Price:
    """A model's prices in USD per million tokens."""

    input: float
    output: float
    cached_input: float


PRICES: Dict[str, Price] = {}
"""Prices by model name."""

_DATED = re.compile(r"^(.+)-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{3})$", re.ASCII)


def lookup(model: str) -> Optional[Price]:
    """The price of `model`: its own entry, else its entry without a date suffix."""
    found = PRICES.get(model)
    if found is None:
        dated = _DATED.match(model)
        found = PRICES.get(dated.group(1)) if dated else None
    return found


def cost(model: str, usage: Usage) -> Optional[float]:
    """What `usage` of `model` costs in USD (cached prompt tokens at the cached price); none
    when the model has no price."""
    price = lookup(model)
    if price is None:
        return None
    cached = min(usage.cached_tokens, usage.prompt_tokens)
    fresh = usage.prompt_tokens - cached
    return (fresh * price.input + cached * price.cached_input
            + usage.completion_tokens * price.output) / 1_000_000
