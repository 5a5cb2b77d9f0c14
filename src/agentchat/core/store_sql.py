"""SQLite plumbing shared by the store and its writers: short IMMEDIATE transactions and one-line
errors that say what a person can do (locked, disk full, damaged)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agentchat.core.errors import StoreError


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def disk_full(path: Path, margin: int = 1 << 20) -> bool:
    try:
        stat = os.statvfs(path.parent)
    except (OSError, AttributeError):  # AttributeError: no statvfs (Windows)
        return False
    return stat.f_bavail * stat.f_frsize < margin


def rowid(cur: sqlite3.Cursor) -> int:
    assert cur.lastrowid is not None  # always set after a successful INSERT
    return cur.lastrowid


def store_error(exc: sqlite3.Error, path: Path) -> StoreError:
    text = str(exc)
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return StoreError(f"history database is locked by another process: {path}")
    if "full" in lowered or ("disk i/o" in lowered and disk_full(path)):
        # SQLITE_FULL, or an I/O error on a write that found no room (the WAL can say either)
        return StoreError(f"disk full: cannot write the history database {path}")
    if "not a database" in lowered or "malformed" in lowered:
        return StoreError(f"history database is damaged or not a SQLite database (left untouched): {path}")
    return StoreError(f"history database error: {text}: {path}")
