"""Moving between branches on the main screen: `‹ 2/3 ›` on a message with siblings (other
replies to one prompt after a regenerate, other versions of an edited prompt); left/right on the
focused message, alt+left/alt+right from anywhere (the newest branched message on screen), or a
click on an arrow. The conversation below follows: the sibling's newest branch is shown, and the
next prompt continues it (the screen's `branch_tip`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentchat.core.branches import sibling_ids

if TYPE_CHECKING:
    from agentchat.tui.screens.main import MainScreen
    from agentchat.tui.widgets.message import MessageBox


class BranchControl:
    """The main screen's branch moves (`screen.branches`)."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen

    def step(self, box: MessageBox, step: int, *, focus: bool = True) -> None:
        """Show the branch of `box`'s sibling `step` places along (no wrapping at either end)."""
        screen = self.screen
        message_id, conversation = box.message.id, screen.conversation_id
        if message_id is None or conversation is None:
            return
        if screen.generating:  # moving would stop the reply: the user does that, with escape
            screen.notify("a reply is streaming: escape stops it first", severity="warning", timeout=3)
            return
        store = screen.app.store
        siblings = sibling_ids(store, message_id)
        index = siblings.index(message_id) + step if message_id in siblings else -1
        if not 0 <= index < len(siblings):
            return
        target = siblings[index]
        screen.open_conversation(
            conversation, screen.agent, store.branch_leaf(target), focus=target if focus else None
        )

    def step_last(self, step: int) -> None:
        """alt+left/alt+right: the newest message on screen that has siblings."""
        for box in reversed(self.screen.view.boxes()):
            if box.branch is not None:
                self.step(box, step, focus=False)
                return
        self.screen.notify("no message here has other branches", severity="warning", timeout=3)
