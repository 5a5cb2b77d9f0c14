"""`‹ 2/3 ›` on a message that has siblings (other replies to the same prompt, other versions of
an edited prompt): a click on an arrow, or left/right on the focused message, moves to the
sibling's branch (the screen's `BranchControl` does the moving)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import events
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Static

from agentchat.tui.tcss import tcss_beside

if TYPE_CHECKING:
    from textual.app import ComposeResult


class Arrow(Static):
    def __init__(self, text: str, step: int) -> None:
        super().__init__(text, classes="arrow", markup=False)
        self.step = step

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(BranchNav.Step(self, self.step))


class BranchNav(Horizontal):
    """The row above a branched message's text. `index` counts from 1."""

    DEFAULT_CSS = tcss_beside(__file__)

    @dataclass
    class Step(Message):
        """An arrow was clicked: move `step` siblings along (the message box handles it)."""

        arrow: Arrow
        step: int

    def __init__(self, index: int, count: int) -> None:
        super().__init__(classes="branch-nav")
        self.index, self.count = index, count

    def compose(self) -> ComposeResult:
        yield Arrow("‹", -1)
        yield Static(self.label, classes="position", markup=False)
        yield Arrow("›", 1)

    @property
    def label(self) -> str:
        return f"{self.index}/{self.count}"

    def show(self, index: int, count: int) -> None:
        self.index, self.count = index, count
        self.query_one(".position", Static).update(self.label)
