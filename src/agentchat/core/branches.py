"""Where a message sits among its siblings: the replies regenerated for one prompt, the versions of
an edited prompt. The store keeps messages as a tree (`parent_id`); a face shows `‹ 2/3 ›` on a
message with siblings and moves to another one's branch (its newest tip, `Store.branch_leaf`).

Siblings are ordered as they were made (oldest first), so "1/3" is the original answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentchat.core.store import Store

_SIBLINGS = """SELECT m.id, s.id FROM messages m JOIN messages s
    ON s.conversation_id = m.conversation_id AND s.parent_id IS m.parent_id
    WHERE m.id IN ({marks}) ORDER BY m.id, s.created_at, s.id"""


def sibling_ids(store: Store, message_id: int) -> list[int]:
    """The message and its siblings, oldest first (just itself when it has none; [] if gone)."""
    return [sibling for _, sibling in store.query(_SIBLINGS.format(marks="?"), (message_id,))]


def positions(store: Store, message_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """For each message that has siblings: (its place counting from 1, how many there are), read
    in one statement for a whole page of messages."""
    ids = list(dict.fromkeys(message_ids))
    found: dict[int, list[int]] = {}
    for start in range(0, len(ids), 500):  # SQLite's limit on bound parameters is far above this
        chunk = ids[start : start + 500]
        rows = store.query(_SIBLINGS.format(marks=", ".join("?" * len(chunk))), tuple(chunk))
        for message, sibling in rows:
            found.setdefault(message, []).append(sibling)
    return {m: (s.index(m) + 1, len(s)) for m, s in found.items() if len(s) > 1}
