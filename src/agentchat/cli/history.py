"""`agentchat history`: list, show, search, export and remove stored conversations.

Titles and messages are a model's or a user's text. The listings (list, search) are for people and
always `clean`; a whole conversation (show, export) is exact in a pipe and `clean` on a terminal,
except JSON, which escapes what a terminal would obey and so stays exact everywhere.
"""

from __future__ import annotations

import time
from typing import Annotated

import typer

from agentchat.cli.common import err, open_store, run_guarded
from agentchat.cli.output import for_stdout, inert_json
from agentchat.core.errors import UsageError
from agentchat.core.text import clean

history_app = typer.Typer(help="Stored conversations.", invoke_without_command=True, no_args_is_help=False)


def register(app: typer.Typer) -> None:
    app.add_typer(history_app, name="history")


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


@history_app.callback()
def history(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("-n", "--limit", help="How many to list.")] = 20,
) -> None:
    """List conversations, most recently used first."""
    if ctx.invoked_subcommand is not None:
        return

    def body() -> int:
        store = open_store()
        try:
            for c in store.list_conversations(limit=limit):
                model = clean(f"{c.provider}/{c.model}") if c.model else "-"
                title = clean(c.title or "").replace("\n", " ")
                print(f"{c.id:>6}  {_when(c.updated_at)}  {c.message_count:>4} msgs  {model:<32} {title}")
        finally:
            store.close()
        return 0

    raise typer.Exit(run_guarded(body))


def _thread(store: object, conversation_id: int) -> tuple[object, list]:
    from agentchat.core.store import Store

    assert isinstance(store, Store)
    info = store.conversation(conversation_id)
    if info is None:
        raise UsageError(f"no conversation with id {conversation_id}")
    leaf = store.leaf(conversation_id)
    return info, store.thread(leaf) if leaf is not None else []


@history_app.command("show")
def show(conversation_id: Annotated[int, typer.Argument(metavar="ID")]) -> None:
    """Print a conversation (its newest branch)."""

    def body() -> int:
        from agentchat.core.export import to_markdown

        store = open_store()
        try:
            info, messages = _thread(store, conversation_id)
            markdown = to_markdown(info.title or f"conversation {info.id}", messages, info.system)  # type: ignore[attr-defined]
            print(for_stdout(markdown), end="")
        finally:
            store.close()
        return 0

    raise typer.Exit(run_guarded(body))


@history_app.command("search")
def search(
    text: Annotated[list[str], typer.Argument(metavar="TEXT")],
    limit: Annotated[int, typer.Option("-n", "--limit")] = 20,
) -> None:
    """Full-text search; prints each match's conversation id and a snippet."""

    def body() -> int:
        store = open_store()
        try:
            hits = store.search(" ".join(text), limit=limit)
            for hit in hits:
                snippet = " ".join(clean(hit.snippet).split())
                print(f"{hit.conversation_id:>6}  {hit.role:<9} {snippet}")
            if not hits:
                err("no matches")
        finally:
            store.close()
        return 0

    raise typer.Exit(run_guarded(body))


@history_app.command("export")
def export(
    conversation_id: Annotated[int, typer.Argument(metavar="ID")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="md or json")] = "md",
) -> None:
    """Export a conversation: Markdown (newest branch) or JSON (every message and branch)."""

    def body() -> int:
        from agentchat.core.export import to_json, to_markdown

        if fmt not in ("md", "json"):
            raise UsageError("--format must be md or json")
        store = open_store()
        try:
            info, messages = _thread(store, conversation_id)
            if fmt == "md":
                title = info.title or f"conversation {info.id}"  # type: ignore[attr-defined]
                print(for_stdout(to_markdown(title, messages, info.system)), end="")  # type: ignore[attr-defined]
            else:
                print(inert_json(to_json(info, store.all_messages(conversation_id))))  # exact data
        finally:
            store.close()
        return 0

    raise typer.Exit(run_guarded(body))


@history_app.command("rm")
def rm(conversation_id: Annotated[int, typer.Argument(metavar="ID")]) -> None:
    """Delete a conversation and all its messages."""

    def body() -> int:
        store = open_store()
        try:
            if not store.delete_conversation(conversation_id):
                raise UsageError(f"no conversation with id {conversation_id}")
        finally:
            store.close()
        return 0

    raise typer.Exit(run_guarded(body))
