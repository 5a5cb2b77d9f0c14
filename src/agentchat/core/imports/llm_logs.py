"""`llm`'s log database (logs.db), read with sqlite3 (read-only; llm itself is not needed).

The current llm (0.36, migration m023) writes a content-addressed message tree: `messages` (hash,
parent_hash, role), their `parts` (text, reasoning, tool_call, tool_result, attachment; long text as
`text_ref` pieces into `fragments`), `threads` (a conversation: its tip; a fork names the thread it
came from) and `turns` (one model call: model, token counts, duration, time, and the message range
it produced). A thread and its forks become one conversation whose branches they are. Older
releases logged `conversations` and `responses` (prompt, system, response, tokens, tool calls and
results beside them): a database with those rows is imported from them too.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from agentchat.core.imports import Imported, ImportFormatError, Node
from agentchat.core.messages import Message, Part, TextPart, ThinkingPart, ToolCallPart, ToolResultPart, Usage

_ROLES = {"user": "user", "assistant": "assistant", "tool": "tool", "system": "system"}


def read_llm(path: Path) -> Iterator[Imported]:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error as exc:
        raise ImportFormatError(f"{path}: not an llm log database: {exc}") from None
    try:
        if not ({"threads", "turns", "messages", "parts"} <= tables or {"responses"} <= tables):
            raise ImportFormatError(f"{path}: not an llm log database (no threads/turns or responses table)")
        if "threads" in tables:
            yield from _threads(conn, path)
        if "responses" in tables:
            yield from _responses(conn, path, "tool_calls" in tables and "tool_results" in tables)
    except sqlite3.Error as exc:
        raise ImportFormatError(f"{path}: cannot read the llm log: {exc}") from None
    finally:
        conn.close()


def _time(text: str | None) -> float:
    if not text:
        return 0.0
    return datetime.fromisoformat(text.replace(" ", "T")).timestamp()


# --- the current layout ------------------------------------------------------------------------


def _threads(conn: sqlite3.Connection, path: Path) -> Iterator[Imported]:
    threads = [dict(r) for r in conn.execute("SELECT * FROM threads ORDER BY datetime_utc, id")]
    by_id = {t["id"]: t for t in threads}

    def root_of(thread: dict[str, Any]) -> str:
        seen = set()
        while thread.get("forked_from") in by_id and thread["id"] not in seen:
            seen.add(thread["id"])
            thread = by_id[thread["forked_from"]]
        return str(thread["id"])

    groups: dict[str, list[dict[str, Any]]] = {}
    for thread in threads:
        groups.setdefault(root_of(thread), []).append(thread)
    for root, members in groups.items():
        try:
            yield _thread_group(conn, by_id[root], members)
        except (KeyError, TypeError, ValueError) as exc:
            raise ImportFormatError(f"{path}: thread {root}: {exc}") from None


def _thread_group(conn: sqlite3.Connection, root: dict[str, Any], members: list[dict[str, Any]]) -> Imported:
    ids = [m["id"] for m in members]
    marks = ",".join("?" * len(ids))
    turns = [dict(r) for r in conn.execute(f"SELECT * FROM turns WHERE thread_id IN ({marks})", ids)]
    by_tip = {t["tip_message_hash"]: t for t in turns}
    created = _time(root.get("datetime_utc"))
    out = Imported(f"thread:{root['id']}", root.get("name") or None, created)
    placed: set[str] = set()
    for thread in members:
        chain = _chain(conn, thread["tip_message_hash"])
        when = created
        times = _times(chain, by_tip, _time(thread.get("datetime_utc")) or created)
        parent: str | None = None
        for row in chain:
            key, role = row["hash"], _ROLES.get(row["role"])
            if role is None:
                raise ValueError(f"message {key}: unknown role {row['role']!r}")
            when = times.get(key, when)
            if role == "system":
                out.system = out.system or _text(conn, key)
                continue
            if key not in placed:
                message = Message(role=role, parts=_parts(conn, key))  # type: ignore[arg-type]
                turn = by_tip.get(key)
                if turn is not None and role == "assistant":
                    message.model = turn.get("resolved_model") or turn.get("model")
                    message.usage = Usage(turn.get("input_tokens"), turn.get("output_tokens"))
                    message.total_s = turn["duration_ms"] / 1000 if turn.get("duration_ms") else None
                out.nodes.append(Node(key, parent, message, when))
                placed.add(key)
            parent = key
    return out


def _chain(conn: sqlite3.Connection, tip: str | None) -> list[sqlite3.Row]:
    """Root first, from the thread's tip up its parents."""
    chain: list[sqlite3.Row] = []
    seen: set[str] = set()
    while tip is not None and tip not in seen:
        seen.add(tip)
        row = conn.execute("SELECT hash, parent_hash, role FROM messages WHERE hash = ?", (tip,)).fetchone()
        if row is None:
            raise ValueError(f"message {tip} is missing")
        chain.append(row)
        tip = row["parent_hash"]
    return chain[::-1]


def _times(chain: list[sqlite3.Row], by_tip: dict[str, Any], default: float) -> dict[str, float]:
    """Messages carry no time: each takes the time of the turn that ended at or after it."""
    times: dict[str, float] = {}
    current = None
    for row in reversed(chain):
        turn = by_tip.get(row["hash"])
        if turn is not None:
            current = _time(turn.get("datetime_utc"))
        times[row["hash"]] = current if current is not None else default
    return times


def _text(conn: sqlite3.Connection, key: str) -> str:
    return "".join(p.text for p in _parts(conn, key) if isinstance(p, TextPart))


def _parts(conn: sqlite3.Connection, key: str) -> list[Part]:
    parts: list[Part] = []
    rows = conn.execute("SELECT * FROM parts WHERE message_hash = ? ORDER BY position", (key,)).fetchall()
    for row in rows:
        payload: dict[str, Any] = json.loads(row["payload"]) if row["payload"] else {}
        text = row["text"] if row["text"] is not None else _resolve(conn, payload)
        kind = row["type"]
        if kind == "text":
            parts.append(TextPart(text or ""))
        elif kind == "reasoning":
            parts.append(ThinkingPart(text or ""))
        elif kind == "tool_call":
            call_id = payload.get("tool_call_id") or f"llm_{row['id']}"
            parts.append(ToolCallPart(call_id, payload["name"], payload.get("arguments") or {}))
        elif kind == "tool_result":
            error = payload.get("exception")
            output = str(payload.get("output") or "") + (f"\n{error}" if error else "")
            call_id = payload.get("tool_call_id") or f"llm_{row['id']}"
            parts.append(ToolResultPart(call_id, output, bool(error), payload.get("name")))
        elif kind == "attachment":
            parts.append(TextPart(f"[attachment {payload.get('attachment', {}).get('id', '')}]"))
        else:
            raise ValueError(f"message {key}: unknown part type {kind!r}")
    return parts


def _resolve(conn: sqlite3.Connection, payload: dict[str, Any]) -> str | None:
    """A text held as `text_ref` pieces: literals and fragment ids (llm's own encoding)."""
    pieces = payload.get("text_ref")
    if pieces is None:
        return payload.get("text")
    out = []
    for piece in pieces:
        if "literal" in piece:
            out.append(piece["literal"])
        else:
            row = conn.execute("SELECT content FROM fragments WHERE id = ?", (piece["fragment"],)).fetchone()
            out.append(row[0] if row else "")
    return "".join(out)


# --- the older layout (responses and conversations) ------------------------------------------------


def _responses(conn: sqlite3.Connection, path: Path, tools: bool) -> Iterator[Imported]:
    rows = [dict(r) for r in conn.execute("SELECT * FROM responses ORDER BY datetime_utc, id")]
    names = {}
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'conversations'").fetchone():
        names = {r["id"]: r["name"] for r in conn.execute("SELECT id, name FROM conversations")}
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(str(row.get("conversation_id") or row["id"]), []).append(row)
    for cid, responses in groups.items():
        try:
            yield _conversation(conn, cid, names.get(cid), responses, tools)
        except (KeyError, TypeError, ValueError) as exc:
            raise ImportFormatError(f"{path}: conversation {cid}: {exc}") from None


def _rows(conn: sqlite3.Connection, table: str, response_id: str) -> list[dict[str, Any]]:
    query = f"SELECT * FROM {table} WHERE response_id = ? ORDER BY id"  # table: one of two names
    return [dict(row) for row in conn.execute(query, (response_id,))]


def _conversation(
    conn: sqlite3.Connection, cid: str, name: str | None, responses: list[dict[str, Any]], tools: bool
) -> Imported:
    out = Imported(f"conversation:{cid}", name or None, _time(responses[0]["datetime_utc"]))
    parent: str | None = None
    for r in responses:
        when = _time(r["datetime_utc"])
        out.system = out.system or r.get("system") or None
        results = []
        if tools:
            results = [
                ToolResultPart(
                    t["tool_call_id"] or f"llm_{t['id']}",
                    str(t["output"] or ""),
                    bool(t.get("exception")),
                    t["name"],
                )
                for t in _rows(conn, "tool_results", r["id"])
            ]
        incoming: list[tuple[str, Message]] = []
        if results:
            incoming.append((f"{r['id']}:results", Message(role="tool", parts=list(results))))
        if r.get("prompt"):
            incoming.append((f"{r['id']}:prompt", Message.user(r["prompt"])))
        reply_parts: list[Part] = [TextPart(r["response"])] if r.get("response") else []
        if tools:
            reply_parts += [
                ToolCallPart(
                    t["tool_call_id"] or f"llm_{t['id']}", t["name"], json.loads(t["arguments"] or "{}")
                )
                for t in _rows(conn, "tool_calls", r["id"])
            ]
        reply = Message(role="assistant", parts=reply_parts, model=r.get("resolved_model") or r["model"])
        reply.usage = Usage(r.get("input_tokens"), r.get("output_tokens"))
        reply.total_s = r["duration_ms"] / 1000 if r.get("duration_ms") else None
        for key, message in [*incoming, (f"{r['id']}:reply", reply)]:
            out.nodes.append(Node(key, parent, message, when))
            parent = key
    return out
