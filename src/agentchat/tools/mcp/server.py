"""One MCP server, live: its connection, what it lists (tools, resources, prompts), its calls.

Each server runs in a task of its own: the SDK's task groups must be entered and left by the same
task, and a server that hangs or dies then takes down only itself. A server that says its tool
list changed (`notifications/tools/list_changed` on a 2025-era connection, a `subscriptions/listen`
event on a 2026 one) is marked `changed`; the manager lists its tools again before the next
request, never in the middle of one.

A tool whose listing says `execution.taskSupport = "required"` (server-everything has one) runs only
as an MCP task (tools/call with `task`, then tasks/get and tasks/result). The installed SDK (mcp 2.3)
has the task types but no task calls: its tools/call validation rejects the CreateTaskResult such a
call returns, and tasks left the core protocol in 2026-07-28. So those tools are not offered, and
`errors` says why once, instead of the model calling a tool that fails every time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from agentchat.config.mcp import MCPServerConfig, expanded
from agentchat.core.errors import ConfigError
from agentchat.core.progress import current_progress
from agentchat.core.request import ToolSpec
from agentchat.core.text import clean
from agentchat.tools.base import Tool, ToolError, ToolOutput, sanitize_name
from agentchat.tools.mcp.connect import Seen, connect, explain, with_stderr
from agentchat.tools.mcp.elicit import Elicitor, sdk_callback
from agentchat.tools.mcp.results import tool_output

if TYPE_CHECKING:
    from mcp import Client
    from mcp.shared.dispatcher import ProgressFnT

MAX_PAGES = 100  # a list paginator that never ends must not hang the start
MAX_LISTED = 1000  # per kind: a server listing more is cut, and says so
# Server instructions go into the system prompt; a server must not be able to fill the context with them.
MAX_INSTRUCTIONS = 10_000
NEEDS_TASKS = (
    'not offered: it runs only as an MCP task (execution.taskSupport "required"), '
    "which agentchat does not support"
)
State = Literal["connected", "failed", "disabled", "not started"]

ProgressHook = Callable[[str, float, float | None, str | None], None]
"""(tool name as the model sees it, progress, total or None, message or None), per notification."""


@dataclass(slots=True)
class Hooks:
    """What a face lends the servers: a progress display and a way to ask the user (elicitation)."""

    on_progress: ProgressHook | None = None
    elicitor: Elicitor | None = None


class Server:
    """One configured server, owned by its own task from start to shutdown."""

    def __init__(self, config: MCPServerConfig, hooks: Hooks | None = None) -> None:
        self.config = config
        self.hooks = hooks or Hooks()
        self.client: Client | None = None
        self.listed: list[Any] = []
        self.resources: list[Any] = []
        self.templates: list[Any] = []
        self.prompts: list[Any] = []
        self.instructions: str | None = None  # from the initialize (or discover) result
        self.error: str | None = None
        self.notes: list[str] = []  # e.g. a listing that was cut
        self.changed = False  # the tool list changed since it was last taken
        self.seen = Seen()
        self.ready = asyncio.Event()  # set when listed or failed
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def state(self) -> State:
        """Connected or failed once started (a disabled one may be started on purpose: `mcp test`)."""
        if self.error is not None:
            return "failed"
        if self.client is not None:
            return "connected"
        return "disabled" if not self.config.enabled else "not started"

    async def run(self) -> None:
        try:
            cfg = expanded(self.config)
        except ConfigError as exc:
            self.error = str(exc)
            self.ready.set()
            return
        callbacks: dict[str, Any] = {"message_handler": self._on_message}
        if self.hooks.elicitor is not None:
            callbacks["elicitation_callback"] = sdk_callback(self.name, self.hooks.elicitor)
        try:
            async with connect(cfg, self.seen, **callbacks) as client:
                await self._list_everything(client)
                self.instructions = _instructions(client.instructions)
                self.client = client
                self.ready.set()
                watch = asyncio.create_task(self._listen(client))
                try:
                    await self.stop.wait()
                finally:
                    watch.cancel()
                    await asyncio.wait({watch})
        except Exception as exc:
            self.error = explain(self.config, self.seen, exc)
        finally:
            self.client = None
            self.ready.set()

    async def _list_everything(self, client: Client) -> None:
        caps = client.server_capabilities
        self.listed = await self._pages("tools", client.list_tools)
        if caps.resources is not None:
            self.resources = await self._pages("resources", client.list_resources, optional=True)
            self.templates = await self._pages(
                "resource templates", client.list_resource_templates, optional=True
            )
        if caps.prompts is not None:
            self.prompts = await self._pages("prompts", client.list_prompts, optional=True)

    async def _pages(
        self, what: str, fetch: Callable[..., Awaitable[Any]], optional: bool = False
    ) -> list[Any]:
        """Every page of a listing, up to MAX_LISTED; a failing optional listing is a note."""
        from mcp import MCPError

        items: list[Any] = []
        cursor: str | None = None
        try:
            for _ in range(MAX_PAGES):
                page = await fetch(cursor=cursor, cache_mode="refresh")
                field = {"resource templates": "resource_templates"}.get(what, what)
                items.extend(getattr(page, field))
                cursor = page.next_cursor
                if not cursor or len(items) >= MAX_LISTED:
                    break
        except MCPError as exc:
            if not optional:
                raise
            self.notes.append(f"listing its {what} failed: {exc}")
        if len(items) > MAX_LISTED:
            self.notes.append(f"lists {len(items)}+ {what}; the first {MAX_LISTED} are used")
            items = items[:MAX_LISTED]
        return items

    async def _on_message(self, message: Any) -> None:
        """2025-era servers announce a changed tool list as a notification; a line that is not
        JSON-RPC arrives as an exception, kept for the error message."""
        if isinstance(message, Exception) and self.seen.garbage is None:
            self.seen.garbage = _what_was_sent(message)
        if getattr(message, "method", None) == "notifications/tools/list_changed":
            self.changed = True

    async def _listen(self, client: Client) -> None:
        """2026-era servers announce it on a `subscriptions/listen` stream, if they offer one."""
        tools = client.server_capabilities.tools
        if tools is None or not getattr(tools, "list_changed", False):
            return
        with contextlib.suppress(Exception):  # no stream (refused, lost): no live refresh, no failure
            async with client.listen(tools_list_changed=True) as subscription:
                async for _event in subscription:
                    self.changed = True

    async def relist(self) -> None:
        """Take the new tool list after a change notice (a failure keeps the old list)."""
        self.changed = False
        client = self.client
        if client is not None:
            with contextlib.suppress(Exception):
                self.listed = await self._pages("tools", client.list_tools)

    def live(self) -> Client:
        if self.client is None:
            raise ToolError(f"MCP server {self.name} is not running")
        return self.client

    async def call(self, name: str, arguments: dict[str, Any], tool_name: str) -> ToolOutput:
        from mcp import MCPError

        client = self.live()
        # A progress callback makes the SDK send a progress token; without one servers send no progress.
        progress = _progress_callback(self.hooks.on_progress, current_progress(), tool_name)
        try:
            result = await client.call_tool(name, arguments, progress_callback=progress)
        except MCPError as exc:
            if self.client is None or "connection closed" in str(exc).lower():  # it died mid-call
                raise ToolError(
                    with_stderr(self.seen, f"MCP server {self.name} stopped during the call")
                ) from None
            raise ToolError(f"MCP server {self.name}: {exc}") from None
        output = tool_output(result, tool_name)
        if result.is_error:
            raise ToolError(output.text or f"{name} failed without a message")
        return output

    def tools(self) -> tuple[list[Tool], dict[str, str]]:
        """The tools to offer, and the ones held back ({server/tool: why})."""
        tools, held_back = [], {}
        for listed in self.listed:
            if _needs_tasks(listed):
                held_back[f"{self.name}/{listed.name}"] = NEEDS_TASKS
            else:
                tools.append(self._tool(listed))
        return tools, held_back

    def _tool(self, listed: Any) -> Tool:
        cfg = self.config
        original: str = listed.name
        name = sanitize_name(f"{cfg.name}__{original}")

        async def run(arguments: dict[str, Any]) -> ToolOutput:
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


def _progress_callback(
    hook: ProgressHook | None, sink: Callable[[float, float | None, str | None], None] | None, tool_name: str
) -> ProgressFnT | None:
    """Progress goes to the face's hook and to the running turn (as an engine event)."""
    if hook is None and sink is None:
        return None

    async def report(progress: float, total: float | None, message: str | None) -> None:
        try:
            if hook is not None:
                hook(tool_name, progress, total, message)
            if sink is not None:
                sink(progress, total, message)
        except Exception:  # showing progress must never fail the call it reports on
            pass

    return report


def _what_was_sent(exc: Exception) -> str:
    """The line a server sent that did not parse (pydantic keeps it), shortened and quoted."""
    try:
        sent = exc.errors()[0]["input"]  # type: ignore[attr-defined]
    except (AttributeError, IndexError, KeyError, TypeError):
        return " ".join(str(exc).split())[:120]
    return repr(clean(str(sent))[:80])


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
