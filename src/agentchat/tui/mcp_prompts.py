"""MCP prompts in the command palette: "MCP prompt NAME:PROMPT" fills the prompt input with what
the server's prompt says (its arguments asked first, in the same modal a server's question uses).
The text is put in the input, not sent: the user reads and edits it first. Slash commands
(`/NAME:PROMPT`) reach the same `fill_from_prompt`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand

from agentchat.core.errors import AgentchatError
from agentchat.tools.mcp.context import PromptEntry, fetch_prompt, prompts_of
from agentchat.tools.mcp.elicit import Elicitation, Field
from agentchat.tui.errors import notify_error

if TYPE_CHECKING:
    from agentchat.tui.screens.main import MainScreen


def prompt_commands(screen: MainScreen) -> Iterable[SystemCommand]:
    """One palette entry per prompt of the started MCP servers."""
    mcp = screen.app.mcp
    if mcp is None:
        return
    for entry in prompts_of(mcp):
        args = ", ".join(f"{name}{'' if required else '?'}" for name, required in entry.arguments)
        about = " · ".join(p for p in (entry.description, f"arguments: {args}" if args else "") if p)
        yield SystemCommand(
            f"MCP prompt {entry.ref}",
            about or "Fill the input from this MCP prompt",
            lambda entry=entry: screen.run_worker(fill_from_prompt(screen, entry), exit_on_error=False),  # type: ignore[misc]
        )


async def fill_from_prompt(
    screen: MainScreen, entry: PromptEntry, arguments: dict[str, Any] | None = None
) -> None:
    """Ask for the prompt's arguments (unless given), fetch it, and put its text in the input;
    its images become chips. A failure is one notification."""
    app = screen.app
    if arguments is None and entry.arguments:
        from agentchat.tui.screens.elicit import ask_elicitation

        fields = [Field(name, name, required=required) for name, required in entry.arguments]
        answer = await ask_elicitation(
            app, Elicitation(entry.server, f"Arguments for the prompt {entry.name}", fields)
        )
        if answer.action != "accept":
            return
        arguments = {k: str(v) for k, v in answer.values.items() if v is not None}
    try:
        rendered = await fetch_prompt(app.config, entry.ref, arguments or {}, manager=app.mcp)
    except AgentchatError as exc:
        notify_error(screen, exc, timeout=8)
        return
    screen.prompt.load_text(rendered.text)
    for part in rendered.attachments:
        from agentchat.tui.attachments import Attachment

        await screen.chips.add(Attachment(part))
    screen.prompt.focus()
