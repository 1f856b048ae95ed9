"""`{{name}}`: a Sluice MCP policy plugin. It refuses calls to the configured tools and hides
them from `tools/list`.

```toml
[[plugins]]
name = "{{name}}"
stage = "mcp-policy"
source = "{{name}}.wasm"
[plugins.config]
deny_tools = ["delete_file", "shell"]
```

Test: `sluice plugin test` (runs `python3 -m unittest`). Build: `sluice plugin build`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional

import sluice_plugin
from sluice_plugin import Allow, Deny, McpPolicy, McpRequest, McpResult, Principal, mcp_error


@dataclass(frozen=True)
class Config:
    """The plugin's config table (an unknown or mistyped field rejects the load)."""

    deny_tools: List[str]


@sluice_plugin.export_mcp_policy
class {{Type}}(McpPolicy):
    """Built once per instance from the config."""

    def __init__(self, config: Config) -> None:
        self.deny_tools = config.deny_tools

    def denied(self, tool: str) -> bool:
        return tool in self.deny_tools

    def on_mcp_request(self, req: McpRequest, principal: Principal) -> McpResult:
        """Refuses `tools/call` of a denied tool with JSON-RPC error -32003."""
        tool = sluice_plugin.mcp_tool(req)  # the tool's name, for `tools/call` only
        if tool is not None and self.denied(tool):
            return Deny(mcp_error(-32003, f"The tool `{tool}` is not allowed here."))
        return Allow()

    def on_mcp_result(self, req: McpRequest, principal: Principal, result: Any) -> Optional[Any]:
        """Hides the denied tools from a `tools/list` result (None keeps a result as it is)."""
        if req.method != "tools/list":
            return None
        tools = result.get("tools") if isinstance(result, dict) else None
        if not isinstance(tools, list):
            return None
        kept = [t for t in tools
                if not (isinstance(t, dict) and isinstance(t.get("name"), str)
                        and self.denied(t["name"]))]
        if len(kept) == len(tools):
            return None
        return {**result, "tools": kept}
