"""`{{name}}`: a Sluice auth plugin. It accepts the bearer keys whose sha256 (hex) the config
lists, each for one owner; every other caller gets 401.

```toml
[[plugins]]
name = "{{name}}"
stage = "auth"
source = "{{name}}.wasm"
[plugins.config.owners]
# sha256 of the secret -> owner (`printf %s "$SECRET" | sha256sum`)
"1c590839af894cf25f9a5fe06929af05b377f60efbe55508ef93d251887b9213" = "demo"
```

Test: `sluice plugin test` (runs `python3 -m unittest`). Build: `sluice plugin build`.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass
from typing import Dict, Optional, Union

import sluice_plugin
from sluice_plugin import Auth, ConfigError, Deny, Principal, RequestCtx, invalid_api_key


@dataclass(frozen=True)
class Config:
    """The plugin's config table (an unknown or mistyped field rejects the load)."""

    owners: Dict[str, str]


@sluice_plugin.export_auth
class {{Type}}(Auth):
    """Built once per instance from the config; `authenticate` runs for every request."""

    def __init__(self, config: Config) -> None:
        for digest in config.owners:
            if len(digest) != 64 or any(c not in string.hexdigits for c in digest):
                raise ConfigError(f"`{digest}` is not a hex sha256")
        self.owners = config.owners

    def authenticate(self, ctx: RequestCtx, credential: Optional[str]) -> Union[Principal, Deny]:
        """The principal of a listed key; 401 for a missing or unknown one."""
        if credential is None:
            return Deny(invalid_api_key("an API key is required"))
        digest = hashlib.sha256(credential.encode()).hexdigest()
        owner = self.owners.get(digest)
        if owner is None:
            return Deny(invalid_api_key("this API key is not valid"))
        return sluice_plugin.principal(key_id=digest[:12], owner=owner)
