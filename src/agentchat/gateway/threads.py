"""Where a gateway client's request goes in the history.

OpenAI and Anthropic clients send the whole conversation with every request. A request goes to a
conversation named by the client (the `X-Agentchat-Conversation` header, else OpenAI's `user` or
Anthropic's `metadata.user_id`); an unnamed one to the conversation whose opening exchange (system
prompt, first message, first reply) its history starts with, else to a new conversation.

Inside the conversation the sent messages are matched against the stored tree from the root, each
against the children of the one before (the newest match wins). Where the match ends, the rest of
what was sent is new: stored as a branch from there (the conversation continues when the sent
history extends a stored branch; an edited earlier message starts a branch at that point; nothing
in common starts a new root branch). A request whose history is all stored already regenerates
the reply to its last message.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentchat.core.messages import Message, part_from_dict

if TYPE_CHECKING:
    from agentchat.core.store import Store


@dataclass(slots=True)
class Placement:
    conversation_id: int | None  # None: a new conversation
    parent_id: int | None  # the stored message the new ones follow
    from_root: bool  # nothing in common with the stored conversation: a new root branch
    new: list[Message]  # what the store lacks, in order


def canonical(message: Message) -> str:
    """What a client sends back of a message: its role, text, tool calls and results. Thinking,
    metadata and whitespace at the ends do not count (clients drop or trim them)."""
    calls = [[c.id, c.name, c.arguments] for c in message.tool_calls]
    results = [[r.call_id, r.content.strip()] for r in message.tool_results]
    return json.dumps([message.role, message.text.strip(), calls, results], sort_keys=True)


def _key(message: Message) -> tuple[str, str] | str:
    """`canonical` for matching: a message of text alone (most of a long history, which a client
    sends whole with every request) is compared as (role, text), without writing any JSON."""
    if message.tool_calls or message.tool_results:
        return canonical(message)
    return message.role, message.text.strip()


def named_key(name: str) -> str:
    return f"name:{name}"


def opening_key(system: str | None, first: Message, reply: Message) -> str:
    """An unnamed conversation's key: its system prompt and opening exchange."""
    digest = hashlib.sha256(json.dumps([system or "", canonical(first), canonical(reply)]).encode())
    return f"opening:{digest.hexdigest()}"


def lookup(store: Store, key: str) -> int | None:
    rows = store.query("SELECT conversation_id FROM gateway_threads WHERE key = ?", (key,))
    return rows[0][0] if rows else None


def remember(store: Store, key: str, conversation_id: int) -> None:
    """The newest conversation under a key takes it: of two unnamed conversations that opened
    alike, a client continuing goes on with the one it just had."""
    with store.transaction() as conn:
        conn.execute(
            "INSERT OR REPLACE INTO gateway_threads (key, conversation_id) VALUES (?, ?)",
            (key, conversation_id),
        )


def place(store: Store, name: str | None, system: str | None, sent: list[Message]) -> Placement:
    """The conversation, branch point and new messages for a request that sent `sent`."""
    conv = None
    if name is not None:
        conv = lookup(store, named_key(name))
    elif len(sent) >= 2:
        conv = lookup(store, opening_key(system, sent[0], sent[1]))
    if conv is None:
        return Placement(None, None, False, list(sent))
    children: dict[int | None, list[tuple[int, tuple[str, str] | str]]] = {}
    rows = store.query(
        "SELECT id, parent_id, role, parts FROM messages WHERE conversation_id = ? ORDER BY id DESC", (conv,)
    )
    for message_id, parent_id, role, parts in rows:  # newest first: the newest match wins
        children.setdefault(parent_id, []).append((message_id, _key(_stored(role, parts))))
    parent: int | None = None
    matched = 0
    for message in sent:
        key = _key(message)
        found = next((mid for mid, canon in children.get(parent, []) if canon == key), None)
        if found is None:
            break
        parent, matched = found, matched + 1
    return Placement(conv, parent, parent is None, sent[matched:])


def _stored(role: str, parts: str) -> Message:
    data: list[dict[str, Any]] = json.loads(parts)
    return Message(role=role, parts=[part_from_dict(p) for p in data])  # type: ignore[arg-type]
