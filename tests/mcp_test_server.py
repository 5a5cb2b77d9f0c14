"""A real stdio MCP server for the tests, built with the SDK's server side (MCPServer, ex-FastMCP).

Tools: `add(a, b)`, `text.echo(text)` (a dotted name, as real servers use), `fail(message)` (reports
an error result), `crash()` (the server dies), `wait(seconds)` (for timeouts), `picture()` (an image
result), `count(steps)` (reports progress), `hold()` (waits to be cancelled), `book()` (asks the
user: elicitation) and `grow()` (adds a tool: list_changed). Resources note://greeting and
note://pixel, prompt `review(language, focus)`. It sends `instructions` on initialize.
`tests/mcp_http.py` serves the same server over Streamable HTTP and SSE, in-process.
Run as `python tests/mcp_test_server.py`; if MCP_TEST_MARKER is set, the server writes its pid there
on start (tests check when it was spawned and that it is gone after shutdown).

With MCP_TEST_LEGACY=1 it behaves like a 2025-era server such as server-everything: it serves only
the initialize handshake (the client's `server/discover` probe fails and it falls back) and also
lists `research`, a tool whose `execution.taskSupport` is "required" (the 2026-07-28 wire has no
such field, so only a legacy-era connection can show it).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import anyio
from mcp.server.mcpserver import Context, Image, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.runner import serve_loop
from mcp.server.stdio import stdio_server
from mcp_types import Tool, ToolExecution
from pydantic import BaseModel

LEGACY = os.environ.get("MCP_TEST_LEGACY") == "1"
INSTRUCTIONS = "Use add for arithmetic.\nNever call crash."
# A 1x1 transparent PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360606060000000050001a5f645400000000049454e44ae426082"
)


class TestServer(MCPServer):
    async def list_tools(self) -> list[Tool]:
        tools = await super().list_tools()
        for tool in tools:
            if tool.name == "research":
                tool.execution = ToolExecution(task_support="required")
        return tools


server = TestServer("agentchat-test", instructions=INSTRUCTIONS)


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


@server.tool(structured_output=False)
def picture() -> list[Any]:
    """A caption and a tiny PNG."""
    return ["Here is the picture:", Image(data=PNG, format="png")]


@server.tool()
async def count(steps: int, ctx: Context, pause: float = 0.0) -> str:
    """Report progress once per step (`pause` seconds after each), then answer."""
    for step in range(1, steps + 1):
        await ctx.report_progress(step, steps, f"step {step}")
        await asyncio.sleep(pause)
    return f"counted to {steps}"


@server.tool()
async def hold(ctx: Context) -> str:
    """Wait until cancelled; the cancellation is written to MCP_TEST_CANCELLED (the file)."""
    try:
        await asyncio.sleep(60)
    except BaseException:
        if path := os.environ.get("MCP_TEST_CANCELLED"):
            Path(path).write_text("cancelled")
        raise
    return "never"


class Booking(BaseModel):
    guests: int
    confirm: bool


@server.tool()
async def book(ctx: Context) -> str:
    """Ask the user how many guests (elicitation), then answer with what they said."""
    answer = await ctx.elicit("How many guests?", Booking)
    if answer.action != "accept":
        return f"booking {answer.action}d"
    return f"booked for {answer.data.guests} (confirmed: {answer.data.confirm})"


@server.tool()
async def grow(ctx: Context) -> str:
    """Add the tool `extra` and announce that the tool list changed."""
    server.add_tool(lambda: "extra here", name="extra", description="Added later.")
    await ctx.notify_tools_changed()  # 2026: the subscriptions/listen stream
    if LEGACY:
        await ctx.session.send_tool_list_changed()  # 2025: a notification
    return "grown"


@server.resource("note://greeting", mime_type="text/plain")
def greeting() -> str:
    """A short greeting."""
    return "hello from the resource"


@server.resource("note://pixel", mime_type="image/png")
def pixel() -> bytes:
    """A 1x1 PNG."""
    return PNG


@server.prompt()
def review(language: str, focus: str = "bugs") -> str:
    """Ask for a code review."""
    return f"Review this {language} code for {focus}."


if LEGACY:

    @server.tool()
    def research(topic: str) -> str:
        """Only callable as a task (its listing says so)."""
        return f"researched {topic}"


async def serve_legacy() -> None:
    """The handshake-only loop (what the SDK's HTTP transport uses) over stdio."""
    lowlevel = server._lowlevel_server
    async with stdio_server() as (read, write), lowlevel.lifespan(lowlevel) as state:
        await serve_loop(
            lowlevel, read, write, lifespan_state=state, init_options=lowlevel.create_initialization_options()
        )


if __name__ == "__main__":
    if marker := os.environ.get("MCP_TEST_MARKER"):
        Path(marker).write_text(str(os.getpid()))
    if LEGACY:
        anyio.run(serve_legacy)
    else:
        server.run()
