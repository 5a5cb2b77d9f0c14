"""Persisting a streaming reply without ever making its output wait for the store.

Another process may hold the database's write lock for a while (a long `history rm`, a backup, a
stuck editor of the file) and a disk may fill up. SQLite then blocks the writer for its busy
timeout, and a write on the event loop would freeze the stream. So each reply gets a writer
thread with its own connection: the event loop hands it the newest snapshot and goes on; the
thread writes it, retrying while the store is unavailable, and always writes the newest one. At the
end the engine waits a bounded time for the final write; if the store is still unavailable the
reply goes to a recovery file (core/recovery.py) and the face says so in one line.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING

from agentchat.core.errors import StoreError
from agentchat.core.recovery import write_recovery

if TYPE_CHECKING:
    from agentchat.core.messages import Message
    from agentchat.core.store import Snapshot, Store

RETRY_WAIT_S = 0.25  # one attempt's busy timeout, and the pause after any other failure
FINAL_WAIT_S = 3.0  # how long a finished reply waits for the store before it goes to a file


class ReplyWriter:
    """One streaming reply's persistence: `save` often (never blocks), `close` once."""

    def __init__(self, store: Store, *, final_wait_s: float = FINAL_WAIT_S) -> None:
        self.store = store
        self.final_wait_s = final_wait_s
        self._cond = threading.Condition()
        self._pending: Snapshot | None = None
        self._closing = False
        self._done = threading.Event()  # the final snapshot is written (or the message is gone)
        self._abandon = threading.Event()
        self._error: StoreError | None = None
        self._thread: threading.Thread | None = None
        # An in-memory store (--no-log) has no other process and no disk: written in place.
        self._inline = str(store.path) == ":memory:"

    def save(self, message: Message) -> None:
        """Hand over the reply as it is now; the writer stores it when it can."""
        self._hand_over(message, closing=False)

    async def close(self, message: Message) -> str | None:
        """Store the final reply; None when it is stored, else the one-line reason, with the
        reply kept in a recovery file for the next process to import."""
        self._hand_over(message, closing=True)
        if self._inline or await asyncio.to_thread(self._done.wait, self.final_wait_s):
            return None
        return self._give_up(message)

    def close_now(self, message: Message) -> str | None:
        """`close` for a turn being torn down (Ctrl-C, a cancelled task), where nothing may be
        awaited any more: the same bounded wait, blocking."""
        self._hand_over(message, closing=True)
        if self._inline or self._done.wait(self.final_wait_s):
            return None
        return self._give_up(message)

    def _give_up(self, message: Message) -> str:
        self._abandon.set()
        with self._cond:
            self._cond.notify()
        reason = str(self._error) if self._error else "the history database did not answer"
        try:
            kept = write_recovery(self.store.path, message)
        except OSError as exc:
            return f"{reason}; the reply could not be kept either ({exc.strerror or exc})"
        return f"{reason}; the reply is kept in {kept} and is stored the next time agentchat starts"

    def _hand_over(self, message: Message, *, closing: bool) -> None:
        from agentchat.core.store import snapshot

        snap = snapshot(message)
        if self._inline:
            self.store.write_snapshot(snap)
            return
        with self._cond:  # the final snapshot and the closing flag arrive together
            self._pending = snap
            self._closing = self._closing or closing
            self._cond.notify()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="agentchat-reply-writer", daemon=True)
            self._thread.start()

    # --- the writer thread ------------------------------------------------------------------------
    def _run(self) -> None:
        own: Store | None = None
        try:
            while not self._abandon.is_set():
                with self._cond:
                    while self._pending is None and not self._abandon.is_set():
                        self._cond.wait()
                    snap, self._pending = self._pending, None
                if snap is None:
                    return
                own = self._write(own, snap)
                with self._cond:
                    if self._closing and self._pending is None and self._error is None:
                        self._done.set()
                        return
        finally:
            if own is not None:
                own.close()

    def _write(self, own: Store | None, snap: Snapshot) -> Store | None:
        """Write `snap`, or a newer snapshot that arrives meanwhile, retrying until it is written
        or the writer is abandoned. Its own connection, so the event loop's is never held."""
        from agentchat.core.store import MessageGone, Store

        while not self._abandon.is_set():
            try:
                if own is None:
                    own = Store(self.store.path, timeout_s=RETRY_WAIT_S, maintain=False)
                own.write_snapshot(snap)
                self._error = None
                return own
            except MessageGone:  # deleted while it streamed (the TUI's delete): nothing to keep
                self._error = None
                self._done.set()
                return own
            except StoreError as exc:
                self._error = exc
                if "locked" not in str(exc):  # a lock wait already took the busy timeout
                    self._abandon.wait(RETRY_WAIT_S)
            with self._cond:
                if self._pending is not None:
                    snap, self._pending = self._pending, None
        return own
