"""The Markdown widget a reply streams into: Textual's, with code blocks drawn in pieces (and a
table that survives a re-parse).

Textual's code block is one Label holding the whole block: every append re-highlights all of it
and every frame re-renders all its lines, visible or not. A reply that is one long code block
then costs more per frame the longer it gets (50-60 ms at 250 lines, so its last token reached the
screen late). Here a block is a column of Labels of PIECE_LINES lines each: an append
re-highlights and redraws only the pieces that changed, normally just the last one.

A reply's links are the model's: a click opens only web and mail links, never a custom scheme
whose handler would start some other program.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from textual.widgets import Label, Markdown
from textual.widgets.markdown import MarkdownBlock, MarkdownFence

if TYPE_CHECKING:
    from markdown_it.token import Token
    from textual.app import ComposeResult
    from textual.content import Content

PIECE_LINES = 16
OPENABLE = ("http", "https", "mailto")


def pieces(code: str) -> list[str]:
    lines = code.split("\n")
    return ["\n".join(lines[i : i + PIECE_LINES]) for i in range(0, len(lines), PIECE_LINES)]


class PiecewiseFence(MarkdownFence):
    """A code block as pieces. A construct that spans pieces (a long string) may be coloured
    differently across a boundary: each piece is highlighted on its own."""

    DEFAULT_CSS = """
    PiecewiseFence { padding: 1 2; }
    PiecewiseFence:ansi { padding: 1 0; }
    PiecewiseFence > Label, PiecewiseFence:ansi > Label { padding: 0; }
    """

    def __init__(self, markdown: Markdown, token: Token, code: str) -> None:
        # Not MarkdownFence.__init__: it highlights the whole block, at every append.
        MarkdownBlock.__init__(self, markdown, token)
        self.code = code
        self.lexer = token.info
        self.auto_links = False
        self._theme: tuple[bool, bool] | None = None

    def _highlight(self, piece: str) -> Content:
        return self.highlight(
            piece, self.lexer, ansi=self.app.native_ansi_color, dark=self.app.current_theme.dark
        )

    def compose(self) -> ComposeResult:
        self._theme = (self.app.native_ansi_color, self.app.current_theme.dark)
        for piece in pieces(self.code):
            yield Label(self._highlight(piece), expand=True)

    async def _update_from_block(self, block: MarkdownBlock) -> None:
        if not isinstance(block, PiecewiseFence) or block.lexer != self.lexer:
            await MarkdownBlock._update_from_block(self, block)  # replace this block
            return
        old, new = pieces(self.code), pieces(block.code)
        self.code, self._token = block.code, block._token
        labels = list(self.query_children(Label))
        for index, (label, piece) in enumerate(zip(labels, new, strict=False)):
            if index >= len(old) or old[index] != piece:
                label.update(self._highlight(piece))
        if len(labels) > len(new):
            await self.remove_children(labels[len(new) :])
        elif len(new) > len(labels):
            await self.mount_all([Label(self._highlight(piece), expand=True) for piece in new[len(labels) :]])

    def notify_style_update(self) -> None:
        """Re-highlight only when the colours changed (MarkdownFence does it on any restyle)."""
        theme = (self.app.native_ansi_color, self.app.current_theme.dark)
        if self._theme is not None and theme != self._theme:
            self._theme = theme
            for label, piece in zip(self.query_children(Label), pieces(self.code), strict=False):
                label.update(self._highlight(piece))
        MarkdownBlock.notify_style_update(self)


# Textual's table block, which textual.widgets.markdown does not export: reached through the
# block map, so mypy knows it only as some MarkdownBlock subclass.
MarkdownTable = Markdown.BLOCKS["table_open"]


def span(block: MarkdownBlock) -> int:
    """Source lines a block covers; a table has one per row, plus the delimiter line."""
    start, end = block.source_range
    return end - start


class ShrinkableTable(MarkdownTable):  # type: ignore[misc, valid-type]  # a variable base: see above
    """Textual updates a streaming table by appending rows and fails (UnboundLocalError) when a
    re-parse gives it fewer: the line after the last row turns out not to be a row once its first
    characters arrive (a fence, a list, `--`). Then the table is replaced whole. Rows are counted
    by the public `source_range`, not Textual's private row list."""

    def __init__(self, markdown: Markdown, token: Token, *args: Any, **kwargs: Any) -> None:
        super().__init__(markdown, token, *args, **kwargs)
        self.row_lines = span(self)

    async def _update_from_block(self, block: MarkdownBlock) -> None:
        lines = span(block)
        if lines < self.row_lines:
            await MarkdownBlock._update_from_block(self, block)  # replace this block
            return
        self.row_lines = lines
        await super()._update_from_block(block)


class ReplyMarkdown(Markdown):
    # Not a ClassVar: Textual declares BLOCKS as an instance attribute, which a ClassVar may not override.
    BLOCKS: dict[str, type[MarkdownBlock]] = {  # noqa: RUF012
        **Markdown.BLOCKS,
        "fence": PiecewiseFence,
        "code_block": PiecewiseFence,
        "table_open": ShrinkableTable,
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, open_links=False, **kwargs)  # links are opened below, if at all

    def on_markdown_link_clicked(self, event: Markdown.LinkClicked) -> None:
        if urlsplit(event.href).scheme.lower() in OPENABLE:
            self.app.open_url(event.href)
        else:
            self.notify(
                f"not opened (only http, https and mailto links open): {event.href}", severity="warning"
            )
