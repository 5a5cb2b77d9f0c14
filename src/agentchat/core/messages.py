"""The unified, provider-neutral message model: the only format that is stored.

Provider adapters convert to and from their wire formats at the edge. Data a provider needs back
(Anthropic thinking signatures, tool-call ids) lives in these parts, never in provider blobs.
"""

from __future__ import annotations

from dataclasses import asdict, astuple, dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]
Status = Literal["complete", "streaming", "interrupted", "error", "empty"]  # empty: no text, no tool call


@dataclass(slots=True)
class TextPart:
    text: str
    type: Literal["text"] = "text"


@dataclass(slots=True)
class ThinkingPart:
    """Model reasoning. `signature` (Anthropic) must be sent back unchanged before tool calls;
    `redacted` holds the opaque data of an Anthropic `redacted_thinking` block."""

    text: str
    signature: str | None = None
    redacted: str | None = None
    type: Literal["thinking"] = "thinking"


@dataclass(slots=True)
class ToolCallPart:
    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    type: Literal["tool_call"] = "tool_call"


@dataclass(slots=True)
class ToolResultPart:
    """The output of one tool call; `name` repeats the tool's name because Ollama matches by name.
    `status` (done, failed, denied) and `duration_s` are for people reading the history; providers
    see `is_error`."""

    call_id: str
    content: str
    is_error: bool = False
    name: str | None = None
    status: str | None = None
    duration_s: float | None = None
    type: Literal["tool_result"] = "tool_result"


Part = TextPart | ThinkingPart | ToolCallPart | ToolResultPart

_PART_TYPES: dict[str, type] = {
    "text": TextPart,
    "thinking": ThinkingPart,
    "tool_call": ToolCallPart,
    "tool_result": ToolResultPart,
}


def part_to_dict(part: Part) -> dict[str, Any]:
    return asdict(part)


def part_from_dict(data: dict[str, Any]) -> Part:
    kind = data.get("type")
    cls = _PART_TYPES.get(kind or "")
    if cls is None:
        raise ValueError(f"unknown message part type: {kind!r}")
    return cls(**{k: v for k, v in data.items() if k != "type"})


@dataclass(slots=True)
class Usage:
    """Token counts; None means the provider did not report it (never a made-up zero)."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int | None = None
    reasoning_tokens: int | None = None

    def merge(self, other: Usage) -> Usage:
        """Later reports win field by field, but never erase a known value with an unknown one."""
        return Usage(*(b if b is not None else a for a, b in zip(astuple(self), astuple(other), strict=True)))


@dataclass(slots=True)
class Message:
    """One message of a conversation. Metadata fields are set for assistant messages."""

    role: Role
    parts: list[Part] = field(default_factory=list)
    id: int | None = None
    parent_id: int | None = None
    conversation_id: int | None = None
    provider: str | None = None
    model: str | None = None
    status: Status = "complete"
    finish_reason: str | None = None
    error: str | None = None
    usage: Usage = field(default_factory=Usage)
    cost: float | None = None
    ttft_s: float | None = None
    total_s: float | None = None
    created_at: float | None = None

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.parts if isinstance(p, TextPart))

    @property
    def thinking(self) -> str:
        return "".join(p.text for p in self.parts if isinstance(p, ThinkingPart))

    @property
    def tool_calls(self) -> list[ToolCallPart]:
        return [p for p in self.parts if isinstance(p, ToolCallPart)]

    @property
    def tool_results(self) -> list[ToolResultPart]:
        return [p for p in self.parts if isinstance(p, ToolResultPart)]

    @classmethod
    def user(cls, text: str) -> Message:
        return cls(role="user", parts=[TextPart(text)])

    @classmethod
    def system(cls, text: str) -> Message:
        return cls(role="system", parts=[TextPart(text)])


def message_to_dict(message: Message) -> dict[str, Any]:
    """Every field, parts and usage as plain data (JSON export, recovery files)."""
    data = asdict(message)
    data["parts"] = [part_to_dict(p) for p in message.parts]
    return data


def message_from_dict(data: dict[str, Any]) -> Message:
    """The inverse of `message_to_dict`."""
    fields = dict(data)
    fields["parts"] = [part_from_dict(p) for p in data.get("parts", [])]
    fields["usage"] = Usage(**(data.get("usage") or {}))
    return Message(**fields)
