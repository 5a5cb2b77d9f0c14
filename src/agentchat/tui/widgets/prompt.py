"""The prompt: multi-line, Enter sends, ctrl+j inserts a newline (the one newline key every terminal sends).

A TextArea writes its text to the terminal as it is: what is pasted or loaded (a message to edit,
which may have come from a pipe) is `clean`ed first, so no escape sequence reaches the terminal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import TextArea

from agentchat.tui.plain import clean


class PromptInput(TextArea):
    BINDINGS: ClassVar[list[BindingType]] = [  # not in the footer: the placeholder says them
        Binding("enter", "submit", "Send", show=False, id="prompt-send"),
        Binding("ctrl+j", "newline", "Newline", show=False, id="prompt-newline"),
    ]

    @dataclass
    class Submitted(Message):
        """Enter with something typed: `text` is the whole prompt (the widget keeps it)."""

        prompt: PromptInput
        text: str

        @property
        def control(self) -> PromptInput:
            """For `@on(PromptInput.Submitted, "#id")`: which prompt sent it."""
            return self.prompt

    def __init__(self, text: str = "", *, placeholder: str = "", id: str | None = None) -> None:
        super().__init__(clean(text), id=id, soft_wrap=True, show_line_numbers=False, placeholder=placeholder)

    def load_text(self, text: str) -> None:
        super().load_text(clean(text))

    async def _on_paste(self, event: events.Paste) -> None:
        event.text = clean(event.text)
        await super()._on_paste(event)

    async def _on_key(self, event: events.Key) -> None:
        # TextArea inserts a newline for Enter in its key handler, before bindings are looked at.
        if event.key in ("enter", "ctrl+j"):
            event.stop()
            event.prevent_default()
            await self.run_action("submit" if event.key == "enter" else "newline")
            return
        await super()._on_key(event)

    def action_submit(self) -> None:
        if self.text.strip():
            self.post_message(self.Submitted(self, self.text))

    def action_newline(self) -> None:
        self.insert("\n")
