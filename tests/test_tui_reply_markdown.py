"""The reply's Markdown draws a long code block in pieces while it streams: what the user sees
must be exactly the code that arrived, whatever the fragment boundaries."""

from __future__ import annotations

import random

from textual.app import App, ComposeResult
from textual.widgets import Label, Markdown

from agentchat.tui.widgets.reply_markdown import PIECE_LINES, PiecewiseFence, ReplyMarkdown

CODE = "\n".join(f"def step_{i}(rows):\n    return [r * {i} for r in rows]  # {i}" for i in range(40))


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield ReplyMarkdown()


def shown_code(fence: PiecewiseFence) -> str:
    return "\n".join(str(label.render()) for label in fence.query_children(Label))


async def test_a_streamed_code_block_shows_all_its_lines_once_in_order() -> None:
    document = f"Here it is:\n\n```python\n{CODE}\n```\n\nDone."
    cuts = sorted(random.Random(7).sample(range(1, len(document)), 60))
    fragments = [document[a:b] for a, b in zip([0, *cuts], [*cuts, len(document)], strict=True)]
    app = Host()
    async with app.run_test(size=(100, 40)) as pilot:
        markdown = app.query_one(ReplyMarkdown)
        for fragment in fragments:  # each parsed and mounted on its own (a stream may batch them)
            await markdown.append(fragment)
        await pilot.pause()
        (fence,) = markdown.query(PiecewiseFence)
        assert shown_code(fence) == CODE
        lines = CODE.count("\n") + 1
        assert len(fence.query_children(Label)) == -(-lines // PIECE_LINES)  # drawn in pieces
        assert markdown.source == document


async def test_a_block_that_shrinks_on_reparse_drops_its_extra_pieces() -> None:
    """An unclosed fence swallows what follows until the closing backticks arrive: here the
    half-written closing line starts a second piece, which goes once the third backtick comes."""
    code = "\n".join(f"x = {i}" for i in range(PIECE_LINES))  # exactly one piece
    app = Host()
    async with app.run_test(size=(100, 40)) as pilot:
        markdown = app.query_one(ReplyMarkdown)
        stream = Markdown.get_stream(markdown)
        await stream.write(f"```\n{code}\n``")
        await pilot.pause()
        fence = markdown.query_one(PiecewiseFence)
        assert shown_code(fence) == f"{code}\n``" and len(fence.query_children(Label)) == 2
        await stream.write("`\n\nDone.")
        await stream.stop()
        await pilot.pause()
        assert markdown.query_one(PiecewiseFence) is fence  # updated in place, not replaced
        assert shown_code(fence) == code and len(fence.query_children(Label)) == 1


async def test_a_table_followed_by_a_fence_streams_without_breaking() -> None:
    """The line after a table's last row is a row until its first characters say otherwise:
    Textual's table then has fewer rows than it drew, which it could not handle."""
    document = "| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n```python\nprint(1)\n```\n\nDone."
    cut = document.index("```") + 1  # "`" alone still reads as a table row
    app = Host()
    async with app.run_test(size=(100, 40)) as pilot:
        markdown = app.query_one(ReplyMarkdown)
        stream = Markdown.get_stream(markdown)
        await stream.write(document[:cut])
        await pilot.pause()
        await stream.write(document[cut:])
        await pilot.pause()
        await stream.stop()  # raised UnboundLocalError from the table's update
        await pilot.pause()
        (fence,) = markdown.query(PiecewiseFence)
        assert shown_code(fence) == "print(1)"
        assert len(markdown.query(Markdown.BLOCKS["table_open"])) == 1
