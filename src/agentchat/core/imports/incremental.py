"""Writing one imported conversation: a new one, or the newer export of one imported before.

Users export ChatGPT monthly and llm's log keeps growing: a newer file holds the same conversations
continued (more turns, new branches from edits and regenerations). Every stored message is recorded
with the source node(s) it came from (`import_messages`; each node of a merged ChatGPT run names
the run's one message), so a re-import adds only the nodes not recorded, under their recorded
parents, and importing the same file again adds nothing. A run that grew (the newer export has
more nodes in it: ChatGPT's "continue generating") is rewritten in place as the newer export shows
it, so the history stays one message per run, as a first import of that export would store it.

A conversation imported before those records existed has none: its messages are matched to the
export's nodes by place in the tree, role and content (the same reader renders a node the same
way), the matches are recorded, and the rest is added. If nothing matches (the reader has changed
too much to tell), the conversation is left as it is, as such imports always were.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentchat.core.messages import Message, part_to_dict
from agentchat.core.store_rows import UPDATABLE_FIELDS, snapshot, updatable_values
from agentchat.core.store_write import insert_message

if TYPE_CHECKING:
    from agentchat.core.imports import Imported, Node


@dataclass(slots=True)
class Written:
    added: int = 0  # messages inserted
    continued: int = 0  # stored runs rewritten longer


def write_continuation(
    conn: sqlite3.Connection, path: Path, source: str, conv: Imported, conversation_id: int
) -> Written:
    """What a newer export adds to a conversation imported before (nothing, if nothing is new)."""
    known = _recorded(conn, source, conv.source_id)
    if known:
        return write_nodes(conn, path, source, conv, conversation_id, known, saved=True)
    found = _matched(conn, conversation_id, conv.nodes)
    return write_nodes(conn, path, source, conv, conversation_id, found, saved=False) if found else Written()


def _recorded(conn: sqlite3.Connection, source: str, source_id: str) -> dict[str, int]:
    """Source node key -> stored message id, as earlier imports of this conversation recorded them."""
    rows = conn.execute(
        "SELECT node_key, message_id FROM import_messages WHERE source = ? AND source_id = ?",
        (source, source_id),
    )
    return {key: mid for key, mid in rows}


def write_nodes(
    conn: sqlite3.Connection,
    path: Path,
    source: str,
    conv: Imported,
    conversation_id: int,
    known: dict[str, int],
    *,
    saved: bool,
) -> Written:
    """Insert the nodes `known` lacks (parents first), rewrite the runs that grew, and record every
    node not recorded yet (`saved`: `known` is already in the table, not just matched)."""
    from agentchat.core.imports import ImportFormatError

    ids = dict(known)
    out = Written()
    (newest,) = conn.execute(
        "SELECT updated_at FROM conversations WHERE id = ?", (conversation_id,)
    ).fetchone()
    fresh: list[tuple[str, str, str, int]] = []
    for node in conv.nodes:
        members = [node.key, *node.members]
        mid = ids.get(node.key)
        if mid is None:
            if node.parent is not None and node.parent not in ids:
                raise ImportFormatError(
                    f"{source} conversation {conv.source_id}: message {node.key} names a parent "
                    f"({node.parent}) that is not before it in the file"
                )
            node.message.parent_id = None if node.parent is None else ids[node.parent]
            mid = insert_message(conn, path, conversation_id, node.message, node.created_at)
            out.added += 1
            newest = max(newest, node.created_at)
        elif any(m not in ids for m in members):
            _rewrite(conn, mid, node.message)
            out.continued += 1
        fresh += [(source, conv.source_id, m, mid) for m in members if not saved or m not in known]
        ids.update((m, mid) for m in members)
    conn.executemany(
        "INSERT OR IGNORE INTO import_messages (source, source_id, node_key, message_id) VALUES (?, ?, ?, ?)",
        fresh,
    )
    if out.added:  # insert_message marked it used at each node's time: the newest (or later use) wins
        conn.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (newest, conversation_id))
    return out


def _rewrite(conn: sqlite3.Connection, message_id: int, message: Message) -> None:
    """The stored message becomes the newer export's longer run (content, model, finish)."""
    message.id = message_id
    snap = snapshot(message)
    assignments = ", ".join(f"{name} = ?" for name in UPDATABLE_FIELDS)
    conn.execute(f"UPDATE messages SET {assignments} WHERE id = ?", (*snap.values, message_id))
    conn.execute("UPDATE message_fts SET text = ? WHERE rowid = ?", (snap.search_text, message_id))


# --- conversations imported before the records ------------------------------------------------------


def _matched(conn: sqlite3.Connection, conversation_id: int, nodes: list[Node]) -> dict[str, int]:
    """Node key -> stored message for a conversation imported without records: a node matches an
    unmatched stored message under its parent's match (or a root) with its role and content, the
    one with its time first. A run that grew matches by role, time and a content it begins with;
    only its first node is then known, so the rest of it counts as new and the run is rewritten."""
    rows = conn.execute(
        "SELECT id, parent_id, role, parts, created_at FROM messages WHERE conversation_id = ? ORDER BY id",
        (conversation_id,),
    ).fetchall()
    children: dict[int | None, list[tuple[Any, ...]]] = {}
    for row in rows:
        children.setdefault(row[1], []).append(row)
    found: dict[str, int] = {}
    used: set[int] = set()
    for node in nodes:
        if node.parent is not None and node.parent not in found:
            continue  # under something that did not match: new, and so is all below it
        under = None if node.parent is None else found[node.parent]
        mine = [r for r in children.get(under, []) if r[0] not in used and r[2] == node.message.role]
        parts = updatable_values(node.message)[0]
        same = sorted((r[4] != node.created_at, r[0]) for r in mine if r[3] == parts)
        if same:
            mid = same[0][1]
            found.update((m, mid) for m in [node.key, *node.members])
        else:
            grown = [r[0] for r in mine if r[4] == node.created_at and _begins(r[3], node.message)]
            if not grown:
                continue
            mid = found[node.key] = grown[0]
        used.add(mid)
    return found


def _begins(stored: str, message: Message) -> bool:
    """`message` is the stored one with more after it: the same parts, the last text maybe longer."""
    old: list[dict[str, Any]] = json.loads(stored)
    new = [part_to_dict(p) for p in message.parts]
    if not old or len(new) < len(old) or old[:-1] != new[: len(old) - 1]:
        return False
    last, then = old[-1], new[len(old) - 1]
    if last == then:
        return len(new) > len(old)
    return last.get("type") == then.get("type") == "text" and then["text"].startswith(last["text"])
