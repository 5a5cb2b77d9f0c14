"""The attachments of the next prompt: one chip each, in a row above the prompt, removable.

Keyboard: shift+tab from the prompt reaches the last chip; left and right move between chips,
delete or backspace removes one, escape or down goes back to the prompt. Mouse: click a chip's
✕. A chip's tooltip is the attachment's full line (name, type, size, pixels or pages).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Horizontal, HorizontalScroll
from textual.message import Message
from textual.widgets import Label

from agentchat.core.export import attachment_line
from agentchat.tui.attachments import Attachment, chip_label
from agentchat.tui.plain import plain
from agentchat.tui.tcss import tcss_beside

if TYPE_CHECKING:
    from textual import events
    from textual.app import ComposeResult


class ChipRemove(Label):
    """The ✕ of a chip: a click removes it."""

    def on_click(self, event: events.Click) -> None:
        event.stop()
        chip = self.parent
        if isinstance(chip, Chip):
            chip.action_remove()


class Chip(Horizontal, can_focus=True):
    FOCUS_ON_CLICK = False  # clicking its ✕ leaves the focus where it is (the prompt, mostly)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("delete,backspace", "remove", "Remove", id="chip-remove"),
        Binding("left", "step(-1)", "Previous", show=False, id="chip-previous"),
        Binding("right", "step(1)", "Next", show=False, id="chip-next"),
        Binding("escape,down", "back", "To the prompt", show=False, id="chip-back"),
    ]

    @dataclass
    class RemoveRequested(Message):
        """Take this chip (and its attachment) away."""

        chip: Chip

    def __init__(self, attachment: Attachment) -> None:
        super().__init__(classes="chip")
        self.attachment = attachment

    def compose(self) -> ComposeResult:
        yield Label(plain(chip_label(self.attachment.part)), classes="chip-label")
        yield ChipRemove("✕", classes="chip-remove")

    def on_mount(self) -> None:
        self.tooltip = plain(attachment_line(self.attachment.part))

    def on_focus(self) -> None:
        self.scroll_visible(animate=False)

    def action_remove(self) -> None:
        self.post_message(self.RemoveRequested(self))

    def action_step(self, step: int) -> None:
        bar = self.parent
        if isinstance(bar, AttachmentBar):
            chips = bar.chips()
            index = chips.index(self) + step
            if 0 <= index < len(chips):
                chips[index].focus()

    def action_back(self) -> None:
        self.screen.focus_next("PromptInput")


class AttachmentBar(HorizontalScroll, can_focus=False):
    """The row of chips; hidden while it holds none."""

    DEFAULT_CSS = tcss_beside(__file__)  # the chips' too: they live only in the bar

    def chips(self) -> list[Chip]:
        return list(self.query_children(Chip))

    @property
    def attachments(self) -> list[Attachment]:
        return [chip.attachment for chip in self.chips()]

    def holds(self, key: str) -> bool:
        return any(chip.attachment.key == key for chip in self.chips())

    async def add(self, attachment: Attachment) -> None:
        await self.mount(Chip(attachment))
        self.add_class("-shown")
        self.scroll_end(animate=False)

    async def discard(self, attached: Iterable[Attachment]) -> None:
        """Remove the chips of these attachments (those sent), if they are still here."""
        gone = {id(a) for a in attached}
        for chip in self.chips():
            if id(chip.attachment) in gone:
                await self._remove(chip)

    async def on_chip_remove_requested(self, event: Chip.RemoveRequested) -> None:
        event.stop()
        await self._remove(event.chip)

    async def _remove(self, chip: Chip) -> None:
        """Focus stays among the chips (the next one, else the one before), or goes to the prompt."""
        if chip.has_focus:
            chips = self.chips()
            index = chips.index(chip)
            neighbour = chips[index + 1] if index + 1 < len(chips) else chips[index - 1] if index else None
            if neighbour is not None:
                neighbour.focus()
            else:
                self.screen.focus_next("PromptInput")
        await chip.remove()
        self.set_class(bool(self.chips()), "-shown")
