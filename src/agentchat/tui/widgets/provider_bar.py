"""The line above the conversation: active provider and model, the conversation, how full the
model's context window is and what it has cost so far, and what is running."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from agentchat.tui.plain import clean

TITLE_GAP = "   "
MIN_TITLE = 12  # columns of title worth keeping rather than the key hints


class ProviderBar(Static):
    provider: reactive[str | None] = reactive(None)
    model: reactive[str | None] = reactive(None)
    title: reactive[str] = reactive("new conversation")
    cost: reactive[str | None] = reactive(None)  # the displayed branch's spend, as a label
    context: reactive[str | None] = reactive(None)  # the context meter, "ctx 1.2k/8.2k" (tui/context.py)
    busy: reactive[bool] = reactive(False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.windows: dict[tuple[str | None, str | None], int] = {}  # (provider, model) -> window
        self.tokens: int | None = None  # the shown branch's size, measured against each route's window

    def show_context(self, tokens: int | None, window: int | None = None) -> None:
        """The meter for the shown route: a window learnt once (a turn measured it) is kept."""
        if window:
            self.windows[(self.provider, self.model)] = window
        self.tokens = tokens
        self._meter()

    def _meter(self) -> None:
        from agentchat.tui.context import context_label

        self.context = context_label(self.tokens, self.windows.get((self.provider, self.model)))

    def watch_provider(self) -> None:
        """Another route: its own window (none until a turn on it measures one: no meter then),
        never the previous model's."""
        self._meter()

    def watch_model(self) -> None:
        self._meter()

    def render(self) -> Text:
        """When the line is too narrow the key hints go first, then the title shortens (…): the
        route, the cost and the busy mark are what must stay on screen."""
        text = Text()
        if self.provider:
            text.append(clean(f" {self.provider} "), style="bold reverse")  # names a provider may list
            text.append(clean(f" {self.model or '?'} "), style="bold")
        else:
            text.append(" auto ", style="bold reverse")
            text.append(" first usable provider ", style="italic")
        hints = Text("  ^o provider  ^l models", style="dim")
        tail = Text()
        if self.context:
            tail.append(f" · {self.context}", style="dim" if "!" not in self.context else "bold yellow")
        if self.cost:
            tail.append(f" · {self.cost}", style="bold")
        if self.busy:
            tail.append("   ● generating (esc stops)", style="bold yellow")
        width = self.size.width
        if text.cell_len + hints.cell_len + len(TITLE_GAP) + MIN_TITLE + tail.cell_len <= width:
            text.append_text(hints)
        room = width - text.cell_len - tail.cell_len
        if room > len(TITLE_GAP):
            title = Text(TITLE_GAP + clean(self.title).replace("\n", " "), style="italic")
            title.truncate(room, overflow="ellipsis")
            text.append_text(title)
        return text.append_text(tail)
