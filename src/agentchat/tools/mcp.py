"""MCP servers over stdio, configured like other MCP clients do it:

    [mcp_servers.files]
    command = "npx"
    args = ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]
    env = { DEBUG = "1" }        # merged over a minimal safe environment (the SDK's rule)
    cwd = "~/work"               # optional
    policy = "ask"               # default for this server's tools
    tools = { read_file = "allow" }   # per tool, by the server's own tool names
    timeout = 60                 # seconds per call
    startup_timeout = 30         # seconds to start and list tools

Each server runs in a task of its own: the SDK's task groups must be entered and left by the same
task, and a server that hangs or dies then takes down only itself. Servers start on `start()`,
never on construction, so a session that uses no tools never spawns one.

A tool whose listing says `execution.taskSupport = "required"` (server-everything has one) runs only
as an MCP task (tools/call with `task`, then tasks/get and tasks/result). The installed SDK (mcp 2.3)
has the task types but no task calls: its tools/call validation rejects the CreateTaskResult such a
call returns, and tasks left the core protocol in 2026-07-28. So those tools are not offered, and
`errors` says why once, instead of the model calling a tool that fails every time.
"""

from __future__ import annotations

import asyncio
import importlib
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Self

from agentchat.config.sections import MCPServerConfig
from agentchat.core.request import ToolSpec
from agentchat.tools.base import Tool, ToolError, describe_error, sanitize_name

if TYPE_CHECKING:
    from mcp import Client
    from mcp.shared.dispatcher import ProgressFnT
    from mcp_types import CallToolResult

    from agentchat.config import Config

MAX_PAGES = 100  # a tools/list paginator that never ends must not hang the start
# Server instructions go into the system prompt; a server must not be able to fill the context with them.
MAX_INSTRUCTIONS = 10_000
NEEDS_TASKS = (
    'not offered: it runs only as an MCP task (execution.taskSupport "required"), '
    "which agentchat does not support"
)

ProgressHook = Callable[[str, float, float | None, str | None], None]
"""(tool name as the model sees it, progress, total or None, message or None), per notification.

A face may show it; when no hook is given, no progress is requested from servers at all."""


class _Server:
    """One live server, owned by its own task from spawn to shutdown."""

    def __init__(self, config: MCPServerConfig, on_progress: ProgressHook | None = None) -> None:
        self.config = config
        self.on_progress = on_progress
        self.client: Client | None = None
        self.listed: list[Any] = []
        self.instructions: str | None = None  # from the initialize (or discover) result
        self.error: str | None = None
        self.ready = asyncio.Event()  # set when listed or failed
        self.stop = asyncio.Event()
        self.stderr: IO[str] | None = None  # the server's stderr, kept for error messages
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        from mcp import Client, Implementation, StdioServerParameters
        from mcp.client.stdio import stdio_client

        import agentchat

        cfg = self.config
        params = StdioServerParameters(
            command=cfg.command,
            args=cfg.args,
            env=cfg.env or None,
            cwd=Path(cfg.cwd).expanduser() if cfg.cwd else None,
        )
        info = Implementation(name="agentchat", version=agentchat.__version__)
        self.stderr = tempfile.TemporaryFile("w+")
        try:
            # Server stderr goes to a file: its logs must not scribble over the TUI or `ask` output.
            async with Client(stdio_client(params, errlog=self.stderr), client_info=info) as client:
                self.listed = await _list_tools(client)
                self.instructions = _instructions(client.instructions)
                self.client = client
                self.ready.set()
                await self.stop.wait()
        except Exception as exc:
            self.error = self._explain(exc)
        finally:
            self.client = None
            self.ready.set()

    def _explain(self, exc: BaseException) -> str:
        while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
            exc = exc.exceptions[0]
        if isinstance(exc, OSError) and exc.strerror:
            return f"cannot run {self.config.command!r}: {exc.strerror}"
        return self.with_stderr(describe_error(exc).splitlines()[0])

    def with_stderr(self, message: str) -> str:
        """The message plus the server's last stderr line, which usually says what went wrong."""
        if self.stderr is None:
            return message
        self.stderr.seek(0)
        lines = [line.strip() for line in self.stderr.read().splitlines() if line.strip()]
        return f"{message} (stderr: {lines[-1][:200]})" if lines else message

    async def call(self, name: str, arguments: dict[str, Any], tool_name: str) -> str:
        from mcp import MCPError

        client = self.client
        if client is None:
            raise ToolError(f"MCP server {self.config.name} is not running")
        # A progress callback makes the SDK send a progress token; without one servers send no progress.
        progress = None if self.on_progress is None else _progress_callback(self.on_progress, tool_name)
        try:
            result = await client.call_tool(name, arguments, progress_callback=progress)
        except MCPError as exc:
            raise ToolError(f"MCP server {self.config.name}: {exc}") from None
        text = _result_text(result)
        if result.is_error:
            raise ToolError(text or f"{name} failed without a message")
        return text

    def tools(self) -> tuple[list[Tool], dict[str, str]]:
        """The tools to offer, and the ones held back ({server/tool: why})."""
        tools, held_back = [], {}
        for listed in self.listed:
            if _needs_tasks(listed):
                held_back[f"{self.config.name}/{listed.name}"] = NEEDS_TASKS
            else:
                tools.append(self._tool(listed))
        return tools, held_back

    def _tool(self, listed: Any) -> Tool:
        cfg = self.config
        original: str = listed.name
        name = sanitize_name(f"{cfg.name}__{original}")

        async def run(arguments: dict[str, Any]) -> str:
            return await self.call(original, arguments, name)

        schema = dict(listed.input_schema or {})
        schema.setdefault("type", "object")
        schema.setdefault("properties", {})
        return Tool(
            ToolSpec(name, listed.description or listed.title or "", schema),
            run,
            source=f"mcp:{cfg.name}",
            default_policy=cfg.tool_policies.get(original, cfg.policy),
            timeout_s=cfg.timeout_s,
        )


async def _list_tools(client: Client) -> list[Any]:
    listed: list[Any] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = await client.list_tools(cursor=cursor)
        listed.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            break
    return listed


def _progress_callback(hook: ProgressHook, tool_name: str) -> ProgressFnT:
    async def report(progress: float, total: float | None, message: str | None) -> None:
        try:
            hook(tool_name, progress, total, message)
        except Exception:  # showing progress must never fail the call it reports on
            pass

    return report


def _needs_tasks(listed: Any) -> bool:
    """True for a tool that can only be called as an MCP task (see the module docstring)."""
    execution = getattr(listed, "execution", None)
    return getattr(execution, "task_support", None) == "required"


def _instructions(text: str | None) -> str | None:
    """Blank instructions count as none; long ones are cut (they go into every request's system prompt)."""
    if not text or not text.strip():
        return None
    text = text.strip()
    if len(text) > MAX_INSTRUCTIONS:
        text = text[:MAX_INSTRUCTIONS] + f"\n[truncated: {len(text) - MAX_INSTRUCTIONS} more characters]"
    return text


def _media_note(kind: str, mime_type: str | None, data: str) -> str:
    """What the model reads in place of an image or audio block (passing those on is a later step)."""
    what = "an image" if kind == "image" else kind
    size = len(data) * 3 // 4 - data[-2:].count("=")  # decoded size of the base64 text
    return f"[the tool returned {what} ({mime_type or 'unknown type'}, {size} bytes); it is not shown here]"


def _result_text(result: CallToolResult) -> str:
    """Text blocks joined; other content is named so the model knows something was there."""
    parts: list[str] = []
    for block in result.content:
        if block.type == "text":
            parts.append(block.text)
        elif block.type == "resource":
            parts.append(getattr(block.resource, "text", None) or f"[binary resource {block.resource.uri}]")
        elif block.type == "resource_link":
            parts.append(f"[resource link: {block.uri}]")
        elif block.type in ("image", "audio"):
            parts.append(_media_note(block.type, block.mime_type, block.data))
        else:
            parts.append(f"[{block.type} content ({block.mime_type}) not shown]")
    if not parts and result.structured_content is not None:
        import json

        parts.append(json.dumps(result.structured_content, ensure_ascii=False))
    return "\n".join(parts)


class MCPManager:
    """Starts the configured servers once per session, exposes their tools, and stops them all.

    Use as `async with MCPManager.from_config(config) as mcp:`; `await mcp.start()` spawns the
    servers (concurrently) and returns their tools. A server that fails is reported in
    `errors` (server name -> one line) and the others still work.
    """

    def __init__(
        self,
        servers: Iterable[MCPServerConfig],
        *,
        errors: dict[str, str] | None = None,
        on_progress: ProgressHook | None = None,
    ) -> None:
        self._servers = [_Server(cfg, on_progress) for cfg in servers]
        self.errors: dict[str, str] = dict(errors or {})
        self.tools: list[Tool] = []
        self._started = False
        self._lock = asyncio.Lock()

    @classmethod
    def from_config(cls, config: Config, *, on_progress: ProgressHook | None = None) -> MCPManager:
        """A malformed server table is reported like a server that failed, not fatal."""
        servers, errors = config.mcp_servers
        return cls(servers, errors=errors, on_progress=on_progress)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def start(self) -> list[Tool]:
        """Spawn every server and list its tools; later calls return the same tools."""
        async with self._lock:
            if not self._started:
                self._started = True
                if self._servers:
                    # The SDK takes about a second to import: not on the event loop, or the TUI freezes.
                    await asyncio.to_thread(importlib.import_module, "mcp.client.stdio")
                for server in self._servers:
                    server.task = asyncio.create_task(server.run(), name=f"mcp:{server.config.name}")
                await asyncio.gather(*(self._await_ready(s) for s in self._servers))
                for server in self._servers:
                    if server.error is not None:
                        self.errors[server.config.name] = server.error
                    else:
                        tools, held_back = server.tools()
                        self.tools.extend(tools)
                        self.errors.update(held_back)
        return self.tools

    @property
    def instructions(self) -> dict[str, str]:
        """Server name -> the `instructions` its initialize result carried, trimmed and capped.

        Only servers that started and gave some, in configuration order; empty before `start()`."""
        return {s.config.name: s.instructions for s in self._servers if s.instructions}

    async def _await_ready(self, server: _Server) -> None:
        assert server.task is not None
        try:
            async with asyncio.timeout(server.config.startup_timeout_s):
                await server.ready.wait()
        except TimeoutError:
            server.task.cancel()
            await asyncio.wait({server.task})  # the SDK's shielded shutdown kills the process
            limit = server.config.startup_timeout_s
            server.error = server.with_stderr(f"did not start within {limit:g} s")

    async def aclose(self) -> None:
        """Stop every server; a server still starting is cancelled instead of awaited."""
        tasks = []
        for server in self._servers:
            if server.task is None:
                continue
            server.stop.set()
            if not server.ready.is_set():
                server.task.cancel()
            tasks.append(server.task)
        if tasks:
            await asyncio.wait(tasks)
        for server in self._servers:
            if server.stderr is not None:
                server.stderr.close()
