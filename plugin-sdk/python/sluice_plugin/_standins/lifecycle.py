"""Stand-in for the generated `wit_world.exports.lifecycle`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List

from .types import Endpoint


@dataclass
class PluginInfo:
    """What a plugin tells the host about itself."""

    wants_body: bool
    passthrough: bool
    look_behind: int
    native: List[Endpoint]
