"""The command palette's entries for the main screen (ctrl+p): every action, with its key.

Listed by `AgentchatApp.get_system_commands` beside Textual's own; the actions are the main
screen's, so the palette and the keys can never do different things.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from textual.app import SystemCommand

if TYPE_CHECKING:
    from textual.screen import Screen


class Command(NamedTuple):
    title: str
    help: str
    action: str


COMMANDS = (
    Command("New chat", "Start a new conversation with the current agent (ctrl+n)", "new_chat"),
    Command("Stop generation", "Stop the reply; the partial reply is kept (escape)", "stop"),
    Command("Regenerate last reply", "Ask again from the last user message (ctrl+r)", "regenerate"),
    Command(
        "Edit last message", "Edit the last user message and resend it as a new branch (f4)", "edit_last"
    ),
    Command("Next provider", "Cycle through providers with a key (ctrl+o)", "cycle_provider"),
    Command("Pick model", "Models per provider, discovered live (ctrl+l)", "pick_model"),
    Command("Key status", "Keys per provider, live check, set a key (f2)", "keys"),
    Command(
        "Usage statistics", "Requests, tokens, cost and speed per provider and model, per day (f6)", "stats"
    ),
    Command("Toggle tool activity", "Show or hide the tool calls pane (f3)", "toggle_tools"),
    Command("Toggle sidebar", "Show or hide the agent list (ctrl+b)", "toggle_sidebar"),
    Command("Search history", "Full-text search over every conversation (ctrl+f)", "search"),
    Command("Rename conversation", "Give the current conversation a title", "rename"),
    Command("Delete conversation", "Delete the current conversation", "delete"),
    Command("Copy last reply", "Copy the last reply as Markdown (f5)", "copy_reply"),
    Command("Copy code from last reply", "Copy a code block of the last reply (f8)", "copy_code"),
    Command(
        "Focus messages", "Move to the messages: c copy, y code, e edit, r regenerate (f9)", "focus_messages"
    ),
    Command(
        "Compact conversation",
        "Summarise it into a new branch to free the context window; the original is kept (f7)",
        "compact",
    ),
    Command("Load earlier messages", "Mount the previous page of this conversation", "load_earlier"),
    Command("Edit prompt in $EDITOR", "Write the prompt in $VISUAL or $EDITOR (ctrl+e)", "editor"),
    Command("Previous branch", "The newest branched message's older sibling (alt+left)", "branch(-1)"),
    Command("Next branch", "The newest branched message's newer sibling (alt+right)", "branch(1)"),
    Command("Slash commands", "Every / command and template (type / in the prompt)", "slash_help"),
)


def system_commands(screen: Screen[Any]) -> Iterable[SystemCommand]:
    for command in COMMANDS:
        yield SystemCommand(command.title, command.help, _action(screen, command.action))


def _action(screen: Screen[Any], action: str) -> Callable[[], object]:
    return lambda: screen.run_action(action)
