"""Tool approval: the engine awaits the user's answer through `ApprovalGate`'s approver callback.

The call's name and arguments come from the model, the tool's description maybe from an MCP server:
shown as `plain` text, never markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, get_args

from textual import getters
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from agentchat.tools.approval import Decision
from agentchat.tui.format import pretty_json
from agentchat.tui.plain import plain
from agentchat.tui.screens.modal_answer import answer_of

if TYPE_CHECKING:
    from textual.app import App, ComposeResult

    from agentchat.core.messages import ToolCallPart
    from agentchat.tools.base import Tool

DECISIONS: dict[str, Decision] = {decision: decision for decision in get_args(Decision)}


class ApprovalScreen(ModalScreen[Decision]):
    CSS_PATH = "approval.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "decide('allow_once')", "Allow once", id="approval-allow-once"),
        Binding("a", "decide('allow_always')", "Always (this conversation)", id="approval-allow-always"),
        Binding("n,escape", "decide('deny')", "Deny", id="approval-deny"),
    ]

    deny_button = getters.query_one("#deny", Button)

    def __init__(self, call: ToolCallPart, tool: Tool) -> None:
        super().__init__(classes="dialog")
        self.call = call
        self.tool = tool

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body", id="approval"):
            yield Label(plain(f"Allow the tool {self.call.name}?"), classes="dialog-title")
            yield Static(plain(f"{self.tool.source} · {self.tool.spec.description}").stylize("dim"))
            if self.tool.caution:  # e.g. run_shell: not confined to the workspace (or what the sandbox does)
                yield Static(plain(f"Note: {self.tool.caution}"), id="caution")
            with VerticalScroll(id="arguments"):
                yield Static(plain(pretty_json(self.call.arguments)))
            with Horizontal(classes="buttons"):
                yield Button("Allow once (y)", variant="primary", id="allow_once")
                yield Button("Always here (a)", variant="warning", id="allow_always")
                yield Button("Deny (n)", variant="error", id="deny")

    def on_mount(self) -> None:
        self.deny_button.focus()

    def action_decide(self, decision: str) -> None:
        """A key's or a button's answer; anything not a known decision denies."""
        self.dismiss(DECISIONS.get(decision, "deny"))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_decide(event.button.id or "deny")


async def ask_approval(app: App[Any], call: ToolCallPart, tool: Tool) -> Decision:
    """Show the modal and wait for the answer; if the turn is cancelled meanwhile, close it."""
    return await answer_of(app, ApprovalScreen(call, tool), "deny")
