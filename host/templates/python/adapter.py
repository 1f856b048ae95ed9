"""`{{name}}`: a Sluice provider adapter for an OpenAI-compatible server. Requests go as they
are (the host sends its prepared body), with the provider's key as a bearer token and the
configured extra headers; answers and streams pass through unchanged.

```toml
[[plugins]]
name = "{{name}}"
stage = "adapter"
source = "{{name}}.wasm"
[plugins.config]
headers = { "x-team" = "research" }

[[providers]]
name = "my-server"
adapter = "{{name}}"
base_url = "http://127.0.0.1:8000/v1"
```

Test: `sluice plugin test` (runs `python3 -m unittest`). Build: `sluice plugin build`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict

import sluice_plugin
from sluice_plugin import (
    Adapter,
    Provider,
    RequestCtx,
    Send,
    UpstreamResult,
    endpoint_method,
    endpoint_path,
)


@dataclass(frozen=True)
class Config:
    """The plugin's config table (an unknown or mistyped field rejects the load)."""

    headers: Dict[str, str] = field(default_factory=dict)


@sluice_plugin.export_adapter
class {{Type}}(Adapter):
    """Built once per instance from the config. With no `from_upstream` and no `start_stream`,
    answers and stream events pass unchanged."""

    # Answers already are OpenAI's: no body needed, no translation per stream event.
    passthrough = True
    wants_body = False

    def __init__(self, config: Config) -> None:
        # Sorted by name, lower-cased, as they are sent.
        self.headers = [(k.lower(), v) for k, v in sorted(config.headers.items())]

    def to_upstream(self, ctx: RequestCtx, provider: Provider, body: bytes) -> UpstreamResult:
        """The client's request, to the same endpoint of the provider, with its key."""
        headers = list(self.headers)
        if provider.api_key is not None:
            headers.append(("authorization", f"Bearer {provider.api_key}"))
        return Send(
            endpoint_method(ctx.endpoint),
            endpoint_path(ctx.endpoint),
            headers=headers,
            body=None,  # the host's prepared body
            stream=ctx.stream,
        )
