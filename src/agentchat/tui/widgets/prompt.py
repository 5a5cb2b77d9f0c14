"""The prompt: multi-line, Enter sends, ctrl+j inserts a newline (the one newline key every terminal sends).

A TextArea writes its text to the terminal as it is: what is pasted or loaded (a message to edit,
which may have come from a pipe) is `clean`ed first, so no escape sequence reaches the terminal.

Given a workspace (the chat's prompt; not the edit dialog's), it also takes attachments: `@`
where a word starts asks for the file picker, a paste that is nothing but paths of existing files
attaches them instead of inserting them, and ctrl+v asks for the clipboard's image. What to do
is the screen's (these are messages): the prompt only tells them from typing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import TextArea

from agentchat.tui.attachments import pasted_paths
from agentchat.tui.plain import clean

if TYPE_CHECKING:
    from pathlib import Path


class PromptInput(TextArea):
    BINDINGS: ClassVar[list[BindingType]] = [  # not in the footer: the placeholder says them
        Binding("enter", "submit", "Send", show=False, id="prompt-send"),
        Binding("ctrl+j", "newline", "Newline", show=False, id="prompt-newline"),
    ]

    @dataclass
    class Submitted(Message):
        """Enter with something typed (or, taking attachments, with nothing: the screen knows
        whether chips make it a message): `text` is the whole prompt (the widget keeps it)."""

        prompt: PromptInput
        text: str

        @property
        def control(self) -> PromptInput:
            """For `@on(PromptInput.Submitted, "#id")`: which prompt sent it."""
            return self.prompt

    @dataclass
    class FilePickRequested(Message):
        """`@` typed where a word starts: the picker opens (the `@` goes in if it is cancelled)."""

        prompt: PromptInput

    @dataclass
    class FilesPasted(Message):
        """A paste of nothing but existing files' paths (as pasted: relative to the workspace or not)."""

        prompt: PromptInput
        paths: list[str]

    @dataclass
    class ImagePasteRequested(Message):
        """ctrl+v: attach the clipboard's image (or, without one, paste as ctrl+v did before)."""

        prompt: PromptInput

    def __init__(
        self,
        text: str = "",
        *,
        placeholder: str = "",
        id: str | None = None,
        workspace: Path | None = None,
    ) -> None:
        super().__init__(clean(text), id=id, soft_wrap=True, show_line_numbers=False, placeholder=placeholder)
        self.workspace = workspace  # None: no attachments; `@`, paths and ctrl+v are plain text

    def load_text(self, text: str) -> None:
        super().load_text(clean(text))

    async def _on_paste(self, event: events.Paste) -> None:
        """Textual calls each class's `_on_paste` in turn: TextArea's, after this one, inserts the
        cleaned text (calling it from here too pasted everything twice), unless it is files."""
        event.text = clean(event.text)
        if self.workspace is not None and (paths := pasted_paths(event.text, self.workspace)):
            event.stop()
            event.prevent_default()
            self.post_message(self.FilesPasted(self, paths))

    async def _on_key(self, event: events.Key) -> None:
        # TextArea inserts a newline for Enter in its key handler, before bindings are looked at.
        if event.key in ("enter", "ctrl+j"):
            event.stop()
            event.prevent_default()
            await self.run_action("submit" if event.key == "enter" else "newline")
            return
        if event.character == "@" and self.workspace is not None and self._at_word_start():
            event.stop()
            event.prevent_default()
            self.post_message(self.FilePickRequested(self))
            return
        await super()._on_key(event)

    def _at_word_start(self) -> bool:
        """Not inside a word (an e-mail address) and not replacing a selection."""
        if not self.selection.is_empty:
            return False
        row, column = self.cursor_location
        return column == 0 or self.document.get_line(row)[column - 1].isspace()

    def action_submit(self) -> None:
        if self.text.strip() or self.workspace is not None:
            self.post_message(self.Submitted(self, self.text))

    def action_newline(self) -> None:
        self.insert("\n")

    def action_paste(self) -> None:
        """ctrl+v (TextArea's paste of what was copied in the app), asking for an image first."""
        if self.workspace is None:
            self.paste_copied()
        else:
            self.post_message(self.ImagePasteRequested(self))

    def paste_copied(self) -> None:
        """What TextArea's ctrl+v pastes: the text last copied inside the app."""
        super().action_paste()
