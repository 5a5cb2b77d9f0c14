"""The conversation pane: a window of the active branch, loaded lazily, plus the reply being streamed.

Only the newest `PAGE` messages are mounted; older ones load when the user scrolls to the top.
(Mounted widgets, not tokens, are what slow Textual down: see `agentchat.tui.widgets.message`.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.containers import VerticalScroll
from textual.widgets import Static

from agentchat.core.messages import Message, ToolResultPart
from agentchat.tui.format import TimeFormat
from agentchat.tui.tcss import tcss_beside
from agentchat.tui.widgets.message import MessageBox, ReplyBox
from agentchat.tui.widgets.pending import PendingReply
from agentchat.tui.widgets.welcome import Welcome

if TYPE_CHECKING:
    from textual.widget import Widget

    from agentchat.core.store import Store

__all__ = ["LIVE_REPLIES", "PAGE", "ConversationView", "MessageBox", "ReplyBox"]

PAGE = 40
LIVE_REPLIES = 3  # finished replies that keep their Markdown widgets; older ones are settled


class EarlierMarker(Static):
    def __init__(self, text: str) -> None:
        super().__init__(text, id="earlier")

    def on_click(self) -> None:
        view = self.parent
        if isinstance(view, ConversationView):
            view.run_worker(view.load_earlier(), group="history", exclusive=True)


class ConversationView(VerticalScroll):
    """Messages of one branch, newest at the bottom; follows the stream until the user scrolls away."""

    DEFAULT_CSS = tcss_beside(__file__)

    def __init__(self, store: Store, timefmt: TimeFormat, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self.timefmt = timefmt
        self.earlier = 0  # messages of the branch above the oldest mounted one
        self._loading = False

    def boxes(self) -> list[MessageBox]:
        return list(self.query_children(MessageBox))

    async def show(self, leaf: int | None) -> None:
        """Replace the content with the newest PAGE messages of the branch ending at `leaf`."""
        await self.remove_children()
        messages = self.store.thread(leaf, limit=PAGE) if leaf is not None else []
        self.earlier = (self.store.thread_length(leaf) - len(messages)) if leaf is not None else 0
        widgets: list[Widget] = [Welcome()] if not messages else []  # an empty conversation
        if self.earlier:
            widgets.append(self._earlier_marker())
        widgets += [MessageBox(m, self.timefmt) for m in messages]
        await self.mount_all(widgets)
        self.refresh_branches()
        self.anchor()

    def refresh_branches(self) -> None:
        """`‹ 2/3 ›` on every stored message on screen that has siblings (one read for all)."""
        from agentchat.core.branches import positions

        boxes = [box for box in self.boxes() if box.message.id is not None]
        found = positions(self.store, [box.message.id for box in boxes if box.message.id is not None])
        for box in boxes:
            branch = found.get(box.message.id) if box.message.id is not None else None
            if branch != box.branch:
                box.show_branch(branch)

    def _earlier_marker(self) -> EarlierMarker:
        return EarlierMarker(f"▲ {self.earlier:,} earlier messages: scroll up or click to load")

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value <= 0 < old_value and self.earlier and not self._loading:
            self.run_worker(self.load_earlier(), group="history", exclusive=True)

    async def load_earlier(self) -> None:
        """Mount the PAGE messages above the oldest one, keeping what the user looks at in place."""
        boxes = self.boxes()
        if self._loading or not self.earlier or not boxes or boxes[0].message.parent_id is None:
            return
        self._loading = True
        try:
            messages = self.store.thread(boxes[0].message.parent_id, limit=PAGE)
            self.earlier = max(self.earlier - len(messages), 0)
            marker = self.query("#earlier")
            old_height = self.virtual_size.height
            await marker.remove()
            widgets: list[EarlierMarker | MessageBox] = [MessageBox(m, self.timefmt) for m in messages]
            if self.earlier:
                widgets.insert(0, self._earlier_marker())
            await self.mount_all(widgets, before=0)
            self.refresh_branches()

            def keep_place() -> None:
                self.scroll_to(y=self.scroll_y + self.virtual_size.height - old_height, animate=False)

            self.call_after_refresh(keep_place)
        finally:
            self._loading = False

    def on_mount(self) -> None:
        if not self.children:  # the screen opens on a new conversation
            self.mount(Welcome())

    async def append(self, message: Message) -> MessageBox:
        await self.query_children(Welcome).remove()
        box = MessageBox(message, self.timefmt)
        await self.mount(box, before=self._pending())
        return box

    # --- the wait for a reply's first token (agentchat.tui.widgets.pending) --------------------
    def _pending(self) -> PendingReply | None:
        found = self.query_children(PendingReply)
        return found.first() if found else None

    async def show_waiting(self, label: str) -> None:
        """Under the newest message until the reply's first token; a reply mounts above it."""
        pending = self._pending()
        if pending is not None:
            pending.relabel(label)
            return
        await self.mount(PendingReply(label))
        self.anchor()

    async def stop_waiting(self) -> None:
        await self.query_children(PendingReply).remove()

    async def start_reply(self, message: Message) -> ReplyBox:
        finished = [box for box in self.query_children(ReplyBox) if box.finished and not box.settled]
        for old in finished[: max(len(finished) - LIVE_REPLIES + 1, 0)]:
            await old.settle()
        box = ReplyBox(message, self.timefmt)
        await self.mount(box, before=self._pending())
        return box

    async def add_tool_result(self, result: ToolResultPart) -> None:
        """Results of one step share a box, like the stored tool message they become."""
        boxes = self.boxes()
        last = boxes[-1] if boxes else None
        if last is not None and last.message.role == "tool":
            last.message.parts.append(result)
            last.update_message(last.message)
        else:
            await self.append(Message(role="tool", parts=[result]))

    async def truncate_from(self, box: MessageBox) -> None:
        """Remove `box` and everything after it (the branch the user is leaving)."""
        children = list(self.children)
        await self.remove_children(children[children.index(box) :])

    def last_user_box(self) -> MessageBox | None:
        """The newest stored user message on screen: what a regeneration or an edit starts from."""
        for box in reversed(self.boxes()):
            if box.message.role == "user" and box.message.id is not None:
                return box
        return None

    def user_box_before(self, box: MessageBox) -> MessageBox | None:
        """The stored user message `box` answers (or `box` itself): where its regeneration starts."""
        boxes = self.boxes()
        for candidate in reversed(boxes[: boxes.index(box) + 1]):
            if candidate.message.role == "user" and candidate.message.id is not None:
                return candidate
        return None

    def last_reply(self) -> MessageBox | None:
        for box in reversed(self.boxes()):
            if box.message.role == "assistant":
                return box
        return None
