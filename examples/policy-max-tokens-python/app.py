"""An example policy plugin in Python: the same policy as the Rust example in
`examples/policy-max-tokens`, so the two languages can be compared like for like.

It refuses requests that ask for more than `max_tokens` output tokens, and, when
`require_user_id` is set, requests that do not name an end user (`user_id`). It also tags every
response with the limit it applied, in a header and in the `sluice` metadata object.

```toml
[[plugins]]
name = "max-tokens-python"
stage = "policy"
source = "examples/policy-max-tokens-python/max_tokens_python.wasm"
[plugins.config]
max_tokens = 1024
require_user_id = true
```
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
    """The config table, parsed once per instance by the SDK (an unknown field rejects the
    load)."""

    max_tokens: int
    require_user_id: bool = False


@sluice_plugin.export_policy
class MaxTokens(Policy):
    """The plugin is its config: the SDK builds it once per instance and calls its methods."""

    def __init__(self, config: Config) -> None:
        if not 0 <= config.max_tokens <= U32_MAX:
            raise ConfigError(f"invalid config: `max_tokens` must be 0 to {U32_MAX}")
        self.config = config

    def on_request(
        self, ctx: RequestCtx, principal: Principal, meta: LlmMeta, body: bytes
    ) -> Decision:
        """Denies a missing `user_id` (when required) and `max_tokens` above the cap; else lets
        the request through, tagged with the cap."""
        cap = self.config.max_tokens
        if self.config.require_user_id and ctx.user_id is None:
            return Deny(
                bad_request("this gateway requires `user_id` in the request body", param="user_id")
            )
        if meta.max_tokens is not None and meta.max_tokens > cap:
            message = f"max_tokens may be at most {cap} on this gateway"
            return Deny(bad_request(message, param="max_tokens"))
        return Continue(
            headers={"x-max-tokens-limit": str(cap)},
            metadata={"max_tokens_limit": cap},
        )
