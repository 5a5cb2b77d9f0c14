"""The line above the conversation: active provider and model, the conversation, and what is running."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static


class ProviderBar(Static):
    provider: reactive[str | None] = reactive(None)
    model: reactive[str | None] = reactive(None)
    title: reactive[str] = reactive("new conversation")
    busy: reactive[bool] = reactive(False)

    def render(self) -> Text:
        text = Text()
        if self.provider:
            text.append(f" {self.provider} ", style="bold reverse")
            text.append(f" {self.model or '?'} ", style="bold")
        else:
            text.append(" auto ", style="bold reverse")
            text.append(" first usable provider ", style="italic")
        text.append("  ^o provider  ^l models", style="dim")
        text.append(f"   {self.title}", style="italic")
        if self.busy:
            text.append("   ● generating (esc stops)", style="bold yellow")
        return text
