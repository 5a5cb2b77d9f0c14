"""Attachments' bytes in the history database: stored once per content hash, referenced by every
message that carries them, read back when a request or an export needs them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from agentchat.core.errors import StoreError
from agentchat.core.messages import AttachmentPart, Message
from agentchat.core.text import encodable


def put_attachments(
    conn: sqlite3.Connection, database: Path, message_id: int, parts: list[AttachmentPart], now: float
) -> None:
    """Each attachment's bytes once per hash, in the message's own transaction: a blob is never
    stored without the message that uses it (nothing to clean up after a failed turn), and a
    concurrent delete cannot take a blob between its write and its first reference."""
    for part in parts:
        if part.data is not None:
            conn.execute(
                "INSERT OR IGNORE INTO blobs (hash, media_type, size, data, text, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (part.hash, part.media_type, len(part.data), part.data, None, now),
            )
        if part.extracted is not None:
            conn.execute(
                "UPDATE blobs SET text = ? WHERE hash = ? AND text IS NULL",
                (encodable(part.extracted), part.hash),
            )
        if conn.execute("SELECT 1 FROM blobs WHERE hash = ?", (part.hash,)).fetchone() is None:
            raise StoreError(f"attachment {part.name}: its content is not in {database}")
        conn.execute("INSERT INTO attachment_refs (message_id, hash) VALUES (?, ?)", (message_id, part.hash))


def fill_attachments(conn: sqlite3.Connection, messages: list[Message]) -> None:
    """Set `data` (and a PDF's extracted text) on every attachment of `messages` that lacks it."""
    wanted: dict[str, list[AttachmentPart]] = {}
    for message in messages:
        for part in message.attachments:
            if part.data is None:
                wanted.setdefault(part.hash, []).append(part)
    hashes = list(wanted)
    for start in range(0, len(hashes), 500):  # SQLite's limit on bound parameters
        chunk = hashes[start : start + 500]
        rows = conn.execute(
            f"SELECT hash, data, text FROM blobs WHERE hash IN ({', '.join('?' * len(chunk))})", chunk
        )
        for digest, data, text in rows:
            for part in wanted[digest]:
                part.data, part.extracted = bytes(data), text
