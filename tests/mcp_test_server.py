"""A real stdio MCP server for the tests, built with the SDK's server side (MCPServer, ex-FastMCP).

Tools: `add(a, b)`, `text.echo(text)` (a dotted name, as real servers use), `fail(message)` (reports
an error result), `crash()` (the server dies) and `wait(seconds)` (for timeouts).
Run as `python tests/mcp_test_server.py`; if MCP_TEST_MARKER is set, the server writes its pid there
on start (tests check when it was spawned and that it is gone after shutdown).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("agentchat-test")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool(name="text.echo")
def echo(text: str) -> str:
    """Echo the text back."""
    return text


@server.tool()
def fail(message: str) -> str:
    """Always fails with the given message."""
    raise ToolError(message)


@server.tool()
def crash() -> str:
    """Kill the server mid-call, as a buggy server would."""
    os._exit(1)


@server.tool()
async def wait(seconds: float) -> str:
    """Sleep, then answer."""
    await asyncio.sleep(seconds)
    return "waited"


if __name__ == "__main__":
    if marker := os.environ.get("MCP_TEST_MARKER"):
        Path(marker).write_text(str(os.getpid()))
    server.run()
