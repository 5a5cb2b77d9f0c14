"""The slash-command popup: `/` at the start of the prompt lists the commands, the user's
templates and MCP servers' prompts, filtered as the name is typed. It never takes focus (the
prompt keeps it); the screen moves its highlight (up/down), completes (tab) and closes it (escape).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from agentchat.tui.plain import clean
from agentchat.tui.tcss import tcss_beside

MAX_SHOWN = 8


@dataclass(frozen=True, slots=True)
class SlashItem:
    """One entry: what follows `/` (`model`, `review`, `github:summarise`) and what it does."""

    name: str
    help: str
    kind: str = "command"  # "command", "template" (a file) or "prompt" (an MCP server's)


def matching(items: list[SlashItem], typed: str) -> list[SlashItem]:
    """Names starting with what was typed first, then names containing it, each in list order."""
    typed = typed.lower()
    starts = [item for item in items if item.name.lower().startswith(typed)]
    return starts + [item for item in items if typed in item.name.lower() and item not in starts]


class SlashMenu(OptionList, can_focus=False):
    DEFAULT_CSS = tcss_beside(__file__)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.items: list[SlashItem] = []

    @property
    def is_open(self) -> bool:
        return self.display and bool(self.items)

    def show_items(self, items: list[SlashItem]) -> None:
        """Show these (the best match highlighted), or close when there are none."""
        if items != self.items:
            self.items = items
            self.clear_options()
            width = max((len(item.name) for item in items), default=0) + 2
            self.add_options(
                Option(
                    Text.assemble(
                        (f"/{item.name}".ljust(width), "bold"),
                        (clean(item.help), "dim"),
                        ("" if item.kind == "command" else f"  · {item.kind}", "italic dim"),
                    )
                )
                for item in items
            )
        self.display = bool(items)
        if items:
            self.highlighted = 0

    def close(self) -> None:
        self.items = []
        self.clear_options()
        self.display = False

    def move(self, step: int) -> None:
        if self.items:
            self.highlighted = ((self.highlighted or 0) + step) % len(self.items)

    @property
    def current(self) -> SlashItem | None:
        index = self.highlighted
        return self.items[index] if self.is_open and index is not None else None
