"""What a face asks of the engine (a TurnRequest), and how a streamed reply is folded into parts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentchat.core.events import Event, Finish, TextDelta, ThinkingDelta, ToolCall, UsageReport
from agentchat.core.messages import AttachmentPart, Message, TextPart, ThinkingPart, Usage
from agentchat.core.request import ToolSpec

if TYPE_CHECKING:
    from agentchat.core.store import Store

DEFAULT_MAX_STEPS = 8


@dataclass(slots=True)
class TurnRequest:
    """What a face asks for. `prompt=None` regenerates from `parent_id` (or resumes with `resume`)."""

    prompt: str | None
    conversation_id: int | None = None
    parent_id: int | None = None  # branch point; default: the conversation's newest message
    from_root: bool = False  # the prompt starts a new root branch (the first message was edited)
    model: str | None = None
    provider: str | None = None
    system: str | None = None
    agent: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    max_steps: int = DEFAULT_MAX_STEPS
    stream: bool = True
    fallbacks: list[str] = field(default_factory=list)
    tool_names: list[str] | None = None  # None: every tool the registry offers
    max_cost: float | None = None  # refuse a request whose estimated cost exceeds this (USD)
    thinking_budget: int | None = None  # extended thinking (Anthropic budget tokens; Ollama `think`)
    attachments: list[AttachmentPart] = field(default_factory=list)  # core.intake read them, with bytes
    schema: dict[str, Any] | None = None  # the reply must be JSON matching it (core.structured)
    # The gateway's client sends its whole history: the messages the store lacks are stored under
    # the branch point before the prompt (gateway/threads.py decides which those are).
    history: list[Message] = field(default_factory=list)
    # Tools the client runs itself (the gateway): offered as given; a reply calling one ends the
    # turn, its calls returned to the client, never run here.
    client_tools: list[ToolSpec] = field(default_factory=list)


def store_prompt(
    store: Store, conv_id: int, parent: int | None, turn: TurnRequest
) -> tuple[int | None, Message | None]:
    """Commit the turn's new messages before any request: a client's history the store lacks, then
    the prompt, each under the one before. The new branch tip and the user's message (if any)."""
    user: Message | None = None
    new = list(turn.history)
    if turn.prompt is not None:
        new.append(Message.user(turn.prompt, turn.attachments))
    for message in new:
        message.parent_id = parent
        parent = store.add_message(conv_id, message)
        user = message if message.role == "user" else user
    return parent, user


class ReplyBuilder:
    """Folds provider events into message parts, so the partial reply can be stored at any moment."""

    def __init__(self, message: Message) -> None:
        self.message = message

    def add(self, event: Event) -> None:
        parts = self.message.parts
        last = parts[-1] if parts else None
        if isinstance(event, TextDelta):
            if isinstance(last, TextPart):
                last.text += event.text
            else:
                parts.append(TextPart(event.text))
        elif isinstance(event, ThinkingDelta):
            if event.redacted is not None:
                parts.append(ThinkingPart("", redacted=event.redacted))
                return
            if not (isinstance(last, ThinkingPart) and last.redacted is None and last.signature is None):
                last = ThinkingPart("")
                parts.append(last)
            last.text += event.text
            if event.signature:
                last.signature = event.signature
        elif isinstance(event, ToolCall):
            parts.append(event.call)
        elif isinstance(event, UsageReport):
            self.message.usage = self.message.usage.merge(event.usage)
        elif isinstance(event, Finish):
            self.message.finish_reason = event.reason


def total_usage(usages: list[Usage]) -> Usage:
    """Sum token counts over a turn's requests; a count unknown for every request stays unknown."""
    sums: dict[str, int | None] = {}
    for name in Usage.__dataclass_fields__:
        known = [getattr(u, name) for u in usages if getattr(u, name) is not None]
        sums[name] = sum(known) if known else None
    return Usage(**sums)
