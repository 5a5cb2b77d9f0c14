"""The main screen's keys for power users, kept apart from its layout and turns: the slash popup
(up/down move, tab completes, only while it is open), ctrl+e for `$EDITOR`, alt+left/alt+right
between branches. Every binding has an id, so `[keys]` in the config can move it."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.screen import Screen

from agentchat.tui.editor import edit_prompt
from agentchat.tui.widgets.message import MessageBox
from agentchat.tui.widgets.prompt import PromptInput

if TYPE_CHECKING:
    from textual.widgets import TextArea

    from agentchat.tui.branches import BranchControl
    from agentchat.tui.slash import SlashControl


class PowerKeys(Screen[None]):
    """A base of `MainScreen`, which makes `slash` and `branches`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # priority: the prompt (a TextArea) binds ctrl+e to the line's end
        Binding("ctrl+e", "editor", "Editor", priority=True, show=False, id="editor"),
        Binding("alt+left", "branch(-1)", "‹ Branch", show=False, id="branch-previous"),
        Binding("alt+right", "branch(1)", "Branch ›", show=False, id="branch-next"),
        Binding("up", "slash_move(-1)", show=False, priority=True, id="slash-previous"),
        Binding("down", "slash_move(1)", show=False, priority=True, id="slash-next"),
        Binding("tab", "slash_complete", show=False, priority=True, id="slash-complete"),
    ]

    slash: SlashControl
    branches: BranchControl

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("slash_move", "slash_complete"):  # else the key goes on (the prompt's cursor)
            focused = self.focused
            return self.slash.is_open and focused is not None and focused.id == "prompt"
        return True

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if event.text_area.id == "prompt":
            self.slash.text_changed(event.text_area.text)

    def on_message_box_branch_requested(self, event: MessageBox.BranchRequested) -> None:
        event.stop()
        self.branches.step(event.box, event.step)

    def action_slash_move(self, step: int) -> None:
        self.slash.move(step)

    def action_slash_complete(self) -> None:
        self.slash.complete()

    def action_slash_help(self) -> None:
        self.slash.run("help")

    def action_editor(self) -> None:
        """Once the prompt has taken the keys typed before ctrl+e (a priority binding runs as the
        key arrives; the keys before it may still wait in the prompt's queue)."""
        prompt = self.query_one("#prompt", PromptInput)
        prompt.call_later(edit_prompt, self.app, prompt)

    def action_branch(self, step: int) -> None:
        self.branches.step_last(step)
