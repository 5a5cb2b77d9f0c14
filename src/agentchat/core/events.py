"""Stream events: plain dataclasses that adapters yield and faces consume.

Adapters yield TextDelta, ThinkingDelta, ToolCall, UsageReport and Finish. The engine adds the
rest (tool activity, retries, failover, stored message ids) so a face never parses provider output.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agentchat.core.messages import AttachmentPart, Message, ToolCallPart, ToolResultPart, Usage


@dataclass(slots=True)
class TextDelta:
    text: str


@dataclass(slots=True)
class ThinkingDelta:
    text: str = ""
    signature: str | None = None
    redacted: str | None = None


@dataclass(slots=True)
class ToolCall:
    """A complete tool call, emitted once its arguments have fully streamed."""

    call: ToolCallPart


@dataclass(slots=True)
class UsageReport:
    usage: Usage


@dataclass(slots=True)
class Finish:
    """The provider's finish reason, normalised: stop, length, tool_calls, content_filter or other."""

    reason: str | None


ProviderEvent = TextDelta | ThinkingDelta | ToolCall | UsageReport | Finish


# --- events the engine adds -------------------------------------------------------------------


@dataclass(slots=True)
class TurnStarted:
    """The turn's ids and route, and the user's message as stored (None when regenerating), so a
    face never reads the store back during a turn."""

    conversation_id: int
    user_message_id: int | None
    provider: str
    model: str
    user_message: Message | None = None


@dataclass(slots=True)
class AssistantStarted:
    message_id: int
    provider: str
    model: str


@dataclass(slots=True)
class Notice:
    """Something the user should see once (failover, retry, local fallback); stderr in `ask`."""

    text: str
    kind: str = "info"


@dataclass(slots=True)
class ContextMeasured:
    """How full the model's context window is with the request about to be sent (the meter).
    `window` None: the model's window is unknown. `parent_id`: where the reply will hang;
    `new_branch`: on a branch the conversation was just compacted into, which a face shows
    instead of the one the prompt was typed on."""

    tokens: int
    window: int | None
    parent_id: int | None = None
    new_branch: bool = False


@dataclass(slots=True)
class Retrying:
    attempt: int
    delay_s: float
    reason: str


@dataclass(slots=True)
class ToolStarted:
    call: ToolCallPart


@dataclass(slots=True)
class ToolProgress:
    """A running tool's progress report (an MCP server's notifications/progress)."""

    call: ToolCallPart
    progress: float
    total: float | None = None
    message: str | None = None


@dataclass(slots=True)
class ToolFinished:
    call: ToolCallPart
    result: ToolResultPart
    status: str  # done | failed | denied
    duration_s: float
    attachments: list[AttachmentPart] = field(default_factory=list)  # images the tool returned


@dataclass(slots=True)
class AssistantFinished:
    """One assistant message is final (a turn may hold several when tools loop)."""

    message_id: int
    provider: str
    model: str
    status: str
    finish_reason: str | None
    usage: Usage = field(default_factory=Usage)
    cost: float | None = None
    ttft_s: float | None = None
    total_s: float | None = None
    # Set when the history database could not take the reply (locked past every retry, disk
    # full): one line saying so and where the reply was kept instead. The turn ends there.
    store_error: str | None = None
    message: Message | None = None  # the reply as stored (the engine always sets it)
    max_tokens: int | None = None  # the output limit it was held to, when known (core/output_limit.py)


EngineEvent = (
    TurnStarted
    | AssistantStarted
    | Notice
    | ContextMeasured
    | Retrying
    | ToolStarted
    | ToolProgress
    | ToolFinished
    | AssistantFinished
)
Event = ProviderEvent | EngineEvent
