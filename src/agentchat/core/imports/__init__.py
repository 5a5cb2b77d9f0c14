"""`agentchat history import`: other tools' histories become stored conversations.

Each reader (chatgpt, llm, json) turns its file into `Imported` conversations: messages in the
neutral model, each naming its parent, so a source's branches stay branches of our message tree.
`import_all` writes them in ONE transaction: a record that cannot be read fails the whole import
with its name before anything is written, and a failure while writing rolls everything back.
Every conversation is recorded with its source id (the `imports` table), so importing the same
file again adds nothing.
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
    conversations: int = 0
    messages: int = 0
    skipped: int = 0  # already imported earlier

    def line(self) -> str:
        text = f"imported {self.conversations} conversation{'s' if self.conversations != 1 else ''} "
        text += f"({self.messages} messages) from {self.source}"
        if self.skipped:
            text += f"; {self.skipped} already imported, skipped"
        return text


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
    """Store every conversation not imported before, in one transaction; `progress(n)` after each."""
    from agentchat.core.store_write import insert_conversation, insert_message

    summary = Summary(source)
    now = time.time()
    with store.transaction() as conn:
        for done, conv in enumerate(conversations, 1):
            seen = conn.execute(
                "SELECT 1 FROM imports WHERE source = ? AND source_id = ?", (source, conv.source_id)
            ).fetchone()
            if seen is not None or not conv.nodes:
                summary.skipped += seen is not None
            else:
                cid = insert_conversation(
                    conn,
                    title=conv.title,
                    agent=conv.agent,
                    system=conv.system,
                    created_at=conv.created_at,
                    updated_at=conv.created_at,
                )
                ids: dict[str, int] = {}
                for node in conv.nodes:
                    if node.parent is not None and node.parent not in ids:
                        raise ImportFormatError(
                            f"{source} conversation {conv.source_id}: message {node.key} names a parent "
                            f"({node.parent}) that is not before it in the file"
                        )
                    node.message.parent_id = None if node.parent is None else ids[node.parent]
                    ids[node.key] = insert_message(conn, store.path, cid, node.message, node.created_at)
                latest = max(n.created_at for n in conv.nodes)
                conn.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (latest, cid))
                conn.execute(
                    "INSERT INTO imports (source, source_id, conversation_id, imported_at) VALUES (?, ?, ?, ?)",
                    (source, conv.source_id, cid, now),
                )
                summary.conversations += 1
                summary.messages += len(conv.nodes)
            if progress is not None:
                progress(done)
    return summary
