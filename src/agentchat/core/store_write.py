"""Inserting a conversation or a message inside a write transaction the caller holds: one place for
`Store` (a transaction per message) and `history import` (one transaction for a whole import, so a
bad record leaves nothing half-imported)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from agentchat.core.blobs import put_attachments
from agentchat.core.errors import StoreError
from agentchat.core.liveness import current_owner
from agentchat.core.messages import Message
from agentchat.core.store_rows import UPDATABLE, UPDATABLE_FIELDS, search_text, updatable_values
from agentchat.core.store_sql import rowid


def insert_conversation(
    conn: sqlite3.Connection,
    *,
    title: str | None,
    agent: str | None,
    system: str | None,
    created_at: float,
    updated_at: float,
) -> int:
    cur = conn.execute(
        "INSERT INTO conversations (title, agent, system, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
        (title, agent, system, created_at, updated_at),
    )
    return rowid(cur)


def insert_message(
    conn: sqlite3.Connection, path: Path, conversation_id: int, message: Message, now: float
) -> int:
    """Insert as a child of `message.parent_id`, created at `now`; the conversation is marked used then.
    The caller sets `message.id` once its transaction has committed."""
    depth = 0
    if message.parent_id is not None:
        parent = conn.execute(
            "SELECT conversation_id, depth FROM messages WHERE id = ?", (message.parent_id,)
        ).fetchone()
        if parent is None:
            raise StoreError(f"message {message.parent_id} no longer exists in {path}")
        if parent[0] != conversation_id:
            raise ValueError(
                f"parent message {message.parent_id} belongs to conversation {parent[0]}, "
                f"not {conversation_id}"
            )
        depth = parent[1] + 1
    cur = conn.execute(
        "UPDATE conversations SET updated_at = ?, message_count = message_count + 1 WHERE id = ?",
        (now, conversation_id),
    )
    if cur.rowcount == 0:
        raise StoreError(f"conversation {conversation_id} no longer exists in {path}")
    owner = current_owner() if message.status == "streaming" else None
    cur = conn.execute(
        f"INSERT INTO messages (conversation_id, parent_id, depth, role, created_at, owner, {UPDATABLE}) "
        f"VALUES (?, ?, ?, ?, ?, ?, {', '.join('?' * len(UPDATABLE_FIELDS))})",
        (conversation_id, message.parent_id, depth, message.role, now, owner, *updatable_values(message)),
    )
    message_id = rowid(cur)
    conn.execute("INSERT INTO message_fts (rowid, text) VALUES (?, ?)", (message_id, search_text(message)))
    put_attachments(conn, path, message_id, message.attachments, now)
    return message_id
