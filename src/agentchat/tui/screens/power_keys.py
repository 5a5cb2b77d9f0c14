"""The main screen's keys for power users, kept apart from its layout and turns: the slash popup
(up/down move, tab completes, only while it is open), ctrl+e for `$EDITOR`, alt+left/alt+right
between branches. Every binding has an id, so `[keys]` in the config can move it."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import ActiveBinding, Binding, BindingType
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

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """Each in the place its declared key gives it, whatever key `[keys]` moved it to: Textual
        re-adds a remapped binding after all the others, past the footer's right edge below
        ~140 columns (`new-chat = "ctrl+t"` took `New` out of sight)."""
        active = super().active_bindings
        first: dict[str, int] = {}  # key -> where it first appears in the chain, as declared
        rank: dict[str | tuple[str, str], int] = {}
        for node, _ in self._modal_binding_chain:
            for key, binding in node._bindings:  # as declared: the chain's maps are keymapped copies
                rank.setdefault(_identity(binding), first.setdefault(key, len(first)))
        return dict(sorted(active.items(), key=lambda item: rank.get(_identity(item[1].binding), len(first))))

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


def _identity(binding: Binding) -> str | tuple[str, str]:
    """A binding the keymap may have moved is known by its id, any other by its key and action."""
    return binding.id or (binding.key, binding.action)
