"""Persisting a streaming reply without ever making its output wait for the store.

Another process may hold the database's write lock for a while (a long `history rm`, a backup, a
stuck editor of the file) and a disk may fill up. SQLite then blocks the writer for its busy
timeout, and a write on the event loop would freeze the stream. So replies are written by a
writer thread with its own connection: the event loop hands it the newest snapshot and goes on;
the thread writes it, retrying while the store is unavailable, and always writes the newest one.
At the end the engine waits a bounded time for the final write; if the store is still unavailable
the reply goes to a recovery file (core/recovery.py) and the face says so in one line.

One writer thread per store serves every reply streaming into it (a gateway streams dozens at
once): a thread and a connection per reply cost the event loop a thread start (a GIL hand-off,
~1 ms) and each reply its own commit. The thread writes what is pending in one transaction, and
ends (closing its connection) once nothing has come for `IDLE_S`; the next reply starts another.
"""

from __future__ import annotations

import asyncio
import atexit
import threading
import time
import weakref
from typing import TYPE_CHECKING

from agentchat.core.errors import StoreError
from agentchat.core.recovery import write_recovery

if TYPE_CHECKING:
    from agentchat.core.messages import Message
    from agentchat.core.store import Snapshot, Store

RETRY_WAIT_S = 0.25  # the longest pause between attempts to write to an unavailable store
FIRST_RETRY_S = 0.01  # the first pause (doubling up to RETRY_WAIT_S): another process's write is brief
FINAL_WAIT_S = 3.0  # how long a finished reply waits for the store before it goes to a file
IDLE_S = 2.0  # a writer thread with nothing to write for this long ends
EXIT_WAIT_S = 1.0  # how long an exiting process waits for each writer to finish and close


class ReplyWriter:
    """One streaming reply's persistence: `save` often (never blocks), `close` once."""

    def __init__(self, store: Store, *, final_wait_s: float = FINAL_WAIT_S) -> None:
        self.store = store
        self.final_wait_s = final_wait_s
        self._done = threading.Event()  # the final snapshot is written (or the message is gone)
        self._closing = False
        self._abandoned = False
        self._error: StoreError | None = None
        self._waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[None]] | None = None
        # An in-memory store (--no-log) has no other process and no disk: written in place.
        self._inline = str(store.path) == ":memory:"
        self._writer = None if self._inline else _writer_for(store)

    def save(self, message: Message) -> None:
        """Hand over the reply as it is now; the writer stores it when it can."""
        self._hand_over(message, closing=False)

    async def close(self, message: Message) -> str | None:
        """Store the final reply; None when it is stored, else the one-line reason, with the
        reply kept in a recovery file for the next process to import."""
        self._hand_over(message, closing=True)
        if self._writer is None:
            return None
        loop = asyncio.get_running_loop()
        written: asyncio.Future[None] = loop.create_future()
        with self._writer.cond:
            if self._done.is_set():
                return None
            self._waiter = (loop, written)
        try:
            await asyncio.wait_for(written, self.final_wait_s)
            return None
        except TimeoutError:
            return self._give_up(message)

    def close_now(self, message: Message) -> str | None:
        """`close` for a turn being torn down (Ctrl-C, a cancelled task), where nothing may be
        awaited any more: the same bounded wait, blocking."""
        self._hand_over(message, closing=True)
        if self._writer is None or self._done.wait(self.final_wait_s):
            return None
        return self._give_up(message)

    def _give_up(self, message: Message) -> str:
        assert self._writer is not None
        with self._writer.cond:
            self._abandoned = True
            self._writer.pending.pop(self, None)
        reason = str(self._error) if self._error else "the history database did not answer"
        try:
            kept = write_recovery(self.store.path, message)
        except OSError as exc:
            return f"{reason}; the reply could not be kept either ({exc.strerror or exc})"
        return f"{reason}; the reply is kept in {kept} and is stored the next time agentchat starts"

    def _hand_over(self, message: Message, *, closing: bool) -> None:
        from agentchat.core.store import snapshot

        snap = snapshot(message)
        if self._writer is None:
            self.store.write_snapshot(snap)
            return
        self._writer.put(self, snap, closing)

    def _written(self) -> None:
        """Called by the writer thread (holding its lock) once the final snapshot is stored."""
        self._done.set()
        if self._waiter is not None:
            loop, written = self._waiter
            try:
                loop.call_soon_threadsafe(_resolve, written)
            except RuntimeError:  # the loop is closed: nobody waits any more
                pass


def _resolve(written: asyncio.Future[None]) -> None:
    if not written.done():
        written.set_result(None)


class _StoreWriter:
    """The writer thread of one store, shared by every reply streaming into it."""

    def __init__(self, store: Store) -> None:
        self.path = store.path
        self.gate = store.gate
        self.cond = threading.Condition()
        self.pending: dict[ReplyWriter, Snapshot] = {}  # each reply's newest snapshot
        self._thread: threading.Thread | None = None
        self._stopping = False

    def put(self, reply: ReplyWriter, snap: Snapshot, closing: bool) -> None:
        with self.cond:  # the final snapshot and the closing flag arrive together
            if reply._abandoned:
                return
            self.pending[reply] = snap
            reply._closing = reply._closing or closing
            thread = None
            if self._thread is None:
                thread = self._thread = threading.Thread(
                    target=self._run, name="agentchat-reply-writer", daemon=True
                )
            self.cond.notify()
        if thread is not None:
            thread.start()

    def stop(self, timeout_s: float) -> None:
        """Write what is pending and close the connection (the process is exiting). The last
        connection to a database to close folds its write-ahead log into the file: left open, a
        history.db copied alone would lack the newest replies."""
        with self.cond:
            self._stopping = True
            self.cond.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout_s)

    def _run(self) -> None:
        own: Store | None = None
        try:
            while True:
                with self.cond:
                    if not self.pending and not self._stopping:
                        self.cond.wait(IDLE_S)
                    if not self.pending:
                        if own is not None:  # closed before `stop` can see the thread gone
                            own.close()
                            own = None
                        self._thread = None  # the next `put` starts a new thread
                        return
                    batch, self.pending = self.pending, {}
                own = self._write(own, batch)
        finally:
            if own is not None:
                own.close()

    def _write(self, own: Store | None, batch: dict[ReplyWriter, Snapshot]) -> Store | None:
        """Write the batch (taking in newer snapshots that arrive meanwhile), retrying until it is
        written or every reply in it was given up. Its own connection, which never waits for a
        lock: holding the store's gate it meets no other writer of this process, and while another
        process holds the database it gives up at once and pauses without the gate, so the event
        loop's own reads and writes are never held behind a lock wait."""
        from agentchat.core.store import Store

        pause = FIRST_RETRY_S
        while batch:
            try:
                if own is None:
                    own = Store(self.path, timeout_s=0, maintain=False)
                with self.gate:
                    gone = own.write_snapshots(list(batch.values()))
            except StoreError as exc:
                for reply in batch:
                    reply._error = exc
                time.sleep(pause)
                pause = min(pause * 2, RETRY_WAIT_S)
                with self.cond:
                    batch = {r: s for r, s in {**batch, **self.pending}.items() if not r._abandoned}
                    self.pending = {}
                continue
            with self.cond:
                for reply, snap in batch.items():
                    reply._error = None
                    # a reply deleted while it streamed (the TUI's delete) has nothing left to keep
                    if snap.message_id in gone or (reply._closing and reply not in self.pending):
                        reply._written()
            return own
        return own


_WRITERS: weakref.WeakKeyDictionary[Store, _StoreWriter] = weakref.WeakKeyDictionary()
_WRITERS_LOCK = threading.Lock()


def _writer_for(store: Store) -> _StoreWriter:
    with _WRITERS_LOCK:
        writer = _WRITERS.get(store)
        if writer is None:
            writer = _WRITERS[store] = _StoreWriter(store)
        return writer


@atexit.register
def _stop_writers() -> None:
    with _WRITERS_LOCK:
        writers = list(_WRITERS.values())
    for writer in writers:
        writer.stop(EXIT_WAIT_S)
