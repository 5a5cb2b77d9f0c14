"""Rows of the history database and what they become: conversation info, search hits, usage records,
messages, and the columns a message is written to (its snapshot)."""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass
from typing import Any

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
    cache_write_tokens: int | None = None
    saved_usd: float | None = None  # what prompt caching saved (core/caching.py)


MESSAGE_COLUMNS = (
    "id, conversation_id, parent_id, role, parts, provider, model, status, finish_reason, error, "
    "input_tokens, output_tokens, cached_tokens, reasoning_tokens, cost, ttft_s, total_s, created_at, "
    "response_schema, cache_write_tokens, saved_usd"
)
# The stored title, and for untitled conversations the start of the first user message (derived, not stored).
TITLE_COLUMNS = """c.title, CASE WHEN c.title IS NULL THEN (
    SELECT substr(json_extract(f.parts, '$[0].text'), 1, 200) FROM messages f
    WHERE f.conversation_id = c.id AND f.role = 'user' ORDER BY f.created_at, f.id LIMIT 1) END"""
INFO_SELECT = f"""SELECT c.id, {TITLE_COLUMNS}, c.agent, c.created_at, c.updated_at, c.message_count,
    a.provider, a.model, c.system
FROM conversations c LEFT JOIN messages a ON a.id = (
    SELECT l.id FROM messages l WHERE l.conversation_id = c.id AND l.role = 'assistant'
    ORDER BY l.created_at DESC, l.id DESC LIMIT 1)"""


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
    return Snapshot(message.id, updatable_values(message), search_text(message))


# Columns that update_message rewrites (and add_message sets), in updatable_values order.
UPDATABLE_FIELDS = (
    "parts", "provider", "model", "status", "finish_reason", "error", "input_tokens", "output_tokens",
    "cached_tokens", "reasoning_tokens", "cost", "ttft_s", "total_s", "response_schema",
    "cache_write_tokens", "saved_usd",
)  # fmt: skip
UPDATABLE = ", ".join(UPDATABLE_FIELDS)


def updatable_values(message: Message) -> tuple[Any, ...]:
    """The columns as stored. Text is UTF-8 in SQLite, which has no bytes for a lone surrogate
    (a model's JSON can carry an escaped one): those become U+FFFD, so a reply is never lost for one."""
    u = message.usage
    parts = json.dumps([part_to_dict(p) for p in message.parts], ensure_ascii=False, separators=(",", ":"))
    return (
        encodable(parts), message.provider, message.model, message.status, message.finish_reason,
        encodable(message.error) if message.error else None,
        u.input_tokens, u.output_tokens, u.cached_tokens, u.reasoning_tokens,
        message.cost, message.ttft_s, message.total_s,
        None if message.schema is None else json.dumps(message.schema, ensure_ascii=False),
        u.cache_write_tokens, message.saved_usd,
    )  # fmt: skip


def message_from_row(row: tuple[Any, ...]) -> Message:
    (mid, cid, parent, role, parts, provider, model, status, finish, error,
     inp, out, cached, reasoning, cost, ttft, total, created, schema, written, saved) = row  # fmt: skip
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
        usage=Usage(inp, out, cached, reasoning, written),
        cost=cost,
        saved_usd=saved,
        ttft_s=ttft,
        total_s=total,
        created_at=created,
        schema=None if schema is None else json.loads(schema),
    )


def info_from_row(row: tuple[Any, ...]) -> ConversationInfo:
    cid, title, first, agent, created, updated, count, provider, model, system = row
    return ConversationInfo(
        cid, display_title(title, first), agent, created, updated, count, provider, model, system
    )


def display_title(title: str | None, first_user_text: str | None) -> str | None:
    if title is not None or not first_user_text:
        return title
    text = " ".join(first_user_text.split())
    return text if len(text) <= TITLE_CHARS else text[:TITLE_CHARS].rstrip() + "…"


def search_text(message: Message) -> str:
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


def fts_query(text: str) -> str | None:
    """Each word becomes a quoted phrase (all must match); a trailing `*` keeps prefix search.
    Unquotable characters split words, as the tokenizer splits stored text at them."""
    terms = []
    for word in _UNQUOTABLE.sub(" ", text).split():
        prefix = word.endswith("*")
        word = word.rstrip("*")
        if word:
            terms.append('"' + word.replace('"', '""') + '"' + ("*" if prefix else ""))
    return " ".join(terms) or None
