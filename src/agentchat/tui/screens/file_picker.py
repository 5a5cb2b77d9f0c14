"""The `@` picker: the workspace's files (as git sees them), a fuzzy search, enter attaches one.

The listing is read once per opening, in a thread, so a large workspace never holds up a key; it
stops at `files.MAX_FILES` and says so. File names are whatever is on disk: options are `plain`
text with the matched letters styled, never markup.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, ClassVar

from textual import getters, work
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from agentchat.tui.files import MAX_FILES, Hit, Listing, list_files, rank
from agentchat.tui.plain import clean
from agentchat.tui.screens.filtered_picker import FilteredPicker

if TYPE_CHECKING:
    from pathlib import Path

    from textual.app import ComposeResult

SHOWN = 50  # matches listed; a more precise query finds the rest
MATCH_STYLE = "bold $accent"


def hit_label(hit: Hit, attached: bool) -> Content:
    """The path with the letters the query matched styled; ● marks one already attached."""
    shown = clean(hit.path)
    label = Content(shown)
    if shown == hit.path:  # else the positions no longer line up; the name still shows
        for index in hit.positions:
            label = label.stylize(MATCH_STYLE, index, index + 1)
    return Content("● " if attached else "  ") + label


class FilePicker(FilteredPicker[str | None]):
    """Dismissed with the chosen path (relative to the workspace, as `ask -f` would take it) or None."""

    CSS_PATH = "file_picker.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", id="dialog-cancel"),
        Binding("down", "move(1)", "Down", show=False, id="files-down"),
        Binding("up", "move(-1)", "Up", show=False, id="files-up"),
    ]

    query_input = getters.query_one("#file-query", Input)
    options = getters.query_one("#files", OptionList)
    status = getters.query_one("#file-count", Label)

    def __init__(self, workspace: Path, attached: set[str], resources: list[str] | None = None) -> None:
        super().__init__(classes="dialog")
        self.workspace = workspace
        self.resources = resources or []  # MCP resources (`mcp:NAME:URI`): type `NAME:` to find them
        self.attached = attached  # the workspace paths already chips: marked in the list
        self.listing: Listing | None = None
        self.hits: list[Hit] = []  # the best SHOWN matches, as listed
        self.matching = 0

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body", id="file-picker"):
            yield Label("Attach a file: type to search, enter attaches, esc cancels", classes="dialog-title")
            yield Input(placeholder="file name or path, fuzzy", id="file-query")
            yield OptionList(id="files")
            yield Label("listing the workspace…", id="file-count")

    def on_mount(self) -> None:
        self.query_input.focus()
        self.load()

    @work(group="file-listing", exclusive=True)
    async def load(self) -> None:
        listing = await asyncio.to_thread(list_files, self.workspace)
        self.listing = Listing(self.resources + listing.files, listing.capped)
        self.fill()

    def fill(self) -> None:
        listing = self.listing
        if listing is None:
            return
        hits = rank(self.query_input.value, listing.files)
        self.matching, self.hits = len(hits), hits[:SHOWN]
        options = self.options
        options.clear_options()
        options.add_options([Option(hit_label(h, h.path in self.attached)) for h in self.hits])
        if self.hits:
            options.highlighted = 0
        self.status.update(Content(self._count(listing)))

    def _count(self, listing: Listing) -> str:
        total = f"first {MAX_FILES:,} files" if listing.capped else f"{len(listing.files):,} files"
        if not listing.files:
            return "no files here (.gitignore respected)"
        if not self.query_input.value.strip():
            return f"{total} (.gitignore respected)"
        more = f", the best {SHOWN} shown" if self.matching > SHOWN else ""
        return f"{self.matching:,} matching of {total}{more}"

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        index = self.options.highlighted
        if index is not None and index < len(self.hits):
            self.dismiss(self.hits[index].path)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.hits[event.option_index].path)
