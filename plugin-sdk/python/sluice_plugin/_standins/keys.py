"""Stand-in for the generated `wit_world.imports.keys`: `lookup` answers from `KEYS`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple


@dataclass
class KeyRecord:
    """A managed key."""

    id: str
    owner: str
    team: Optional[str]
    models: List[str]
    attributes: List[Tuple[str, str]]
    mcp_servers: List[str]
    expires_at_ms: Optional[int]
    revoked: bool


KEYS: Dict[str, KeyRecord] = {}
"""Managed keys by the sha256 (lower-case hex) of their secret."""


def lookup(sha256_hex: str) -> Optional[KeyRecord]:
    """The key whose secret has this sha256, if there is one."""
    return KEYS.get(sha256_hex)
