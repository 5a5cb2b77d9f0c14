"""The history database's schema, as forward migrations; `PRAGMA user_version` counts those applied."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from agentchat.core.errors import StoreError
from agentchat.core.store_sql import immediate

# MIGRATIONS[n] upgrades a database from schema version n to n + 1; never edit a released entry.
MIGRATIONS: list[tuple[str, ...]] = [
    (
        """CREATE TABLE conversations (
            id INTEGER PRIMARY KEY,
            title TEXT,
            agent TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            message_count INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX conversations_updated ON conversations(updated_at)",
        "CREATE INDEX conversations_agent ON conversations(agent, updated_at)",
        """CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            parent_id INTEGER REFERENCES messages(id) ON DELETE CASCADE,
            depth INTEGER NOT NULL,
            role TEXT NOT NULL,
            parts TEXT NOT NULL,
            provider TEXT,
            model TEXT,
            status TEXT NOT NULL,
            finish_reason TEXT,
            error TEXT,
            input_tokens INTEGER,
            output_tokens INTEGER,
            cached_tokens INTEGER,
            reasoning_tokens INTEGER,
            cost REAL,
            ttft_s REAL,
            total_s REAL,
            created_at REAL NOT NULL
        )""",
        "CREATE INDEX messages_conversation ON messages(conversation_id, created_at)",
        "CREATE INDEX messages_parent ON messages(parent_id)",
        "CREATE INDEX messages_assistant ON messages(created_at) WHERE role = 'assistant'",
        "CREATE VIRTUAL TABLE message_fts USING fts5(text, tokenize = 'unicode61 remove_diacritics 2')",
    ),
    # The conversation's system prompt: every later turn sends it, whichever face or provider.
    ("ALTER TABLE conversations ADD COLUMN system TEXT",),
    # Who streams a reply (core/liveness.py), so a later process can tell a dead stream from a live one.
    (
        "ALTER TABLE messages ADD COLUMN owner TEXT",
        "CREATE INDEX messages_streaming ON messages(id) WHERE status = 'streaming'",
    ),
    # Limits that hold across every agentchat process of the user (core/ledger.py).
    (
        "CREATE TABLE rate_slots (provider TEXT NOT NULL, start REAL NOT NULL, tokens INTEGER NOT NULL)",
        "CREATE INDEX rate_slots_provider ON rate_slots(provider, start)",
        "CREATE TABLE rate_blocks (provider TEXT PRIMARY KEY, until REAL NOT NULL)",
        "CREATE TABLE budget_holds (id INTEGER PRIMARY KEY, owner TEXT, amount REAL NOT NULL, created_at REAL NOT NULL)",
    ),
    # Attachments' bytes, once per content hash (an AttachmentPart names its blob); `text` is a PDF's
    # extracted text, kept once extracted. attachment_refs says which messages use a blob, so
    # deleting the last conversation that used one deletes its bytes too.
    (
        """CREATE TABLE blobs (
            hash TEXT PRIMARY KEY,
            media_type TEXT NOT NULL,
            size INTEGER NOT NULL,
            data BLOB NOT NULL,
            text TEXT,
            created_at REAL NOT NULL
        )""",
        """CREATE TABLE attachment_refs (
            message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            hash TEXT NOT NULL
        )""",
        "CREATE INDEX attachment_refs_hash ON attachment_refs(hash)",
        "CREATE INDEX attachment_refs_message ON attachment_refs(message_id)",
    ),
    # `ask --schema`: the JSON Schema a message was asked to follow (core/structured.py); and which
    # conversations `history import` brought in, by source and source id, so a second import adds
    # nothing (core/imports/).
    (
        "ALTER TABLE messages ADD COLUMN response_schema TEXT",
        """CREATE TABLE imports (
            source TEXT NOT NULL,
            source_id TEXT NOT NULL,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            imported_at REAL NOT NULL,
            PRIMARY KEY (source, source_id)
        )""",
    ),
    # `agentchat serve`: which conversation a gateway client's requests go to, by the name the
    # client gives (a header or `user`) or, unnamed, by its history's opening (gateway/threads.py).
    (
        """CREATE TABLE gateway_threads (
            key TEXT PRIMARY KEY,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE
        )""",
    ),
    # Prompt caching (core/caching.py): a reply's cache writes beside its reads (cached_tokens), and
    # what the cache saved on it at the prices of the day, summed by `agentchat stats`.
    (
        "ALTER TABLE messages ADD COLUMN cache_write_tokens INTEGER",
        "ALTER TABLE messages ADD COLUMN saved_usd REAL",
    ),
    # `history import` again from a newer export: which source node each imported message came from
    # (every node of a merged ChatGPT run names its message), so only the nodes not recorded are
    # added, under their recorded parents (core/imports/incremental.py).
    (
        """CREATE TABLE import_messages (
            source TEXT NOT NULL,
            source_id TEXT NOT NULL,
            node_key TEXT NOT NULL,
            message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            PRIMARY KEY (source, source_id, node_key)
        )""",
        "CREATE INDEX import_messages_message ON import_messages(message_id)",
    ),
]


def migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Pragmas and forward migrations; an up-to-date database costs four cheap statements."""
    _use_wal(conn)
    conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across process crashes
    conn.execute("PRAGMA foreign_keys=ON")
    if _version(conn, path) == len(MIGRATIONS):
        return
    with immediate(conn):
        version = _version(conn, path)  # another process may have migrated while we waited
        for step in MIGRATIONS[version:]:
            for statement in step:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version={len(MIGRATIONS)}")


def _version(conn: sqlite3.Connection, path: Path) -> int:
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise StoreError(
            f"history database {path} was written by a newer agentchat "
            f"(schema {version}, this version knows {len(MIGRATIONS)}); upgrade agentchat"
        )
    return version


def _use_wal(conn: sqlite3.Connection, tries: int = 100) -> None:
    """WAL mode, set once per database file. Setting it takes an exclusive lock and SQLite does not
    wait on the busy timeout for it: several processes opening a new history at the same moment
    (a pipeline of `ask`) would see "database is locked", so the change is retried briefly."""
    for attempt in range(tries):
        try:
            if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if attempt == tries - 1 or not ("locked" in str(exc) or "busy" in str(exc)):
                raise
            time.sleep(0.02)
