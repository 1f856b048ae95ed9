"""`{{name}}`: a Sluice enrich plugin. It adds the configured label and whether the answer was
slow to every response's `sluice` object, and the label as a header.

```toml
[[plugins]]
name = "{{name}}"
stage = "enrich"
source = "{{name}}.wasm"
[plugins.config]
label = "eu-west"
slow_ms = 2000
```

Test: `sluice plugin test` (runs `python3 -m unittest`). Build: `sluice plugin build`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import sluice_plugin
from sluice_plugin import ConfigError, Enrich, Enrichment, Outcome, Principal, RequestCtx

U32_MAX = 2**32 - 1


@dataclass(frozen=True)
class Config:
    """The plugin's config table (an unknown or mistyped field rejects the load)."""

    label: str
    slow_ms: int = 2000


@sluice_plugin.export_enrich
class {{Type}}(Enrich):
    """Built once per instance from the config; `on_response` runs for every answer."""

    def __init__(self, config: Config) -> None:
        if not 0 <= config.slow_ms <= U32_MAX:
            raise ConfigError(f"`slow_ms` must be 0 to {U32_MAX}")
        self.config = config

    def on_response(self, ctx: RequestCtx, principal: Optional[Principal],
                    outcome: Outcome) -> Enrichment:
        """The label (header and metadata) and whether the answer took longer than `slow_ms`."""
        return Enrichment(
            headers={"x-{{name}}-label": self.config.label},
            # Metadata values are JSON values: the SDK encodes them (`"eu-west"`, `true`).
            metadata={"label": self.config.label,
                      "slow": outcome.latency_ms > self.config.slow_ms},
        )
