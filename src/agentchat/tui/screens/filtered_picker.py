"""What the pickers that narrow a list as one types share (the `@` file picker, the model picker):
the text box keeps the focus, so up and down move the list's cursor from there, and every change
to the text lists again (each picker's `fill`)."""

from __future__ import annotations

from typing import TypeVar

from textual.screen import ModalScreen
from textual.widgets import Input, OptionList

R = TypeVar("R")


class FilteredPicker(ModalScreen[R]):
    """A modal with one text box and one option list; a subclass binds up/down to `move`."""

    def fill(self) -> None:
        """List what matches the text box now."""
        raise NotImplementedError

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.fill()

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if step > 0:
            options.action_cursor_down()
        else:
            options.action_cursor_up()
