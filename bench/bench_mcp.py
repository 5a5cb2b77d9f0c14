"""MCP client costs: connecting and listing (tools, resources, prompts), and a tool call's round
trip, over stdio, Streamable HTTP and SSE; agentchat's MCPManager beside the bare `mcp` SDK Client
doing the same work (the peer: what the SDK alone costs).

The server is the tests' SDK-built server (tests/mcp_test_server.py): a subprocess over stdio,
served by uvicorn in this process over HTTP and SSE. With server-everything installed
(tests/peers/install_mcp.sh) its stdio start is timed too.

    python bench/bench_mcp.py [--calls 200] [--starts 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.mcp_http import mcp_server_at  # noqa: E402

from agentchat.config import Config  # noqa: E402
from agentchat.core.messages import ToolCallPart  # noqa: E402
from agentchat.tools.mcp import MCPManager  # noqa: E402
from agentchat.tools.registry import build_registry  # noqa: E402

SERVER = str(REPO / "tests" / "mcp_test_server.py")
EVERYTHING = REPO / ".peers/node/node_modules/.bin/mcp-server-everything"


async def agentchat_run(table: dict[str, Any], calls: int) -> tuple[float, list[float]]:
    config = Config(Path("/nonexistent/config.toml"), {"mcp_servers": {"s": {**table, "policy": "allow"}}})
    start = time.perf_counter()
    async with MCPManager.from_config(config) as mcp:
        registry = build_registry(config, REPO, mcp=mcp, plugins=False)
        await registry.load()
        assert all("/" in key for key in mcp.errors), mcp.errors  # held-back tools only
        started = time.perf_counter() - start
        times = []
        for i in range(calls):
            t = time.perf_counter()
            result, status = await registry.call(ToolCallPart(f"c{i}", "s__add", {"a": i, "b": 1}))
            times.append(time.perf_counter() - t)
            assert status == "done", result.content
    return started, times


async def sdk_run(table: dict[str, Any], calls: int) -> tuple[float, list[float]]:
    """The bare SDK: connect, list the same three kinds, call `add`."""
    from mcp import Client, StdioServerParameters

    target: Any = table.get("url") or StdioServerParameters(command=table["command"], args=table["args"])
    if table.get("transport") == "sse":
        from mcp.client.sse import sse_client

        target = sse_client(table["url"])
    start = time.perf_counter()
    async with Client(target) as client:
        await client.list_tools()
        await client.list_resources()
        await client.list_resource_templates()
        await client.list_prompts()
        started = time.perf_counter() - start
        times = []
        for i in range(calls):
            t = time.perf_counter()
            await client.call_tool("add", {"a": i, "b": 1})
            times.append(time.perf_counter() - t)
    return started, times


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"


def report(label: str, starts: list[float], times: list[float]) -> None:
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1] if times else 0.0
    print(
        f"{label:<34} start (median) {ms(statistics.median(starts))}   call median {ms(statistics.median(times))}"
        f"   p95 {ms(p95)}"
    )


async def bench(table: dict[str, Any], label: str, calls: int, runs: int) -> None:
    for name, run in (("agentchat", agentchat_run), ("mcp SDK", sdk_run)):
        starts, times = [], []
        for index in range(runs):
            started, took = await run(table, calls if index == 0 else 0)
            starts.append(started)
            times += took
        report(f"{label} · {name}", starts, times)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--starts", type=int, default=5)
    args = parser.parse_args()
    await bench({"command": sys.executable, "args": [SERVER]}, "stdio", args.calls, args.starts)
    with mcp_server_at("http") as url:
        await bench({"url": url}, "streamable-http", args.calls, args.starts)
    with mcp_server_at("sse") as url:
        await bench({"url": url, "transport": "sse"}, "sse", args.calls, args.starts)
        # what detecting SSE costs: the refused Streamable HTTP POST first
        starts = [(await agentchat_run({"url": url}, 0))[0] for _ in range(args.starts)]
        print(f"{'sse, detected · agentchat':<34} start (median) {ms(statistics.median(starts))}")
    if EVERYTHING.exists():
        starts = [(await agentchat_run({"command": str(EVERYTHING)}, 0))[0] for _ in range(args.starts)]
        print(f"{'server-everything stdio · agentchat':<34} start (median) {ms(statistics.median(starts))}")


if __name__ == "__main__":
    asyncio.run(main())
