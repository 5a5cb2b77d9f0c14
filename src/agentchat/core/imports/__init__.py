"""`agentchat history import`: other tools' histories become stored conversations.

Each reader (chatgpt, llm, json) turns its file into `Imported` conversations: messages in the
neutral model, each naming its parent, so a source's branches stay branches of our message tree.
`import_all` writes them in ONE transaction: a record that cannot be read fails the whole import
with its name before anything is written, and a failure while writing rolls everything back.
Every conversation is recorded with its source id (the `imports` table) and every message with
the source node(s) it came from (`import_messages`), so importing the same file again adds nothing
and a newer export adds just what is new in it (core/imports/incremental.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from agentchat.core.errors import UsageError
from agentchat.core.messages import Message

if TYPE_CHECKING:
    from agentchat.core.store import Store

SOURCES = ("chatgpt", "llm", "json")


class ImportFormatError(UsageError):
    """The input is not what its source writes; the message names the file and the record."""


@dataclass(slots=True)
class Node:
    """One message to store, under the node keyed `parent` (None: a root of the conversation)."""

    key: str
    parent: str | None
    message: Message
    created_at: float
    members: list[str] = field(default_factory=list)  # later source nodes merged into this message


@dataclass(slots=True)
class Imported:
    source_id: str
    title: str | None
    created_at: float
    nodes: list[Node] = field(default_factory=list)  # parents before their children
    system: str | None = None
    agent: str | None = None


@dataclass(slots=True)
class Summary:
    source: str
    conversations: int = 0  # new ones
    messages: int = 0  # in the new ones
    added: int = 0  # new messages in conversations imported before
    continued: int = 0  # stored messages (a ChatGPT run) that a newer export continued
    updated: int = 0  # conversations imported before that got either
    skipped: int = 0  # imported before, nothing new

    def line(self) -> str:
        text = f"imported {_count(self.conversations, 'conversation')} "
        text += f"({self.messages} messages) from {self.source}"
        if self.updated:
            news = _count(self.added, "new message")
            if self.continued:
                news += f" and {_count(self.continued, 'continued message')}"
            text += f"; {news} in {_count(self.updated, 'conversation')} imported before"
        if self.skipped:
            text += f"; {self.skipped} already imported, skipped"
        return text


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def read_source(source: str, path: Path) -> Iterator[Imported]:
    """The conversations in `path` as `source` writes them; ImportFormatError names what is wrong."""
    if source not in SOURCES:
        raise UsageError(f"unknown import source {source!r} (sources: {', '.join(SOURCES)})")
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    if source == "chatgpt":
        from agentchat.core.imports.chatgpt import read_chatgpt as reader
    elif source == "llm":
        from agentchat.core.imports.llm_logs import read_llm as reader
    else:
        from agentchat.core.imports.export_json import read_export as reader
    return reader(path)


def import_all(
    store: Store,
    source: str,
    conversations: list[Imported],
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """Store what is new in each conversation, in one transaction; `progress(n)` after each."""
    from agentchat.core.imports.incremental import write_continuation, write_nodes
    from agentchat.core.store_write import insert_conversation

    summary = Summary(source)
    now = time.time()
    with store.transaction() as conn:
        for done, conv in enumerate(conversations, 1):
            seen = conn.execute(
                "SELECT conversation_id FROM imports WHERE source = ? AND source_id = ?",
                (source, conv.source_id),
            ).fetchone()
            if seen is None and conv.nodes:
                cid = insert_conversation(
                    conn,
                    title=conv.title,
                    agent=conv.agent,
                    system=conv.system,
                    created_at=conv.created_at,
                    updated_at=conv.created_at,
                )
                conn.execute(
                    "INSERT INTO imports (source, source_id, conversation_id, imported_at) VALUES (?, ?, ?, ?)",
                    (source, conv.source_id, cid, now),
                )
                write_nodes(conn, store.path, source, conv, cid, {}, saved=True)
                summary.conversations += 1
                summary.messages += len(conv.nodes)
            elif seen is not None:
                written = write_continuation(conn, store.path, source, conv, seen[0])
                if not (written.added or written.continued):
                    summary.skipped += 1
                else:
                    summary.updated += 1
                    summary.added += written.added
                    summary.continued += written.continued
            if progress is not None:
                progress(done)
    return summary
