"""SQLite history: conversations as message trees, incremental persistence, FTS5 search.

Several processes (parallel `agentchat ask`, two TUIs) write one file at once, so every write is one
short `BEGIN IMMEDIATE` transaction in WAL mode that waits on the busy timeout instead of failing;
every SQLite failure leaves as a one-line StoreError naming the file (store_sql, store_schema)."""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agentchat.config import data_dir
from agentchat.core.blobs import fill_attachments
from agentchat.core.errors import StoreError
from agentchat.core.messages import (
    Message,
)
from agentchat.core.store_rows import (
    INFO_SELECT,
    MATCH_CLOSE,
    MATCH_OPEN,
    MESSAGE_COLUMNS,
    TITLE_COLUMNS,
    UPDATABLE_FIELDS,
    AnyAgent,
    AssistantRecord,
    ConversationInfo,
    SearchHit,
    Snapshot,
    display_title,
    fts_query,
    info_from_row,
    message_from_row,
    snapshot,
)
from agentchat.core.store_schema import migrate
from agentchat.core.store_sql import immediate, store_error
from agentchat.core.store_write import insert_conversation, insert_message
from agentchat.core.text import encodable


class MessageGone(StoreError):
    """The message was deleted (with its conversation) while it was being written."""


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
            if str(self.path) != ":memory:" and not self.path.exists():
                # Conversations are private: create the file owner-only (SQLite copies the mode to -wal/-shm).
                os.close(os.open(self.path, os.O_RDONLY | os.O_CREAT, 0o600))
        except OSError as exc:
            raise StoreError(f"cannot create history database {self.path}: {exc.strerror}") from None
        with self._errors():
            self._conn = sqlite3.connect(
                self.path, timeout=timeout_s, isolation_level=None, check_same_thread=False
            )
            try:
                migrate(self._conn, self.path)
            except BaseException:
                self._conn.close()
                raise
        if maintain and str(self.path) != ":memory:":
            self.recover()

    def recover(self) -> None:
        """Import replies that a process could not store (recovery files), then mark streams whose
        owner is gone as interrupted: they are resumable (`ask -c --resume`), never left `streaming`.
        Best effort: a locked database leaves both for the next process."""
        from agentchat.core.recovery import import_recovered, reap_dead_streams

        try:
            import_recovered(self)
            reap_dead_streams(self)
        except StoreError:
            pass

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
    @property
    def gate(self) -> threading.Lock:
        """Held by every use of this store's connection. Another connection of this process to the
        file (the reply writer's, core/persist.py) holds it for its writes, so the two never meet in
        SQLite's busy wait, which sleeps 1-100 ms and would block the event loop meanwhile."""
        return self._lock

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.ProgrammingError:
            raise  # misuse (closed store, bad parameters) is a bug, not a user-facing condition
        except sqlite3.Error as exc:
            raise store_error(exc, self.path) from None

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._errors():
            yield self._conn

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """Rows of one read-only statement, for state kept beside the history (recovery, ledger)."""
        with self._read() as conn:
            return conn.execute(sql, params).fetchall()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A short write transaction for state kept beside the history (core/ledger.py): the read
        and the write inside it see no other process in between."""
        with self._write() as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short IMMEDIATE transaction: takes the write lock up front, so it never deadlocks."""
        with self._lock, self._errors(), immediate(self._conn):
            yield self._conn

    # --- conversations ---------------------------------------------------------------------------
    def create_conversation(
        self, *, title: str | None = None, agent: str | None = None, system: str | None = None
    ) -> int:
        now = self._clock()
        with self._write() as conn:
            return insert_conversation(
                conn, title=title, agent=agent, system=system, created_at=now, updated_at=now
            )

    def set_system(self, conversation_id: int, system: str | None) -> None:
        """Replace the conversation's system prompt: turns from now on send this one."""
        with self._write() as conn:
            conn.execute("UPDATE conversations SET system = ? WHERE id = ?", (system, conversation_id))

    def conversation(self, conversation_id: int) -> ConversationInfo | None:
        with self._read() as conn:
            row = conn.execute(f"{INFO_SELECT} WHERE c.id = ?", (conversation_id,)).fetchone()
        return info_from_row(row) if row else None

    def list_conversations(
        self, *, limit: int = 50, offset: int = 0, agent: str | AnyAgent | None = AnyAgent.ANY
    ) -> list[ConversationInfo]:
        """Most recently used first; counts come from a column, so this never scans messages.
        `agent=None` keeps the default agent's conversations (stored without an agent name)."""
        # `IS` matches NULL too, and still uses the (agent, updated_at) index.
        where, params = ("", ()) if agent is AnyAgent.ANY else ("WHERE c.agent IS ?", (agent,))
        with self._read() as conn:
            rows = conn.execute(
                f"{INFO_SELECT} {where} ORDER BY c.updated_at DESC, c.id DESC LIMIT ? OFFSET ?",
                (*params, limit, offset),
            ).fetchall()
        return [info_from_row(row) for row in rows]

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
            message_id = insert_message(conn, self.path, conversation_id, message, now)
        message.id, message.conversation_id, message.created_at = message_id, conversation_id, now
        return message_id

    def load_attachments(self, messages: list[Message]) -> None:
        """Fill each attachment's `data` (and a PDF's extracted text) from the blob table, for a
        request or an export; a blob that is missing leaves `data` None (the request says so)."""
        with self._read() as conn:
            fill_attachments(conn, messages)

    def set_extracted_text(self, digest: str, text: str) -> None:
        """Keep a PDF's extracted text beside its bytes, so it is extracted once."""
        with self._write() as conn:
            conn.execute("UPDATE blobs SET text = ? WHERE hash = ?", (encodable(text), digest))

    def update_message(self, message: Message) -> None:
        """Rewrite content and metadata (a streaming reply goes through `write_snapshot` instead)."""
        self.write_snapshot(snapshot(message))

    def write_snapshot(self, snap: Snapshot) -> None:
        """Store a message's content and metadata as `snapshot` captured them."""
        if self.write_snapshots([snap]):
            raise MessageGone(f"message {snap.message_id} no longer exists in {self.path}")

    def write_snapshots(self, snaps: Sequence[Snapshot]) -> set[int]:
        """`write_snapshot` for several messages in one transaction (the replies a gateway streams
        at once: one commit, not one each); the ids of those deleted meanwhile, left out."""
        assignments = ", ".join(f"{name} = ?" for name in UPDATABLE_FIELDS)
        gone: set[int] = set()
        with self._write() as conn:
            for snap in snaps:
                cur = conn.execute(
                    f"UPDATE messages SET {assignments} WHERE id = ?", (*snap.values, snap.message_id)
                )
                if cur.rowcount == 0:
                    gone.add(snap.message_id)
                    continue
                conn.execute(
                    "UPDATE message_fts SET text = ? WHERE rowid = ?", (snap.search_text, snap.message_id)
                )
        return gone

    def get_message(self, message_id: int) -> Message | None:
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,)
            ).fetchone()
        return message_from_row(row) if row else None

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
                SELECT {MESSAGE_COLUMNS} FROM chain JOIN messages ON id = node {having_tools}
                ORDER BY up DESC""",
                {"leaf": leaf_id, "steps": steps},
            ).fetchall()
        return [message_from_row(row) for row in rows]

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
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY created_at, id",
                (conversation_id,),
            ).fetchall()
        messages = [message_from_row(row) for row in rows]
        self.load_attachments(messages)
        return messages

    # --- search and statistics -------------------------------------------------------------------
    def search(self, query: str, *, limit: int = 20) -> list[SearchHit]:
        """Best matches first. Every word is quoted, so FTS syntax in user text is taken literally."""
        match = fts_query(query)
        if match is None:
            return []
        with self._read() as conn:
            rows = conn.execute(
                f"""SELECT m.conversation_id, m.id, {TITLE_COLUMNS}, m.role,
                    snippet(message_fts, 0, ?, ?, '…', 16)
                FROM message_fts JOIN messages m ON m.id = message_fts.rowid
                JOIN conversations c ON c.id = m.conversation_id
                WHERE message_fts MATCH ? ORDER BY rank LIMIT ?""",
                (MATCH_OPEN, MATCH_CLOSE, match, limit),
            ).fetchall()
        return [
            SearchHit(cid, mid, display_title(title, first), role, snip)
            for cid, mid, title, first, role, snip in rows
        ]

    def assistant_records(self, *, since: float | None = None) -> list[AssistantRecord]:
        with self._read() as conn:
            rows = conn.execute(
                """SELECT id, conversation_id, created_at, provider, model, status, finish_reason,
                    input_tokens, output_tokens, cached_tokens, reasoning_tokens, cost, ttft_s, total_s, error,
                    cache_write_tokens, saved_usd
                FROM messages WHERE role = 'assistant' AND created_at >= ? ORDER BY created_at, id""",
                (since if since is not None else float("-inf"),),
            ).fetchall()
        return [AssistantRecord(*row) for row in rows]
