"""Use an MCP server through Sluice with the official `mcp` SDK: the gateway's URL and a key.

Configure an MCP server in gateway.toml (see README, "MCP servers"), start the gateway, then:
`SLUICE_MCP_SERVER=everything python examples/clients/mcp_tools.py`
(`scripts/python-env` makes a virtualenv with the SDK).
"""

import asyncio
import os

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

URL = os.environ.get("SLUICE_URL", "http://127.0.0.1:8080")
KEY = os.environ.get("SLUICE_KEY", "sk-sluice-demo")
SERVER = os.environ.get("SLUICE_MCP_SERVER", "everything")


async def main() -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
        transport = streamable_http_client(f"{URL}/mcp-servers/{SERVER}/mcp", http_client=http)
        async with Client(transport) as client:
            tools = await client.list_tools()
            print("tools:", ", ".join(sorted(t.name for t in tools.tools)))
            result = await client.call_tool("echo", {"message": "hello through Sluice"})
            print("echo:", result.content[0].text)


asyncio.run(main())
