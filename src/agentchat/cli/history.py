"""`agentchat history`: list, show, search, export and remove stored conversations.

Titles and messages are a model's or a user's text. The listings (list, search) are for people and
always `clean`; a whole conversation (show, export) is exact in a pipe and `clean` on a terminal,
except JSON, which escapes what a terminal would obey and so stays exact everywhere.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer

from agentchat.cli.common import at_least, err, guarded, open_store
from agentchat.cli.output import for_stdout, inert_json
from agentchat.core.errors import UsageError
from agentchat.core.text import clean

if TYPE_CHECKING:
    from agentchat.core.messages import Message
    from agentchat.core.store import ConversationInfo, Store

history_app = typer.Typer(help="Stored conversations.", invoke_without_command=True, no_args_is_help=False)


def register(app: typer.Typer) -> None:
    from agentchat.cli.history_import import import_command

    history_app.command("import")(import_command)
    app.add_typer(history_app, name="history")


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


@history_app.callback()
def history(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("-n", "--limit", help="How many to list.")] = 20,
) -> None:
    """List conversations, most recently used first."""
    if ctx.invoked_subcommand is None:
        _list(limit)


@guarded
def _list(limit: int) -> int:
    at_least("-n/--limit", limit, 1)
    with open_store() as store:
        for c in store.list_conversations(limit=limit):
            model = clean("/".join(filter(None, (c.provider, c.model)))) or "-"  # imported: no provider
            title = clean(c.title or "").replace("\n", " ")
            print(f"{c.id:>6}  {_when(c.updated_at)}  {c.message_count:>4} msgs  {model:<32} {title}")
    return 0


def _thread(store: Store, conversation_id: int) -> tuple[ConversationInfo, list[Message]]:
    info = store.conversation(conversation_id)
    if info is None:
        raise UsageError(f"no conversation with id {conversation_id}")
    leaf = store.leaf(conversation_id)
    return info, store.thread(leaf) if leaf is not None else []


def _markdown(info: ConversationInfo, messages: list[Message]) -> str:
    from agentchat.core.export import to_markdown

    return to_markdown(info.title or f"conversation {info.id}", messages, info.system)


@history_app.command("show")
@guarded
def show(conversation_id: Annotated[int, typer.Argument(metavar="ID")]) -> int:
    """Print a conversation (its newest branch)."""
    with open_store() as store:
        info, messages = _thread(store, conversation_id)
    print(for_stdout(_markdown(info, messages)), end="")
    return 0


@history_app.command("search")
@guarded
def search(
    text: Annotated[list[str], typer.Argument(metavar="TEXT")],
    limit: Annotated[int, typer.Option("-n", "--limit")] = 20,
) -> int:
    """Full-text search; prints each match's conversation id and a snippet."""
    at_least("-n/--limit", limit, 1)
    with open_store() as store:
        hits = store.search(" ".join(text), limit=limit)
    for hit in hits:
        snippet = " ".join(clean(hit.snippet).split())
        print(f"{hit.conversation_id:>6}  {hit.role:<9} {snippet}")
    if not hits:
        err("no matches")
    return 0


@history_app.command("export")
@guarded
def export(
    conversation_id: Annotated[int, typer.Argument(metavar="ID")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="md or json")] = "md",
) -> int:
    """Export a conversation: Markdown (newest branch) or JSON (every message and branch)."""
    from agentchat.core.export import to_json

    if fmt not in ("md", "json"):
        raise UsageError("--format must be md or json")
    with open_store() as store:
        info, messages = _thread(store, conversation_id)
        if fmt == "md":
            print(for_stdout(_markdown(info, messages)), end="")
        else:
            print(inert_json(to_json(info, store.all_messages(conversation_id))))  # exact data
    return 0


@history_app.command("rm")
@guarded
def rm(conversation_id: Annotated[int, typer.Argument(metavar="ID")]) -> int:
    """Delete a conversation and all its messages."""
    with open_store() as store:
        if not store.delete_conversation(conversation_id):
            raise UsageError(f"no conversation with id {conversation_id}")
    return 0
