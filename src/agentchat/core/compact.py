"""Compaction: a conversation's older turns summarised by a model into a summary that roots a NEW
branch, so a conversation that outgrew its window goes on while the original stays in the store
(searchable, exportable, and reachable as the branch it was).

Two callers share it: the engine fitting a request that does not fit (core/context.py) and
`compact_conversation`, compaction on demand (`ask -c --compact [FOCUS]`, the TUI's action, and a
later `/compact`). The summary is a system message at the new root, which every adapter already
sends with the system prompt; the turns kept verbatim are copied below it, without their token
counts and costs (they were counted once, on the original branch).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agentchat.core.attachments import fragment
from agentchat.core.errors import AgentchatError, ProviderError, UsageError
from agentchat.core.events import Event, Notice, TextDelta, UsageReport
from agentchat.core.messages import AttachmentPart, Message, TextPart, ToolCallPart, ToolResultPart
from agentchat.core.request import ChatRequest
from agentchat.core.tokens import estimate, request_tokens

if TYPE_CHECKING:
    from agentchat.core.context import Fitting
    from agentchat.core.engine import Engine
    from agentchat.core.routing import Route
    from agentchat.core.store import Store

SUMMARY_HEADER = (
    "Summary of the earlier conversation (compacted by agentchat; the full conversation stays in "
    "the history):"
)
SUMMARY_SYSTEM = (
    "You compact a conversation so that it can go on in a smaller context window. Summarise the "
    "transcript the user sends: keep every fact, decision, name, number, file path, code "
    "identifier, open question, and the user's goals and preferences; drop greetings and "
    "repetition. Write in the conversation's language. Reply with the summary only."
)
KEEP_SHARE = 0.5  # the newest turns kept verbatim fill at most half the room: the rest is summary
SUMMARY_SHARE = 0.25  # a summary gets at most a quarter of the room (the summariser needs the rest)
MAX_SUMMARY_TOKENS = 2_000
MIN_SUMMARY_TOKENS = 64


class CompactionFailed(AgentchatError):
    """Compaction could not run (nothing older, no room, the model failed): the engine truncates
    instead; compaction on demand reports it with the exit code of what failed (`failed_by`)."""

    exit_code = UsageError.exit_code  # nothing to summarise, or it does not fit: the user's choice


class EmptySummary(CompactionFailed):
    exit_code = 4  # as an empty reply to `ask`


_FAILED_AS: dict[type[AgentchatError], type[CompactionFailed]] = {}


def failed_by(exc: AgentchatError, message: str) -> CompactionFailed:
    """The failure `exc` caused, said as `message`, as a CompactionFailed that is also `exc`'s
    class: a missing key stays an AuthError (exit 3, the TUI's key heading), Ollama not running a
    network error (exit 5), a refused request a BadRequestError (exit 2)."""
    cause = type(exc)
    if cause not in _FAILED_AS:
        attrs = {"exit_code": cause.exit_code, "__module__": __name__}
        _FAILED_AS[cause] = type(f"CompactionFailed{cause.__name__}", (CompactionFailed, cause), attrs)
    return _FAILED_AS[cause](message)


@dataclass(slots=True)
class Compaction:
    """What compaction on demand did, for the face to report."""

    conversation_id: int
    root_id: int  # the new branch's root: the summary
    leaf_id: int  # its tip (the root when nothing was kept)
    summary: str
    turns: int  # how many turns the summary stands for
    tokens_before: int
    tokens_after: int
    model: str  # the model that summarised
    window: int | None  # the conversation's model's context window, when known


def _line(message: Message) -> str:
    """One message of the transcript the summariser reads: every text it held, tools included."""
    pieces: list[str] = []
    for part in message.parts:
        if isinstance(part, TextPart) and part.text:
            pieces.append(part.text)
        elif isinstance(part, ToolCallPart):
            pieces.append(f"[tool call {part.name}({json.dumps(part.arguments, ensure_ascii=False)})]")
        elif isinstance(part, ToolResultPart):
            pieces.append(f"[tool result{' (error)' if part.is_error else ''}: {part.content}]")
        elif isinstance(part, AttachmentPart):
            text = fragment(part) if part.kind == "text" else f"[{part.kind} attachment {part.name}]"
            pieces.append(text)
    role = {"user": "User", "assistant": "Assistant", "tool": "Tool", "system": "Earlier summary"}[
        message.role
    ]
    return f"{role}: " + "\n".join(pieces) if pieces else ""


def _starts_turn(message: Message) -> bool:
    """Where a transcript may begin: a summary or a typed prompt (never a reply without its question)."""
    return message.role == "system" or (message.role == "user" and not message.tool_results)


def _transcript_request(model: str, lines: list[str], focus: str | None, limit: int) -> ChatRequest:
    ask = "Summarise this conversation." + (f" Focus on: {focus}" if focus else "")
    text = "<transcript>\n" + "\n\n".join(line for line in lines if line) + f"\n</transcript>\n\n{ask}"
    return ChatRequest(model=model, messages=[Message.user(text)], system=SUMMARY_SYSTEM, max_tokens=limit)


async def summarise(
    engine: Engine, route: Route, messages: list[Message], focus: str | None, limit: int
) -> tuple[str, Message, int]:
    """(summary, the call's record, how many messages it covers). The oldest messages that do not
    fit the summarising model's window are left out of the transcript (the newest matter most)."""
    from agentchat.core.context import reply_reserve

    try:
        caps = await engine.capabilities(route)
    except ProviderError as exc:
        raise failed_by(exc, str(exc)) from None
    lines = [_line(m) for m in messages]
    start = 0
    if caps.context_window is not None:
        room = caps.context_window - reply_reserve(caps.context_window, caps.max_output_tokens, limit)
        sizes = [estimate(line) + 2 for line in lines]
        fixed = request_tokens(_transcript_request(route.model, [], focus, limit))
        while start < len(lines) and (fixed + sum(sizes[start:]) > room or not _starts_turn(messages[start])):
            start += 1
    if not any(lines[start:]):
        raise CompactionFailed(f"the turns to summarise do not fit {route.model}'s window")
    request = _transcript_request(route.model, lines[start:], focus, limit)
    record = Message(role="system", provider=route.provider, model=route.model)
    provider = engine.provider_for(route.settings)
    pieces: list[str] = []
    try:
        await engine._prepare(provider, route.settings)
        async for event in provider.stream(request):
            if isinstance(event, TextDelta):
                pieces.append(event.text)
            elif isinstance(event, UsageReport):
                record.usage = record.usage.merge(event.usage)
    except ProviderError as exc:
        raise failed_by(exc, f"{route.provider}/{route.model}: {exc}") from None
    summary = "".join(pieces).strip()
    if not summary:
        raise EmptySummary(f"{route.model} returned an empty summary")
    from agentchat.core.pricing import reply_cost

    record.cost = reply_cost(record, engine.config.pricing)  # kept on the summary, for the record
    return summary, record, len(messages) - start


def write_branch(
    store: Store, conv_id: int, summary: str, record: Message, kept: list[Message]
) -> list[Message]:
    """The new branch: the summary at its root, then copies of `kept` (as stored: attachments by
    reference, metrics left out). Returns the stored messages, root first."""
    root = dataclasses.replace(record, parts=[TextPart(f"{SUMMARY_HEADER}\n\n{summary}")], parent_id=None)
    parent = store.add_message(conv_id, root)
    branch = [root]
    for message in kept:
        stored = store.get_message(message.id) if message.id is not None else None
        source = stored or message
        copy = Message(
            role=source.role,
            parts=list(source.parts),
            parent_id=parent,
            provider=source.provider,
            model=source.model,
            status=source.status,
            finish_reason=source.finish_reason,
            error=source.error,
        )
        parent = store.add_message(conv_id, copy)
        branch.append(copy)
    return branch


async def compaction_route(engine: Engine, default: Route) -> Route:
    """`[context] compact_model` (its own provider and window), else the conversation's route."""
    name = engine.config.context.compact_model
    return await engine.router.resolve(name) if name else default


def _limit(room: float) -> int:
    return int(max(MIN_SUMMARY_TOKENS, min(MAX_SUMMARY_TOKENS, room)))


async def compact_for_request(
    fitting: Fitting, pinned: list[Message], turns: list[list[Message]], room: float
) -> AsyncGenerator[Event, None]:
    """The engine's `compact` strategy: the newest turns that fill half the room are kept, the
    rest (and any earlier summary) summarised; the request continues on the new branch."""
    from agentchat.core.context import newest_fitting

    keep = max(newest_fitting(turns, room * KEEP_SHARE, fitting._size), 1)
    older = pinned + [m for t in turns[:-keep] for m in t]
    kept = [m for t in turns[-keep:] for m in t]
    if not turns[:-keep]:
        raise CompactionFailed("no older turn to summarise")
    limit = _limit(min(room * SUMMARY_SHARE, (room - fitting._size(kept)) * 0.8))
    if limit > room - fitting._size(kept):
        raise CompactionFailed("the newest turn leaves no room for a summary")
    route = await compaction_route(fitting.engine, fitting.route)
    yield Notice(
        f"context: the conversation exceeds {fitting.route.model}'s {fitting.window:,}-token window; "
        f"compacting its {len(turns) - keep} older turn(s) with {route.model}"
    )
    summary, record, covered = await summarise(fitting.engine, route, older, None, limit)
    store = fitting.engine.store
    branch = write_branch(store, fitting.conv_id, summary, record, kept)
    # What is sent keeps the request's own forms of the kept messages (attachments as this model takes them).
    fitting.request = dataclasses.replace(fitting.request, messages=[branch[0], *kept])
    fitting.parent = branch[-1].id
    left_out = (
        f"; its {len(older) - covered} oldest message(s) did not fit {route.model} and are not in it"
        if covered < len(older)
        else ""
    )
    yield Notice(
        f"context: summarised {len(turns) - keep} turn(s) into {estimate(summary):,} tokens{left_out}; "
        f"continuing on a new branch (the original stays in conversation {fitting.conv_id})"
    )


async def compact_conversation(
    engine: Engine,
    conv_id: int,
    focus: str | None = None,
    *,
    model: str | None = None,
    provider: str | None = None,
) -> Compaction:
    """Compaction on demand: every turn of the conversation's current branch summarised (with
    `focus`, if given) into the root of a new branch, which the conversation continues from."""
    store = engine.store
    info = store.conversation(conv_id)
    leaf = store.leaf(conv_id) if info is not None else None
    if info is None or leaf is None:
        raise UsageError(f"conversation {conv_id} has nothing to compact")
    history = store.thread(leaf)
    store.load_attachments(history)
    chosen = bool(model or provider)  # as a turn: either flag picks anew, else the conversation's
    if not chosen:
        model, provider = info.model, info.provider
    route = await engine.router.resolve(model, provider)
    summarising = route if chosen else await compaction_route(engine, route)
    before = request_tokens(ChatRequest(model=route.model, messages=history, system=info.system))
    summary, record, covered = await summarise(engine, summarising, history, focus, MAX_SUMMARY_TOKENS)
    branch = write_branch(store, conv_id, summary, record, [])
    from agentchat.core.context import split_turns

    after = request_tokens(ChatRequest(model=route.model, messages=branch, system=info.system))
    try:
        window = (await engine.capabilities(route)).context_window
    except ProviderError:
        window = None
    root = branch[0].id
    assert root is not None
    return Compaction(
        conv_id,
        root,
        root,
        summary,
        len(split_turns(history[-covered:])[1]),
        before,
        after,
        summarising.model,
        window,
    )
