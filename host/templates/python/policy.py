"""`{{name}}`: a Sluice policy plugin. It refuses requests whose prompt is estimated above
`max_prompt_tokens`, and tags the answers it lets through with a header.

```toml
[[plugins]]
name = "{{name}}"
stage = "policy"
source = "{{name}}.wasm"
[plugins.config]
max_prompt_tokens = 4000
```

Test: `sluice plugin test` (runs `python3 -m unittest`). Build: `sluice plugin build`.
"""

from __future__ import annotations

from dataclasses import dataclass

import sluice_plugin
from sluice_plugin import (
    ConfigError,
    Continue,
    Decision,
    Deny,
    LlmMeta,
    Policy,
    Principal,
    RequestCtx,
    bad_request,
)

U32_MAX = 2**32 - 1


@dataclass(frozen=True)
class Config:
    """The plugin's config table (an unknown or mistyped field rejects the load)."""

    max_prompt_tokens: int


@sluice_plugin.export_policy
class {{Type}}(Policy):
    """Built once per instance from the config; `on_request` runs for every request."""

    def __init__(self, config: Config) -> None:
        if config.max_prompt_tokens < 1:
            raise ConfigError("`max_prompt_tokens` must be at least 1")
        if config.max_prompt_tokens > U32_MAX:
            raise ConfigError(f"`max_prompt_tokens` must be at most {U32_MAX}")
        self.max = config.max_prompt_tokens

    def on_request(self, ctx: RequestCtx, principal: Principal, meta: LlmMeta,
                   body: bytes) -> Decision:
        """Refuses prompts estimated above the limit; tags the others."""
        if meta.est_prompt_tokens > self.max:
            return Deny(bad_request(
                f"this prompt is about {meta.est_prompt_tokens} tokens; "
                f"this gateway takes at most {self.max}"
            ))
        return Continue(headers={"x-{{name}}": "allowed"})
