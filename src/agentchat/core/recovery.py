"""Replies the history database could not take, kept in files until a later process stores them.

When another process holds the write lock past every retry, or the disk is full, a finished reply
would otherwise exist only on the user's screen. It is written to `recovery/` beside the database
(a small JSON file, created atomically and owner-only, like the database) and imported by the next
process that opens the store.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from agentchat.core.errors import StoreError
from agentchat.core.messages import Message, message_from_dict, message_to_dict

if TYPE_CHECKING:
    from agentchat.core.store import Store

DIR_NAME = "recovery"


def recovery_dir(database: Path) -> Path:
    return database.parent / DIR_NAME


def write_recovery(database: Path, message: Message) -> Path:
    """Keep `message` (already stored once, so it has an id) for the next process; its path.
    Raises OSError when even this cannot be written (the disk is full)."""
    folder = recovery_dir(database)
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / f"reply-{message.id}-{time.time_ns()}.json"
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(message_to_dict(message), fh, ensure_ascii=False)
    os.replace(tmp, path)
    return path


def import_recovered(store: Store) -> list[int]:
    """Store every recovered reply whose message still exists; the ids imported. A file that
    cannot be read is left for a person to look at; one whose conversation was deleted is dropped."""
    try:
        files = sorted(recovery_dir(store.path).glob("reply-*.json"))
    except OSError:
        return []
    imported: list[int] = []
    for path in files:
        try:
            message = message_from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if message.id is None:
            continue
        try:
            if store.get_message(message.id) is not None:
                store.update_message(message)
                imported.append(message.id)
        except StoreError:
            return imported  # still unavailable: the files wait for the next process
        path.unlink(missing_ok=True)
    return imported


def reap_dead_streams(store: Store) -> list[int]:
    """Mark `streaming` replies whose process is gone as interrupted (resumable); their ids.
    A live owner's stream, here or in another process, is never touched."""
    from agentchat.core.liveness import owner_alive

    rows = store.query("SELECT id, owner FROM messages WHERE status = 'streaming'")
    dead = [(mid, owner) for mid, owner in rows if not owner_alive(owner)]
    if not dead:  # the common case: only a read, so opening never waits for another's write lock
        return []
    with store.transaction() as conn:
        for mid, owner in dead:
            conn.execute(
                "UPDATE messages SET status = 'interrupted', error = ? "
                "WHERE id = ? AND status = 'streaming' AND owner IS ?",
                ("the process streaming this reply ended before it finished", mid, owner),
            )
    return [mid for mid, _ in dead]
