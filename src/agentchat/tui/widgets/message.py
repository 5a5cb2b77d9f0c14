"""One message of the conversation (`MessageBox`) and the reply being streamed (`ReplyBox`).

Mounted widgets, not tokens, are what slow Textual down, so a finished message is one `Static` of
Rich renderables (two widgets with thinking) and only the streaming reply is a Textual `Markdown`.
Every text here is a model's, a user's or a tool's: it reaches a widget through `plain`/`plain_text`
(no markup, no control sequences), and the streamed reply through a `StreamCleaner`.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.console import Group, RenderableType
from rich.markdown import Markdown as RichMarkdown
from rich.text import Text
from textual import getters
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message as TextualMessage
from textual.widgets import Collapsible, Markdown, Static
from textual.widgets.markdown import MarkdownStream

from agentchat.core.export import attachment_line
from agentchat.core.messages import Message, ToolResultPart
from agentchat.core.turn import ReplyBuilder
from agentchat.tui.format import TimeFormat, call_label, code_blocks, message_label
from agentchat.tui.plain import StreamCleaner, clean, plain, plain_text
from agentchat.tui.screens.dialogs import Choice
from agentchat.tui.tcss import tcss_beside
from agentchat.tui.widgets.branch_nav import BranchNav
from agentchat.tui.widgets.reply_markdown import ReplyMarkdown

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.timer import Timer

    from agentchat.core.events import Event

CODE_THEME = "monokai"
PAINT_WAIT_S = 0.5  # the longest a finished reply waits for its last frame before it is stored


def result_line(result: ToolResultPart) -> Text:
    first = result.content.strip().splitlines()[0] if result.content.strip() else "(no output)"
    if len(first) > 100:
        first = first[:99] + "…"
    mark, style = ("✗", "red") if result.is_error else ("✓", "green")
    return Text.assemble((clean(f"{mark} {result.name or result.call_id}: "), style), (clean(first), "dim"))


def body_renderable(message: Message) -> RenderableType:
    """Everything but thinking, as Rich renderables: rendered once per width, no child widgets.
    Attachments are one line each (name, type, size, pixels or pages), as `history show` lists them."""
    items: list[RenderableType] = []
    if message.text and message.role == "user":  # as typed: line breaks kept, no markup applied
        items.append(plain_text(message.text))
    elif message.text:
        items.append(RichMarkdown(clean(message.text), code_theme=CODE_THEME))
    items += [plain_text(f"▪ {attachment_line(part)}", style="dim") for part in message.attachments]
    items += [plain_text(f"▸ {call_label(call)}", style="italic") for call in message.tool_calls]
    items += [result_line(result) for result in message.tool_results]
    if message.error:
        items.append(plain_text(f"error: {message.error}", style="bold red"))
    if not items:
        items.append(Text("(empty)", style="dim"))
    return Group(*items)


class MessageBox(Vertical, can_focus=True):
    """One message. Focus it (shift+tab from the prompt, then up/down) for its own actions."""

    DEFAULT_CSS = tcss_beside(__file__)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "copy", "Copy", id="message-copy"),
        Binding("y", "copy_code", "Copy code", id="message-copy-code"),
        Binding("e", "edit", "Edit & resend", id="message-edit"),
        Binding("r", "regenerate", "Regenerate", id="message-regenerate"),
        Binding("up", "sibling(-1)", "Previous", show=False, id="message-previous"),
        Binding("down", "sibling(1)", "Next", show=False, id="message-next"),
        Binding("left", "branch(-1)", "‹ Branch", id="message-branch-previous"),
        Binding("right", "branch(1)", "Branch ›", id="message-branch-next"),
    ]

    @dataclass
    class EditRequested(TextualMessage):
        """Edit this user message and resend it as a new branch (the screen runs the turn)."""

        box: MessageBox

    @dataclass
    class RegenerateRequested(TextualMessage):
        """Ask again for this reply (the screen runs the turn)."""

        box: MessageBox

    @dataclass
    class BranchRequested(TextualMessage):
        """Show the branch of this message's sibling `step` places along (‹ or ›)."""

        box: MessageBox
        step: int

    body = getters.query_one(".body", Static)  # a stored message's one rendering

    def __init__(self, message: Message, timefmt: TimeFormat) -> None:
        super().__init__(classes=f"message -{message.role}")
        self.message = message
        self.timefmt = timefmt
        self.branch: tuple[int, int] | None = None  # (place, of how many) among its siblings

    def compose(self) -> ComposeResult:
        if self.branch is not None:
            yield BranchNav(*self.branch)
        if self.message.thinking:
            yield Collapsible(Static(plain(self.message.thinking)), title="thinking", collapsed=True)
        yield Static(body_renderable(self.message), classes="body")

    def on_mount(self) -> None:
        self.border_title = plain(message_label(self.message, self.timefmt))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        role = self.message.role
        if action == "edit":
            return role == "user" and self.message.id is not None
        if action == "regenerate":
            return role == "assistant"
        if action == "copy_code":
            return role != "tool"
        if action == "branch":
            return self.branch is not None
        return True

    def show_branch(self, branch: tuple[int, int] | None) -> None:
        """`‹ 2/3 ›` above the text while the message has siblings (None: it has none)."""
        self.branch = branch
        navs = self.query_children(BranchNav)
        if branch is None:
            navs.remove()
        elif navs:
            navs.first().show(*branch)
        else:
            self.mount(BranchNav(*branch), before=0)
        self.refresh_bindings()

    def action_branch(self, step: int) -> None:
        self.post_message(self.BranchRequested(self, step))

    def on_branch_nav_step(self, event: BranchNav.Step) -> None:
        event.stop()
        self.post_message(self.BranchRequested(self, event.step))

    def action_copy(self) -> None:
        from agentchat.core.export import message_markdown

        self.app.copy_to_clipboard(message_markdown(self.message))
        self.notify("message copied to the clipboard", timeout=2)

    def action_copy_code(self) -> None:
        """One code block is copied at once; of several, the user picks which."""
        blocks = code_blocks(self.message.text)
        if not blocks:
            self.notify("this message has no code block", severity="warning", timeout=3)
            return

        def copy(index: int | None) -> None:
            if index is not None:
                self.app.copy_to_clipboard(blocks[index])
                self.notify("code copied to the clipboard", timeout=2)

        if len(blocks) == 1:
            copy(0)
            return
        previews = [
            f"{i + 1}. {block.splitlines()[0] if block else ''}"[:70] for i, block in enumerate(blocks)
        ]
        self.app.push_screen(Choice("Copy which code block?", previews), copy)

    def action_edit(self) -> None:
        self.post_message(self.EditRequested(self))

    def action_regenerate(self) -> None:
        self.post_message(self.RegenerateRequested(self))

    def action_sibling(self, step: int) -> None:
        boxes = list(self.parent.query_children(MessageBox)) if self.parent else []
        index = boxes.index(self) + step
        if 0 <= index < len(boxes):
            boxes[index].focus()
            boxes[index].scroll_visible(animate=False)
        elif step > 0:
            self.screen.focus_next()

    def update_message(self, message: Message) -> None:
        """Show the stored version (after it finished, or to add tool results)."""
        self.message = message
        self.border_title = plain(message_label(message, self.timefmt))
        self.body.update(body_renderable(message))


class ReplyBox(MessageBox):
    """The reply being streamed into a Textual `Markdown` through `MarkdownStream`.

    Tokens are buffered and handed to the stream at most every FLUSH_S: each append re-parses the
    last block and re-lays out the screen, so rendering per token would starve the event loop that
    also reads the stream (2,000 tokens/s would fall seconds behind). A finished reply keeps its
    Markdown until newer replies push it out of the LIVE_REPLIES newest (`settle`)."""

    FLUSH_S = 0.1

    markdown = getters.query_one(ReplyMarkdown)  # until `settle` swaps it for the stored rendering

    def __init__(self, message: Message, timefmt: TimeFormat) -> None:
        super().__init__(message, timefmt)
        self.add_class("-streaming")
        self.builder = ReplyBuilder(message)
        self.finished = False
        self.settled = False
        self._stream: MarkdownStream | None = None
        self._cleaner = StreamCleaner()  # a sequence may be split across two deltas
        self._pending: list[str] = []
        self._thinking: Static | None = None
        self._thinking_shown = 0
        self._calls: Static | None = None
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield ReplyMarkdown(classes="body stream")

    async def apply(self, event: Event) -> None:
        from agentchat.core.events import Finish, TextDelta, ThinkingDelta, ToolCall

        self.builder.add(event)
        if isinstance(event, Finish):  # the text is complete: on screen now, before it is stored
            await self._finish_text()
        elif isinstance(event, TextDelta):
            if shown := self._cleaner.feed(event.text):
                self._pending.append(shown)
            if self._stream is None:  # the first words show at once, the rest in batches
                self._stream = Markdown.get_stream(self.markdown)
                await self._flush()
        elif isinstance(event, ThinkingDelta) and event.text and self._thinking is None:
            self._thinking = Static(classes="thinking")
            box = Collapsible(self._thinking, title="thinking…", collapsed=True)
            await self.mount(box, before=self.markdown)
        elif isinstance(event, ToolCall):
            calls = plain("\n".join(f"▸ {call_label(c)}" for c in self.message.tool_calls))
            if self._calls is None:
                self._calls = Static(calls, classes="calls")
                await self.mount(self._calls)
            else:
                self._calls.update(calls)
        if self._timer is None:
            self._timer = self.set_interval(self.FLUSH_S, self._flush)

    async def _flush(self) -> None:
        thinking = self.message.thinking
        if self._thinking is not None and len(thinking) != self._thinking_shown:
            self._thinking_shown = len(thinking)
            self._thinking.update(plain(thinking))
        if self._pending and self._stream is not None:
            text = "".join(self._pending)
            self._pending.clear()
            await self._stream.write(text)

    async def _finish_text(self) -> None:
        """Hand over the rest of the text, wait until the Markdown holds all of it and a frame
        with it has been drawn. Until then the turn (storing the reply, labels) waits: it would
        delay that frame by tens of milliseconds."""
        if self._timer is not None:
            self._timer.stop()
        if rest := self._cleaner.flush():  # an unfinished sequence at the very end
            self._pending.append(rest)
        await self._flush()
        if self._stream is not None:
            stream, self._stream = self._stream, None
            markdown = self.markdown
            try:
                await stream.stop()
                async with markdown.lock:  # stop() does not wait for an append under way
                    pass
            except Exception:  # a block Textual could not update in place: draw the reply afresh
                await markdown.update(clean(self.message.text))
            painted = asyncio.Event()
            self.call_after_refresh(painted.set)
            with contextlib.suppress(TimeoutError):  # no frame comes while the app shuts down
                await asyncio.wait_for(painted.wait(), PAINT_WAIT_S)

    async def close(self, final: Message | None = None) -> None:
        """Show the rest of the text and the final label (of `final`, the stored message)."""
        await self._finish_text()
        if final is not None:
            self.message = final
        elif self.message.status == "streaming":
            self.message.status = "interrupted"
        self.finished = True
        self.remove_class("-streaming")
        self.border_title = plain(message_label(self.message, self.timefmt))

    async def settle(self) -> None:
        """Swap the Markdown widgets for the one-Static rendering every stored message gets."""
        await self.remove_children()
        await self.mount_all(list(MessageBox.compose(self)))
        self.settled = True
