"""Small modals: ask for text (rename, edit a message), confirm, pick one of several items.

What they quote (a title, a message, a code block's first line) is a user's or a model's text: it
is shown `plain` (no markup, no control sequences), and an Input is given it `clean`ed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import getters
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList
from textual.widgets.option_list import Option

from agentchat.tui.plain import clean, plain
from agentchat.tui.widgets.prompt import PromptInput

if TYPE_CHECKING:
    from textual.app import ComposeResult


class TextPrompt(ModalScreen[str | None]):
    """One line (Input) or several (the same PromptInput as the chat: enter saves, ctrl+j newline)."""

    CSS_PATH = "dialogs.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel", id="dialog-cancel")]

    def __init__(self, title: str, value: str = "", *, multiline: bool = False) -> None:
        super().__init__(classes="dialog")
        self.title_text = title
        self.value = value
        self.multiline = multiline

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body"):
            yield Label(plain(self.title_text), classes="dialog-title")
            if self.multiline:
                yield PromptInput(self.value, id="text")  # cleans what it is given
            else:
                yield Input(clean(self.value).replace("\n", " "), id="text")
            with Horizontal(classes="buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    @property
    def field(self) -> PromptInput | Input:
        if self.multiline:
            return self.query_one("#text", PromptInput)
        return self.query_one("#text", Input)

    def on_mount(self) -> None:
        self.field.focus()

    def _value(self) -> str:
        field = self.field
        return field.text if isinstance(field, PromptInput) else field.value

    def _save(self) -> None:
        value = self._value()
        self.dismiss(value if value.strip() else None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._save()

    def on_prompt_input_submitted(self, event: PromptInput.Submitted) -> None:
        event.stop()
        self._save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self._save()
        else:
            self.dismiss(None)


class Confirm(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "dismiss(True)", "Yes", id="confirm-yes"),
        Binding("n,escape", "dismiss(False)", "No", id="confirm-no"),
    ]

    no_button = getters.query_one("#no", Button)

    def __init__(self, question: str) -> None:
        super().__init__(classes="dialog")
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body"):
            yield Label(plain(self.question), classes="dialog-title")
            with Horizontal(classes="buttons"):
                yield Button("Yes (y)", variant="error", id="yes")
                yield Button("No (n)", id="no")

    def on_mount(self) -> None:
        self.no_button.focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")


class Choice(ModalScreen[int | None]):
    """Pick one item (e.g. which code block to copy); returns its index."""

    CSS_PATH = "dialogs.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel", id="dialog-cancel")]

    def __init__(self, title: str, items: list[str], *, selected: int = 0) -> None:
        super().__init__(classes="dialog")
        self.title_text = title
        self.items = items
        self.selected = selected  # highlighted at first (the current one, where there is one)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body"):
            yield Label(plain(self.title_text), classes="dialog-title")
            yield OptionList(
                *(Option(plain(item), id=str(i)) for i, item in enumerate(self.items)), id="choices"
            )

    def on_mount(self) -> None:
        self.query_one(OptionList).highlighted = self.selected

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(int(event.option.id or 0))
