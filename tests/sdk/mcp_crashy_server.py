"""A tiny stdio MCP server for the MCP gateway's crash test (tests/sdk/test_mcp.py).

Tools: `echo` answers with the message and the server's process id (so a test can tell a
restarted process from the old one); `crash` ends the process at once, without answering.
Run as `python mcp_crashy_server.py`; it speaks MCP over stdin/stdout.
"""

from __future__ import annotations

import os

from mcp.server import MCPServer

server = MCPServer("crashy")


@server.tool()
def echo(message: str) -> str:
    """Echoes `message`, with this process's id."""
    return f"{message} (pid {os.getpid()})"


@server.tool()
def crash() -> str:
    """Ends the server process at once (exit code 1), leaving the call unanswered."""
    os._exit(1)


if __name__ == "__main__":
    server.run("stdio")
