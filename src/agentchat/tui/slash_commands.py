"""The built-in slash commands: each does what a key or a dialog of the main screen does, or says
what is not available; `args` is what followed the name (`/model gpt-4.1` -> "gpt-4.1")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from agentchat.core.errors import AgentchatError
from agentchat.tui.errors import notify_error
from agentchat.tui.screens.dialogs import Choice, TextPrompt

if TYPE_CHECKING:
    from agentchat.tui.screens.main import MainScreen


@dataclass(frozen=True, slots=True)
class Builtin:
    help: str
    run: Callable[[MainScreen, str], None]


def _route(screen: MainScreen, model: str | None, provider: str | None) -> None:
    async def job() -> None:
        try:
            route = await screen.app.router.resolve(model, provider)
        except AgentchatError as exc:
            notify_error(screen, exc)
            return
        screen.set_route(route.provider, route.model)
        screen.notify(f"{route.provider} · {route.model}", title="Model", timeout=2)

    screen.turns.run_background(job)


def model(screen: MainScreen, args: str) -> None:
    if args:
        _route(screen, args, None)
    else:
        screen.action_pick_model()


def provider(screen: MainScreen, args: str) -> None:
    from agentchat.core.keycheck import key_status

    if args:
        _route(screen, None, args)
        return
    names = [row["provider"] for row in key_status(screen.app.config) if row["status"] != "missing"]
    if not names:
        screen.notify("no provider has a key: press f2 to set one", severity="warning")
        return

    def picked(index: int | None) -> None:
        if index is not None:
            _route(screen, None, names[index])

    screen.app.push_screen(Choice("Switch to which provider?", names), picked)


def agent(screen: MainScreen, args: str) -> None:
    names = screen.app.agent_names()
    if args:
        if args in names:
            screen.new_chat(args)
        else:
            screen.notify(f"no agent {args!r} (agents: {', '.join(names)})", severity="warning", timeout=5)
        return

    def picked(index: int | None) -> None:
        if index is not None:
            screen.new_chat(names[index])

    screen.app.push_screen(Choice("New conversation with which agent?", names), picked)


def system(screen: MainScreen, args: str) -> None:
    """A conversation keeps its system prompt (the store's); before it exists, its first turn
    takes the one given here."""
    store = screen.app.store
    conversation = screen.conversation_id

    def set_system(text: str | None) -> None:
        if not text or not text.strip():
            return
        if conversation is None:
            screen.slash.pending_system = text.strip()
            screen.notify("system prompt set for this new conversation", timeout=3)
        else:
            store.set_system(conversation, text.strip())
            screen.notify("system prompt set for this conversation", timeout=3)

    if args:
        set_system(args)
        return
    info = store.conversation(conversation) if conversation is not None else None
    current = (info.system if info else None) or screen.slash.pending_system or ""
    screen.app.push_screen(TextPrompt("System prompt", current, multiline=True), set_system)


def new(screen: MainScreen, args: str) -> None:
    screen.action_new_chat()


def compact(screen: MainScreen, args: str) -> None:
    """Every turn of the branch summarised into a new branch (the original stays, ‹ › reaches it)."""
    conversation = screen.conversation_id
    if conversation is None:
        screen.notify("nothing to compact yet", severity="warning", timeout=3)
        return
    from agentchat.core.compact import compact_conversation

    async def job() -> None:
        screen.notify("compacting…", timeout=3)
        try:
            done = await compact_conversation(screen.app.engine, conversation, args or None)
        except AgentchatError as exc:
            notify_error(screen, exc, timeout=10)
            return
        screen.open_conversation(conversation, screen.agent, done.leaf_id)
        screen.notify(
            f"{done.turns} turn(s) summarised: {done.tokens_before:,} → {done.tokens_after:,} tokens",
            title="Compacted",
            timeout=6,
        )

    screen.turns.run_job(job)


def cost(screen: MainScreen, args: str) -> None:
    from agentchat.tui.format import running_cost

    boxes = [box.message for box in screen.view.boxes() if box.message.id is not None]
    if not boxes:
        screen.notify("nothing spent here yet", timeout=3)
        return
    thread = screen.app.store.thread(boxes[-1].id or 0)
    replies = [m for m in thread if m.role == "assistant"]
    tokens_in = sum(m.usage.input_tokens or 0 for m in replies)
    tokens_out = sum(m.usage.output_tokens or 0 for m in replies)
    spent = running_cost(thread) or "no known price"
    screen.notify(
        f"{spent} · {tokens_in:,}→{tokens_out:,} tokens over {len(replies)} "
        f"{'reply' if len(replies) == 1 else 'replies'}",
        title="This branch",
    )


def export(screen: MainScreen, args: str) -> None:
    """`/export [md|json] [PATH]`: the branch on screen as Markdown (or the whole conversation as
    JSON, as `history export` writes them), to PATH or conversation-ID.md in the workspace."""
    from agentchat.core.export import to_json, to_markdown

    conversation = screen.conversation_id
    if conversation is None:
        screen.notify("nothing to export yet", severity="warning", timeout=3)
        return
    words = args.split(maxsplit=1)
    fmt = words.pop(0) if words and words[0] in ("md", "json") else "md"
    store = screen.app.store
    info = store.conversation(conversation)
    if info is None:
        return
    target = Path(words[0]).expanduser() if words else Path(f"conversation-{conversation}.{fmt}")
    target = screen.app.workspace / target
    if fmt == "json":
        text = to_json(info, store.all_messages(conversation))
    else:
        stored = [box.message.id for box in screen.view.boxes() if box.message.id is not None]
        thread = store.thread(stored[-1]) if stored else []
        text = to_markdown(info.title or f"conversation {conversation}", thread, info.system)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        screen.notify(f"cannot write {target}: {exc.strerror}", severity="error", timeout=8)
        return
    screen.notify(f"exported to {target}", timeout=5)


def copy_reply(screen: MainScreen, args: str) -> None:
    screen.action_copy_reply()


def tools(screen: MainScreen, args: str) -> None:
    app = screen.app
    registry = app.registry
    if registry is None or not registry.tools:
        screen.notify("no tools in this session", timeout=4)
        return
    gate = app.gate_for(screen.conversation_id, app.agent(screen.agent))
    lines = [f"{tool.name} ({gate.policies.policy(tool)})" for tool in registry.tools]
    screen.notify("\n".join(lines), title="Tools (policy)", timeout=10)


def branch(screen: MainScreen, args: str) -> None:
    """Pick one of the newest branched message's siblings (what alt+left/alt+right step through)."""
    from agentchat.core.branches import sibling_ids

    box = next((b for b in reversed(screen.view.boxes()) if b.branch is not None), None)
    if box is None or box.message.id is None:
        screen.notify("no message here has other branches", severity="warning", timeout=3)
        return
    store = screen.app.store
    ids = sibling_ids(store, box.message.id)
    labels = []
    for place, message_id in enumerate(ids, 1):
        message = store.get_message(message_id)
        first = (message.text.strip().splitlines() or ["(no text)"])[0] if message else "(gone)"
        mark = "•" if message_id == box.message.id else " "
        labels.append(f"{mark} {place}/{len(ids)}  {first[:60]}")
    here = ids.index(box.message.id)

    def picked(index: int | None) -> None:
        if index is not None and index != here:
            screen.branches.step(box, index - here, focus=False)

    screen.app.push_screen(Choice("Which branch?", labels, selected=here), picked)


def theme(screen: MainScreen, args: str) -> None:
    app = screen.app
    if not args:
        app.action_change_theme()
    elif args in app.available_themes:
        app.theme = args  # kept in the config by the app's theme watcher
    else:
        names = ", ".join(sorted(app.available_themes))
        screen.notify(f"no theme {args!r} (themes: {names})", severity="warning", timeout=8)


def show_help(screen: MainScreen, args: str) -> None:
    """Every slash command and template; picking one puts it in the prompt."""
    items = screen.slash.items()
    width = max(len(item.name) for item in items) + 2

    def picked(index: int | None) -> None:
        if index is not None:
            screen.prompt.load_text(f"/{items[index].name} ")
            screen.prompt.move_cursor(screen.prompt.document.end)

    labels = [f"/{item.name.ljust(width)}{item.help}" for item in items]
    screen.app.push_screen(Choice("Slash commands (ctrl+p lists every action, with its key)", labels), picked)


BUILTINS: dict[str, Builtin] = {
    "model": Builtin("Pick a model, or /model NAME (ctrl+l)", model),
    "provider": Builtin("Switch provider: /provider NAME, or pick one", provider),
    "agent": Builtin("New conversation with an agent: /agent NAME, or pick one", agent),
    "system": Builtin("This conversation's system prompt: /system TEXT, or edit it", system),
    "new": Builtin("New conversation (ctrl+n)", new),
    "compact": Builtin("Summarise this branch into a new one: /compact [FOCUS]", compact),
    "cost": Builtin("What this branch has cost so far", cost),
    "export": Builtin("Save this conversation: /export [md|json] [PATH]", export),
    "copy": Builtin("Copy the last reply (f5)", copy_reply),
    "tools": Builtin("The tools offered here, with their policies", tools),
    "branch": Builtin("Go to another branch here (alt+left / alt+right)", branch),
    "theme": Builtin("Change the theme: /theme NAME, or pick one (saved in the config)", theme),
    "help": Builtin("Slash commands and templates", show_help),
}
