"""SQLite history: conversations as message trees, incremental persistence, FTS5 search.

Several processes (parallel `agentchat ask`, two TUIs) write one file at once, so every write is a
single short `BEGIN IMMEDIATE` transaction in WAL mode and waits on the busy timeout instead of
failing. Every SQLite failure leaves here as a one-line StoreError naming the file.
"""

from __future__ import annotations

import enum
import json
import os
import re
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentchat.config import data_dir
from agentchat.core.errors import StoreError
from agentchat.core.liveness import current_owner
from agentchat.core.messages import (
    AttachmentPart,
    Message,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    Usage,
    part_from_dict,
    part_to_dict,
)
from agentchat.core.text import encodable

# Markers around the matched terms in SearchHit.snippet; rare in real text so a face can style them.
MATCH_OPEN = "«"
MATCH_CLOSE = "»"
TITLE_CHARS = 60


class AnyAgent(enum.Enum):
    """`list_conversations(agent=...)` default; None there means "stored without an agent"."""

    ANY = "any"


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
]


class MessageGone(StoreError):
    """The message was deleted (with its conversation) while it was being written."""


@dataclass(slots=True)
class ConversationInfo:
    id: int
    title: str | None
    agent: str | None
    created_at: float
    updated_at: float
    message_count: int
    provider: str | None  # of the last assistant message
    model: str | None
    system: str | None = None  # the system prompt every turn sends


@dataclass(slots=True)
class SearchHit:
    conversation_id: int
    message_id: int
    title: str | None
    role: str
    snippet: str


@dataclass(slots=True)
class AssistantRecord:
    """One row per assistant message, for usage statistics."""

    message_id: int
    conversation_id: int
    created_at: float
    provider: str | None
    model: str | None
    status: str
    finish_reason: str | None
    input_tokens: int | None
    output_tokens: int | None
    cached_tokens: int | None
    reasoning_tokens: int | None
    cost: float | None
    ttft_s: float | None
    total_s: float | None
    error: str | None


_MESSAGE_COLUMNS = (
    "id, conversation_id, parent_id, role, parts, provider, model, status, finish_reason, error, "
    "input_tokens, output_tokens, cached_tokens, reasoning_tokens, cost, ttft_s, total_s, created_at"
)
# The stored title, and for untitled conversations the start of the first user message (derived, not stored).
_TITLE_COLUMNS = """c.title, CASE WHEN c.title IS NULL THEN (
    SELECT substr(json_extract(f.parts, '$[0].text'), 1, 200) FROM messages f
    WHERE f.conversation_id = c.id AND f.role = 'user' ORDER BY f.created_at, f.id LIMIT 1) END"""
_INFO_SELECT = f"""SELECT c.id, {_TITLE_COLUMNS}, c.agent, c.created_at, c.updated_at, c.message_count,
    a.provider, a.model, c.system
FROM conversations c LEFT JOIN messages a ON a.id = (
    SELECT l.id FROM messages l WHERE l.conversation_id = c.id AND l.role = 'assistant'
    ORDER BY l.created_at DESC, l.id DESC LIMIT 1)"""


class Store:
    """The history database. Thread-safe (one connection behind a lock) and multi-process safe."""

    def __init__(
        self,
        path: Path,
        *,
        timeout_s: float = 30.0,
        clock: Callable[[], float] = time.time,
        maintain: bool = True,
    ) -> None:
        """`maintain`: on opening, store replies kept in recovery files and mark replies whose
        streaming process died as interrupted (see `recover`)."""
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():
                # Conversations are private: create the file owner-only (SQLite copies the mode to -wal/-shm).
                os.close(os.open(self.path, os.O_RDONLY | os.O_CREAT, 0o600))
        except OSError as exc:
            raise StoreError(f"cannot create history database {self.path}: {exc.strerror}") from None
        with self._errors():
            self._conn = sqlite3.connect(
                self.path, timeout=timeout_s, isolation_level=None, check_same_thread=False
            )
            try:
                self._open()
            except BaseException:
                self._conn.close()
                raise
        if maintain and str(self.path) != ":memory:":
            self.recover()

    def recover(self) -> None:
        """Import replies that a process could not store (recovery files), then mark streams whose
        owner is gone as interrupted: they are resumable (`ask -c --resume`), never left `streaming`.
        Best effort: a locked database leaves both for the next process."""
        from agentchat.core.recovery import import_recovered

        try:
            import_recovered(self)
            self.reap_dead_streams()
        except StoreError:
            pass

    def reap_dead_streams(self) -> list[int]:
        """Mark `streaming` replies whose process is gone as interrupted; their ids."""
        from agentchat.core.liveness import owner_alive

        with self._read() as conn:
            rows = conn.execute("SELECT id, owner FROM messages WHERE status = 'streaming'").fetchall()
        dead = [(mid, owner) for mid, owner in rows if not owner_alive(owner)]
        if not dead:
            return []
        with self._write() as conn:
            for mid, owner in dead:
                conn.execute(
                    "UPDATE messages SET status = 'interrupted', error = ? "
                    "WHERE id = ? AND status = 'streaming' AND owner IS ?",
                    ("the process streaming this reply ended before it finished", mid, owner),
                )
        return [mid for mid, _ in dead]

    @classmethod
    def open_default(cls) -> Store:
        try:
            directory = data_dir()
        except OSError as exc:
            raise StoreError(f"cannot create the data directory: {exc}") from None
        return cls(directory / "history.db")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- connection plumbing ---------------------------------------------------------------------
    def _open(self) -> None:
        """Pragmas and migrations; an up-to-date database costs four cheap statements."""
        conn = self._conn
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across process crashes
        conn.execute("PRAGMA foreign_keys=ON")
        if self._check_version() == len(MIGRATIONS):
            return
        with _immediate(conn):
            version = self._check_version()  # another process may have migrated while we waited
            for step in MIGRATIONS[version:]:
                for statement in step:
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version={len(MIGRATIONS)}")

    def _check_version(self) -> int:
        version: int = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise StoreError(
                f"history database {self.path} was written by a newer agentchat "
                f"(schema {version}, this version knows {len(MIGRATIONS)}); upgrade agentchat"
            )
        return version

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.ProgrammingError:
            raise  # misuse (closed store, bad parameters) is a bug, not a user-facing condition
        except sqlite3.Error as exc:
            raise _store_error(exc, self.path) from None

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._errors():
            yield self._conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A short write transaction for state kept beside the history (core/ledger.py): the read
        and the write inside it see no other process in between."""
        with self._write() as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short IMMEDIATE transaction: takes the write lock up front, so it never deadlocks."""
        with self._lock, self._errors(), _immediate(self._conn):
            yield self._conn

    # --- conversations ---------------------------------------------------------------------------
    def create_conversation(
        self, *, title: str | None = None, agent: str | None = None, system: str | None = None
    ) -> int:
        now = self._clock()
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO conversations (title, agent, system, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                (title, agent, system, now, now),
            )
        return _rowid(cur)

    def set_system(self, conversation_id: int, system: str | None) -> None:
        """Replace the conversation's system prompt: turns from now on send this one."""
        with self._write() as conn:
            conn.execute("UPDATE conversations SET system = ? WHERE id = ?", (system, conversation_id))

    def conversation(self, conversation_id: int) -> ConversationInfo | None:
        with self._read() as conn:
            row = conn.execute(f"{_INFO_SELECT} WHERE c.id = ?", (conversation_id,)).fetchone()
        return _info(row) if row else None

    def list_conversations(
        self, *, limit: int = 50, offset: int = 0, agent: str | AnyAgent | None = AnyAgent.ANY
    ) -> list[ConversationInfo]:
        """Most recently used first; counts come from a column, so this never scans messages.
        `agent=None` keeps the default agent's conversations (stored without an agent name)."""
        # `IS` matches NULL too, and still uses the (agent, updated_at) index.
        where, params = ("", ()) if agent is AnyAgent.ANY else ("WHERE c.agent IS ?", (agent,))
        with self._read() as conn:
            rows = conn.execute(
                f"{_INFO_SELECT} {where} ORDER BY c.updated_at DESC, c.id DESC LIMIT ? OFFSET ?",
                (*params, limit, offset),
            ).fetchall()
        return [_info(row) for row in rows]

    def most_recent_conversation(self) -> int | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT id FROM conversations ORDER BY updated_at DESC, id DESC LIMIT 1"
            ).fetchone()
        return row[0] if row else None

    def rename_conversation(self, conversation_id: int, title: str) -> None:
        with self._write() as conn:
            conn.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id))

    def delete_conversation(self, conversation_id: int) -> bool:
        """Delete it with its messages, and the attachments' bytes no other conversation uses."""
        with self._write() as conn:
            hashes = [
                row[0]
                for row in conn.execute(
                    "SELECT DISTINCT r.hash FROM attachment_refs r JOIN messages m ON m.id = r.message_id "
                    "WHERE m.conversation_id = ?",
                    (conversation_id,),
                )
            ]
            conn.execute(
                "DELETE FROM message_fts WHERE rowid IN (SELECT id FROM messages WHERE conversation_id = ?)",
                (conversation_id,),
            )
            cur = conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
            conn.executemany(
                "DELETE FROM blobs WHERE hash = ? AND NOT EXISTS (SELECT 1 FROM attachment_refs WHERE hash = ?)",
                [(h, h) for h in hashes],
            )
        return cur.rowcount > 0

    # --- messages --------------------------------------------------------------------------------
    def add_message(self, conversation_id: int, message: Message) -> int:
        """Insert as a child of `message.parent_id` and mark the conversation as just used."""
        now = self._clock()  # always now: a copied Message must not carry its original's time
        with self._write() as conn:
            depth = 0
            if message.parent_id is not None:
                parent = conn.execute(
                    "SELECT conversation_id, depth FROM messages WHERE id = ?", (message.parent_id,)
                ).fetchone()
                if parent is None:
                    raise StoreError(f"message {message.parent_id} no longer exists in {self.path}")
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
                raise StoreError(f"conversation {conversation_id} no longer exists in {self.path}")
            owner = current_owner() if message.status == "streaming" else None
            cur = conn.execute(
                f"INSERT INTO messages (conversation_id, parent_id, depth, role, created_at, owner, {_UPDATABLE}) "
                f"VALUES (?, ?, ?, ?, ?, ?, {', '.join('?' * len(_UPDATABLE_FIELDS))})",
                (
                    conversation_id,
                    message.parent_id,
                    depth,
                    message.role,
                    now,
                    owner,
                    *_updatable_values(message),
                ),
            )
            message_id = _rowid(cur)
            conn.execute(
                "INSERT INTO message_fts (rowid, text) VALUES (?, ?)", (message_id, _search_text(message))
            )
            self._put_attachments(conn, message_id, message.attachments, now)
        message.id, message.conversation_id, message.created_at = message_id, conversation_id, now
        return message_id

    def _put_attachments(
        self, conn: sqlite3.Connection, message_id: int, parts: list[AttachmentPart], now: float
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
                raise StoreError(f"attachment {part.name}: its content is not in {self.path}")
            conn.execute(
                "INSERT INTO attachment_refs (message_id, hash) VALUES (?, ?)", (message_id, part.hash)
            )

    def load_attachments(self, messages: list[Message]) -> None:
        """Fill each attachment's `data` (and a PDF's extracted text) from the blob table, for a
        request or an export; a blob that is missing leaves `data` None (the request says so)."""
        wanted: dict[str, list[AttachmentPart]] = {}
        for message in messages:
            for part in message.attachments:
                if part.data is None:
                    wanted.setdefault(part.hash, []).append(part)
        hashes = list(wanted)
        with self._read() as conn:
            for start in range(0, len(hashes), 500):
                chunk = hashes[start : start + 500]
                rows = conn.execute(
                    f"SELECT hash, data, text FROM blobs WHERE hash IN ({', '.join('?' * len(chunk))})", chunk
                )
                for digest, data, text in rows:
                    for part in wanted[digest]:
                        part.data, part.extracted = bytes(data), text

    def set_extracted_text(self, digest: str, text: str) -> None:
        """Keep a PDF's extracted text beside its bytes, so it is extracted once."""
        with self._write() as conn:
            conn.execute("UPDATE blobs SET text = ? WHERE hash = ?", (encodable(text), digest))

    def update_message(self, message: Message) -> None:
        """Rewrite content and metadata (a streaming reply goes through `write_snapshot` instead)."""
        self.write_snapshot(snapshot(message))

    def write_snapshot(self, snap: Snapshot) -> None:
        """Store a message's content and metadata as `snapshot` captured them."""
        assignments = ", ".join(f"{name} = ?" for name in _UPDATABLE_FIELDS)
        with self._write() as conn:
            cur = conn.execute(
                f"UPDATE messages SET {assignments} WHERE id = ?", (*snap.values, snap.message_id)
            )
            if cur.rowcount == 0:
                raise MessageGone(f"message {snap.message_id} no longer exists in {self.path}")
            conn.execute(
                "UPDATE message_fts SET text = ? WHERE rowid = ?", (snap.search_text, snap.message_id)
            )

    def get_message(self, message_id: int) -> Message | None:
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,)
            ).fetchone()
        return _message(row) if row else None

    def thread(self, leaf_id: int, *, limit: int | None = None, tools_only: bool = False) -> list[Message]:
        """Root..leaf along parent_id; with `limit`, walks only that many steps up from the leaf;
        `tools_only` keeps the messages that hold tool calls or results (the TUI's tool pane)."""
        steps = sys.maxsize if limit is None else limit
        having_tools = (
            """WHERE role IN ('assistant', 'tool') AND EXISTS (SELECT 1 FROM json_each(parts)
                WHERE json_extract(value, '$.type') IN ('tool_call', 'tool_result'))"""
            if tools_only
            else ""
        )
        with self._read() as conn:
            rows = conn.execute(
                f"""WITH RECURSIVE chain(node, up) AS (
                    SELECT id, 0 FROM messages WHERE id = :leaf AND :steps > 0
                    UNION ALL
                    SELECT parent_id, up + 1 FROM chain JOIN messages ON id = node
                    WHERE parent_id IS NOT NULL AND up + 1 < :steps)
                SELECT {_MESSAGE_COLUMNS} FROM chain JOIN messages ON id = node {having_tools}
                ORDER BY up DESC""",
                {"leaf": leaf_id, "steps": steps},
            ).fetchall()
        return [_message(row) for row in rows]

    def thread_length(self, leaf_id: int) -> int:
        with self._read() as conn:
            row = conn.execute("SELECT depth + 1 FROM messages WHERE id = ?", (leaf_id,)).fetchone()
        return row[0] if row else 0

    def leaf(self, conversation_id: int) -> int | None:
        """The newest message: edits and regenerations add messages, so it is the active branch's tip."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT id FROM messages WHERE conversation_id = ? ORDER BY created_at DESC, id DESC LIMIT 1",
                (conversation_id,),
            ).fetchone()
        return row[0] if row else None

    def branch_leaf(self, message_id: int) -> int:
        """The tip of the newest branch below `message_id` (itself if nothing follows it), so a
        search hit on an older branch opens that branch, not the conversation's newest one."""
        with self._read() as conn:
            row = conn.execute(
                """WITH RECURSIVE down(node, depth) AS (
                    SELECT id, depth FROM messages WHERE id = ?
                    UNION ALL
                    SELECT c.id, c.depth FROM down JOIN messages c ON c.id = (
                        SELECT n.id FROM messages n WHERE n.parent_id = down.node
                        ORDER BY n.created_at DESC, n.id DESC LIMIT 1))
                SELECT node FROM down ORDER BY depth DESC LIMIT 1""",
                (message_id,),
            ).fetchone()
        if row is None:
            raise StoreError(f"message {message_id} no longer exists in {self.path}")
        leaf: int = row[0]
        return leaf

    def all_messages(self, conversation_id: int) -> list[Message]:
        """Every message of every branch, oldest first, attachments' bytes included (lossless export)."""
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY created_at, id",
                (conversation_id,),
            ).fetchall()
        messages = [_message(row) for row in rows]
        self.load_attachments(messages)
        return messages

    # --- search and statistics -------------------------------------------------------------------
    def search(self, query: str, *, limit: int = 20) -> list[SearchHit]:
        """Best matches first. Every word is quoted, so FTS syntax in user text is taken literally."""
        match = _fts_query(query)
        if match is None:
            return []
        with self._read() as conn:
            rows = conn.execute(
                f"""SELECT m.conversation_id, m.id, {_TITLE_COLUMNS}, m.role,
                    snippet(message_fts, 0, ?, ?, '…', 16)
                FROM message_fts JOIN messages m ON m.id = message_fts.rowid
                JOIN conversations c ON c.id = m.conversation_id
                WHERE message_fts MATCH ? ORDER BY rank LIMIT ?""",
                (MATCH_OPEN, MATCH_CLOSE, match, limit),
            ).fetchall()
        return [
            SearchHit(cid, mid, _title(title, first), role, snip)
            for cid, mid, title, first, role, snip in rows
        ]

    def assistant_records(self, *, since: float | None = None) -> list[AssistantRecord]:
        with self._read() as conn:
            rows = conn.execute(
                """SELECT id, conversation_id, created_at, provider, model, status, finish_reason,
                    input_tokens, output_tokens, cached_tokens, reasoning_tokens, cost, ttft_s, total_s, error
                FROM messages WHERE role = 'assistant' AND created_at >= ? ORDER BY created_at, id""",
                (since if since is not None else float("-inf"),),
            ).fetchall()
        return [AssistantRecord(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A message's updatable columns at one moment: taken on the thread that owns the message,
    written on any (a streaming reply is persisted off the event loop)."""

    message_id: int
    values: tuple[Any, ...]
    search_text: str


def snapshot(message: Message) -> Snapshot:
    if message.id is None:
        raise ValueError("only a stored message has a snapshot (message.id is None)")
    return Snapshot(message.id, _updatable_values(message), _search_text(message))


# Columns that update_message rewrites (and add_message sets), in _updatable_values order.
_UPDATABLE_FIELDS = (
    "parts", "provider", "model", "status", "finish_reason", "error", "input_tokens", "output_tokens",
    "cached_tokens", "reasoning_tokens", "cost", "ttft_s", "total_s",
)  # fmt: skip
_UPDATABLE = ", ".join(_UPDATABLE_FIELDS)


def _updatable_values(message: Message) -> tuple[Any, ...]:
    """The columns as stored. Text is UTF-8 in SQLite, which has no bytes for a lone surrogate
    (a model's JSON can carry an escaped one): those become U+FFFD, so a reply is never lost for one."""
    u = message.usage
    parts = json.dumps([part_to_dict(p) for p in message.parts], ensure_ascii=False, separators=(",", ":"))
    return (
        encodable(parts), message.provider, message.model, message.status, message.finish_reason,
        encodable(message.error) if message.error else None,
        u.input_tokens, u.output_tokens, u.cached_tokens, u.reasoning_tokens,
        message.cost, message.ttft_s, message.total_s,
    )  # fmt: skip


def _message(row: tuple[Any, ...]) -> Message:
    (mid, cid, parent, role, parts, provider, model, status, finish, error,
     inp, out, cached, reasoning, cost, ttft, total, created) = row  # fmt: skip
    return Message(
        role=role,
        parts=[part_from_dict(d) for d in json.loads(parts)],
        id=mid,
        parent_id=parent,
        conversation_id=cid,
        provider=provider,
        model=model,
        status=status,
        finish_reason=finish,
        error=error,
        usage=Usage(inp, out, cached, reasoning),
        cost=cost,
        ttft_s=ttft,
        total_s=total,
        created_at=created,
    )


def _info(row: tuple[Any, ...]) -> ConversationInfo:
    cid, title, first, agent, created, updated, count, provider, model, system = row
    return ConversationInfo(
        cid, _title(title, first), agent, created, updated, count, provider, model, system
    )


def _title(title: str | None, first_user_text: str | None) -> str | None:
    if title is not None or not first_user_text:
        return title
    text = " ".join(first_user_text.split())
    return text if len(text) <= TITLE_CHARS else text[:TITLE_CHARS].rstrip() + "…"


def _search_text(message: Message) -> str:
    """What search sees: visible text, tool calls and tool output (not the model's thinking)."""
    chunks: list[str] = []
    for part in message.parts:
        if isinstance(part, TextPart):
            chunks.append(part.text)
        elif isinstance(part, ToolCallPart):
            chunks.append(f"{part.name} {json.dumps(part.arguments, ensure_ascii=False)}")
        elif isinstance(part, ToolResultPart):
            chunks.append(part.content)
        elif isinstance(part, AttachmentPart):
            chunks.append(part.name)  # its name, not its content: a directory would swamp the index
    return encodable("\n".join(chunks))


# Control characters (a NUL ends an FTS5 string early) and lone surrogates (not encodable as UTF-8).
_UNQUOTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def _fts_query(text: str) -> str | None:
    """Each word becomes a quoted phrase (all must match); a trailing `*` keeps prefix search.
    Unquotable characters split words, as the tokenizer splits stored text at them."""
    terms = []
    for word in _UNQUOTABLE.sub(" ", text).split():
        prefix = word.endswith("*")
        word = word.rstrip("*")
        if word:
            terms.append('"' + word.replace('"', '""') + '"' + ("*" if prefix else ""))
    return " ".join(terms) or None


@contextmanager
def _immediate(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _disk_full(path: Path, margin: int = 1 << 20) -> bool:
    try:
        stat = os.statvfs(path.parent)
    except (OSError, AttributeError):  # AttributeError: no statvfs (Windows)
        return False
    return stat.f_bavail * stat.f_frsize < margin


def _rowid(cur: sqlite3.Cursor) -> int:
    assert cur.lastrowid is not None  # always set after a successful INSERT
    return cur.lastrowid


def _store_error(exc: sqlite3.Error, path: Path) -> StoreError:
    text = str(exc)
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return StoreError(f"history database is locked by another process: {path}")
    if "full" in lowered or ("disk i/o" in lowered and _disk_full(path)):
        # SQLITE_FULL, or an I/O error on a write that found no room (the WAL can say either)
        return StoreError(f"disk full: cannot write the history database {path}")
    if "not a database" in lowered or "malformed" in lowered:
        return StoreError(f"history database is damaged or not a SQLite database (left untouched): {path}")
    return StoreError(f"history database error: {text}: {path}")
