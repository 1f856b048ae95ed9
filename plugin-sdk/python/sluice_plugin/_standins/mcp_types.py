"""Stand-in for the generated `wit_world.imports.mcp_types`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union


@dataclass
class McpRequest:
    """One JSON-RPC request a client sent to an MCP server through the gateway."""

    request_id: str
    server: str
    session_id: Optional[str]
    user_id: Optional[str]
    method: str
    target: Optional[str]
    params: str


@dataclass
class McpError:
    """A JSON-RPC error object."""

    code: int
    message: str
    data: Optional[str]


@dataclass
class McpDecision_Continue:
    """Forward the request (with these params, if some)."""

    value: Optional[str]


@dataclass
class McpDecision_Deny:
    """Answer with this JSON-RPC error."""

    value: McpError


@dataclass
class McpDecision_Respond:
    """Answer with this JSON-RPC result (JSON text)."""

    value: str


McpDecision = Union[McpDecision_Continue, McpDecision_Deny, McpDecision_Respond]
