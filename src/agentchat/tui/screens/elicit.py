"""An MCP server asking the user for input (elicitation), as a modal: one input per field, typed
values checked as they are in `ask` (tools.mcp.elicit.parse). The engine's call waits on it, like
tool approval; Escape declines. The server's text is shown as plain text, never markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import getters
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from agentchat.tools.mcp.elicit import Answer, Elicitation, parse, shown
from agentchat.tui.plain import plain
from agentchat.tui.screens.modal_answer import answer_of

if TYPE_CHECKING:
    from textual.app import App, ComposeResult


class ElicitScreen(ModalScreen[Answer]):
    CSS_PATH = "elicit.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "decline", "Decline", id="elicit-decline"),
    ]

    problem = getters.query_one("#elicit-problem", Static)

    def __init__(self, request: Elicitation) -> None:
        super().__init__(classes="dialog")
        self.request = request

    def compose(self) -> ComposeResult:
        request = self.request
        with Vertical(classes="dialog-body", id="elicit"):
            yield Label(plain(f"MCP server {request.server} asks"), classes="dialog-title")
            yield Static(plain(request.message))
            if request.url:
                yield Static(plain(f"Open {request.url}").stylize("bold"))
            with VerticalScroll(id="elicit-fields"):
                for field in request.fields:
                    about = f" - {field.description}" if field.description else ""
                    kind = "/".join(field.choices) if field.choices else field.type
                    yield Label(
                        plain(f"{field.title}{about} ({kind}{', required' if field.required else ''})")
                    )
                    yield Input(shown(field.default), id=f"field-{field.name}", classes="elicit-field")
            yield Static("", id="elicit-problem")
            with Horizontal(classes="buttons"):
                yield Button("Send" if not request.url else "Done", variant="primary", id="accept")
                yield Button("Decline (esc)", variant="error", id="decline")

    def on_mount(self) -> None:
        fields = self.query(".elicit-field")
        (fields.first() if fields else self.query_one("#accept")).focus()

    def action_decline(self) -> None:
        self.dismiss(Answer("decline"))

    def _accept(self) -> None:
        values = {}
        for field in self.request.fields:
            text = self.query_one(f"#field-{field.name}", Input).value
            try:
                values[field.name] = parse(field, text)
            except ValueError as exc:
                self.problem.update(plain(str(exc)))
                return
        self.dismiss(Answer("accept", values))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._accept()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "accept":
            self._accept()
        else:
            self.action_decline()


async def ask_elicitation(app: App[Any], request: Elicitation) -> Answer:
    """Show the modal and wait for the answer; a cancelled call closes it (the server is told)."""
    return await answer_of(app, ElicitScreen(request), Answer("cancel"))
