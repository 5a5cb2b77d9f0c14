"""The tool activity pane: every tool call of the conversation, its status, duration and result.

Tool names and arguments come from the model, results from the tool: all shown as `plain` text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Collapsible, Static

from agentchat.core.messages import Message, ToolCallPart, ToolResultPart
from agentchat.tui.format import args_preview, duration_label, pretty_json
from agentchat.tui.plain import plain
from agentchat.tui.tcss import tcss_beside

if TYPE_CHECKING:
    from textual.app import ComposeResult

SHOWN = 100  # calls listed when a conversation opens: each is a few widgets to mount
ICONS = {"running": "…", "asking": "?", "done": "✓", "failed": "✗", "denied": "⊘", "interrupted": "■"}


class ToolEntry(Collapsible):
    """One call; expand it (enter or click) to see the arguments and the whole result."""

    def __init__(self, call: ToolCallPart) -> None:
        self.call = call
        self.status = "running"
        self.duration_s: float | None = None
        self.progress = ""  # the server's last progress report, while running
        self._result = Static("(waiting for the result)", classes="result")
        super().__init__(
            Static(plain(pretty_json(call.arguments)), classes="args"),
            self._result,
            # Collapsible types its title `str`, but hands it to CollapsibleTitle.label, which takes
            # Content: a str there would be read as markup, and a tool's name and arguments are not.
            title=self._heading(),  # type: ignore[arg-type]
            collapsed=True,
            classes="tool -running",
        )

    def _heading(self) -> Content:
        """Name, status and duration, and below them the arguments, shortened: enough to scan the
        pane without expanding each call."""
        parts = [f"{ICONS.get(self.status, '?')} {self.call.name}", self.status]
        label = duration_label(self.duration_s)
        if label:
            parts.append(label)
        if self.progress and self.status == "running":
            parts.append(self.progress)
        args = args_preview(self.call.arguments)
        return plain(" · ".join(parts) + (f"\n  {args}" if args else ""))

    def set_status(self, status: str) -> None:
        self.remove_class(f"-{self.status}")
        self.status = status
        self.add_class(f"-{status}")
        self.title = self._heading()  # type: ignore[assignment]  # Content, not markup: see __init__

    def finish(self, result: ToolResultPart, status: str, duration_s: float | None) -> None:
        self.duration_s = duration_s
        self.set_status(status)
        self._result.update(plain(result.content))


class ToolPane(VerticalScroll):
    """Shown when the conversation uses tools (or with f3); entries are keyed by call id."""

    DEFAULT_CSS = tcss_beside(__file__)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._entries: dict[str, ToolEntry] = {}

    def compose(self) -> ComposeResult:
        yield Static("Tool activity (f3 hides)", classes="pane-title")

    async def clear(self) -> None:
        self._entries.clear()
        await self.remove_children(".tool, .earlier-calls")

    async def started(self, call: ToolCallPart) -> None:
        if call.id not in self._entries:
            entry = self._entries[call.id] = ToolEntry(call)
            await self.mount(entry)
            self.scroll_end(animate=False)

    async def finished(
        self, call: ToolCallPart, result: ToolResultPart, status: str, duration_s: float
    ) -> None:
        await self.started(call)
        self._entries[call.id].finish(result, status, duration_s)

    def interrupt_running(self) -> None:
        """The turn stopped: calls still running (or waiting for approval) never finish."""
        for entry in self._entries.values():
            if entry.status in ("running", "asking"):
                entry.set_status("interrupted")

    def show_progress(self, call_id: str, label: str) -> None:
        """A running call's progress (an MCP server's report), in its heading."""
        entry = self._entries.get(call_id)
        if entry is not None:
            entry.progress = label
            entry.title = entry._heading()  # type: ignore[assignment]  # Content, not markup

    def mark(self, call_id: str, status: str) -> None:
        """E.g. "asking" while the approval modal is open, then back to "running"."""
        entry = self._entries.get(call_id)
        if entry is not None and entry.status in ("running", "asking"):
            entry.set_status(status)

    async def load(self, messages: list[Message]) -> None:
        """The calls of a stored branch (`Store.thread(..., tools_only=True)`), the newest SHOWN."""
        await self.clear()
        calls = [call for message in messages for call in message.tool_calls]
        results = {r.call_id: r for m in messages for r in m.tool_results}
        earlier = max(len(calls) - SHOWN, 0)
        widgets: list[Static | ToolEntry] = []
        if earlier:
            widgets.append(Static(f"{earlier:,} earlier calls not shown", classes="earlier-calls"))
        for call in calls[earlier:]:
            entry = self._entries[call.id] = ToolEntry(call)
            result = results.get(call.id)
            if result is not None:
                entry.finish(
                    result, result.status or ("failed" if result.is_error else "done"), result.duration_s
                )
            widgets.append(entry)
        await self.mount_all(widgets)
        self.scroll_end(animate=False)

    @property
    def count(self) -> int:
        return len(self._entries)
