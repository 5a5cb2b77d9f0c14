"""The configured MCP servers of one session: started together, their tools offered, stopped together.

Servers start on `start()`, never on construction, so a session that uses no tools never spawns
one. A server that fails (unreachable, 401, hangs past `startup_timeout`, speaks garbage, dies) is
one line in `errors` and the others still work; the turn goes on without it.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Self

from agentchat.config.mcp import MCPServerConfig
from agentchat.tools.base import Tool
from agentchat.tools.mcp.connect import with_stderr
from agentchat.tools.mcp.elicit import Elicitor
from agentchat.tools.mcp.server import Hooks, ProgressHook, Server

if TYPE_CHECKING:
    from agentchat.config import Config


class MCPManager:
    """Use as `async with MCPManager.from_config(config) as mcp:`; `await mcp.start()` starts the
    servers (concurrently) and returns their tools. A failed server is reported in `errors`
    (server name -> one line). `elicitor` is how the face asks the user when a server wants input.
    """

    def __init__(
        self,
        servers: Iterable[MCPServerConfig],
        *,
        errors: dict[str, str] | None = None,
        on_progress: ProgressHook | None = None,
        elicitor: Elicitor | None = None,
    ) -> None:
        self.hooks = Hooks(on_progress, elicitor)
        self.servers = [Server(cfg, self.hooks) for cfg in servers]
        self.errors: dict[str, str] = dict(errors or {})
        self.tools: list[Tool] = []
        self._started = False
        self._lock = asyncio.Lock()

    @classmethod
    def from_config(
        cls, config: Config, *, on_progress: ProgressHook | None = None, only: str | None = None
    ) -> MCPManager:
        """A malformed server table is reported like a server that failed, not fatal; `only`
        keeps one server (a resource or prompt named by its server needs no other)."""
        servers, errors = config.mcp_servers
        if only is not None:
            servers = [s for s in servers if s.name == only]
            errors = {k: v for k, v in errors.items() if k == only}
        return cls(servers, errors=errors, on_progress=on_progress)

    @property
    def elicitor(self) -> Elicitor | None:
        return self.hooks.elicitor

    @elicitor.setter
    def elicitor(self, value: Elicitor | None) -> None:
        """Set by the face before `start()` (a server started without one is never asked)."""
        self.hooks.elicitor = value

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def server(self, name: str) -> Server | None:
        return next((s for s in self.servers if s.name == name), None)

    async def start(self, *, include_disabled: bool = False) -> list[Tool]:
        """Start every enabled server and list what it offers; later calls return the same tools.
        `include_disabled` starts the disabled ones too (`agentchat mcp test` of one)."""
        async with self._lock:
            if not self._started:
                self._started = True
                wanted = [s for s in self.servers if s.config.enabled or include_disabled]
                if wanted:
                    # The SDK takes about a second to import: not on the event loop, or the TUI freezes.
                    await asyncio.to_thread(importlib.import_module, "mcp.client.stdio")
                for server in wanted:
                    server.task = asyncio.create_task(server.run(), name=f"mcp:{server.name}")
                await asyncio.gather(*(self._await_ready(s) for s in wanted))
                for server in wanted:
                    self._take(server)
        return self.tools

    def _take(self, server: Server) -> None:
        if server.error is not None:
            self.errors[server.name] = server.error
            return
        tools, held_back = server.tools()
        self.tools.extend(tools)
        self.errors.update(held_back)
        for note in server.notes:
            self.errors.setdefault(server.name, note)

    async def refresh(self) -> set[str]:
        """Relist the tools of the servers that said their list changed; the sources replaced
        ("mcp:NAME"). Called between requests, never while a request runs."""
        changed = [s for s in self.servers if s.changed and s.client is not None]
        if not changed:
            return set()
        await asyncio.gather(*(s.relist() for s in changed))
        sources = {f"mcp:{s.name}" for s in changed}
        self.tools = [t for t in self.tools if t.source not in sources]
        for server in changed:
            for key in [k for k in self.errors if k.split("/")[0] == server.name]:
                del self.errors[key]
            self._take(server)
        return sources

    @property
    def instructions(self) -> dict[str, str]:
        """Server name -> the `instructions` its initialize result carried, trimmed and capped.

        Only servers that started and gave some, in configuration order; empty before `start()`."""
        return {s.name: s.instructions for s in self.servers if s.instructions}

    async def _await_ready(self, server: Server) -> None:
        assert server.task is not None
        try:
            async with asyncio.timeout(server.config.startup_timeout_s):
                await server.ready.wait()
        except TimeoutError:
            server.task.cancel()
            await asyncio.wait({server.task})  # the SDK's shielded shutdown kills the process
            limit = server.config.startup_timeout_s
            server.error = with_stderr(server.seen, f"did not start within {limit:g} s")

    async def aclose(self) -> None:
        """Stop every server; a server still starting is cancelled instead of awaited."""
        tasks = []
        for server in self.servers:
            if server.task is None:
                continue
            server.stop.set()
            if not server.ready.is_set():
                server.task.cancel()
            tasks.append(server.task)
        if tasks:
            await asyncio.wait(tasks)
        for server in self.servers:
            if server.seen.stderr is not None:
                server.seen.stderr.close()
