"""`{{name}}`: a Sluice guard plugin. It replaces the configured words with `[REDACTED]` in
requests, in whole answers and in streamed answers (a word split across two stream chunks is
caught too: the plugin declares a look-behind as long as its longest word).

```toml
[[plugins]]
name = "{{name}}"
stage = "guard"
source = "{{name}}.wasm"
[plugins.config]
words = ["project-falcon", "hunter2"]
```

Test: `sluice plugin test` (runs `python3 -m unittest`). Build: `sluice plugin build`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional

import sluice_plugin
from sluice_plugin import (
    Allow,
    ConfigError,
    Direction,
    Guard,
    JsonVerdict,
    PluginInfo,
    Principal,
    Replace,
    RequestCtx,
    Rewrite,
    TextResult,
)
from sluice_plugin.guard import for_each_text

U32_MAX = 2**32 - 1


@dataclass(frozen=True)
class Config:
    """The plugin's config table (an unknown or mistyped field rejects the load)."""

    words: List[str]


@sluice_plugin.export_guard
class {{Type}}(Guard):
    """Built once per instance from the config; the host calls one instance for a whole
    stream."""

    def __init__(self, config: Config) -> None:
        if any(w == "" for w in config.words):
            raise ConfigError("`words` may not contain an empty word")
        self.words = config.words

    def info(self) -> PluginInfo:
        """The look-behind is the longest word, in UTF-8 bytes (what the host counts)."""
        longest = max((len(w.encode()) for w in self.words), default=0)
        return PluginInfo(wants_body=False, passthrough=False,
                          look_behind=min(longest, U32_MAX), native=[])

    def redact(self, text: str) -> str:
        """`text` with every configured word replaced."""
        for w in self.words:
            text = text.replace(w, "[REDACTED]")
        return text

    def check_json(self, ctx: RequestCtx, principal: Optional[Principal], direction: Direction,
                   body: Any) -> JsonVerdict:
        """Redacts the text of a request or a whole answer (`body` is the parsed JSON)."""
        if for_each_text(body, self.redact):
            return Rewrite(body)
        return Allow()

    def check_text(self, ctx: RequestCtx, principal: Optional[Principal], choice: int,
                   text: str, last: bool) -> TextResult:
        """Redacts stream text (what the host held back, then the new delta)."""
        redacted = self.redact(text)
        return Replace(redacted) if redacted != text else Allow()
