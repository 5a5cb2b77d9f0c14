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


AttachmentKind = Literal["text", "image", "pdf"]


@dataclass(slots=True)
class AttachmentPart:
    """A file, URL or stdin given with a prompt. Only this description is stored with the message:
    the bytes live once in the store's blob table under `hash` (sha256), so a conversation that
    moves to another provider re-sends them in that provider's format, and the same file attached
    twice costs its bytes once.

    `kind` says how a provider sends it: "text" as a fragment wrapped with its name, "image" natively
    (or not at all to a model without vision), "pdf" natively where the model reads PDFs, else as its
    extracted text. `data` and `extracted` (a PDF's text) are filled from the store when a request is
    built and never stored in the message itself."""

    kind: AttachmentKind
    media_type: str
    name: str  # the path as given, a URL, or "stdin"
    size: int  # bytes of the stored content
    hash: str  # sha256 hex of the stored content: the blob's key
    width: int | None = None  # images
    height: int | None = None
    pages: int | None = None  # PDFs
    data: bytes | None = field(default=None, repr=False, compare=False)
    extracted: str | None = field(default=None, repr=False, compare=False)
    type: Literal["attachment"] = "attachment"


Part = TextPart | ThinkingPart | ToolCallPart | ToolResultPart | AttachmentPart

_PART_TYPES: dict[str, type] = {
    "text": TextPart,
    "thinking": ThinkingPart,
    "tool_call": ToolCallPart,
    "tool_result": ToolResultPart,
    "attachment": AttachmentPart,
}
_TRANSIENT = ("data", "extracted")  # an attachment's content: in the blob table, not the message


def part_to_dict(part: Part) -> dict[str, Any]:
    data = asdict(part)
    if isinstance(part, AttachmentPart):
        for name in _TRANSIENT:
            del data[name]
    return data


def part_from_dict(data: dict[str, Any]) -> Part:
    kind = data.get("type")
    cls = _PART_TYPES.get(kind or "")
    if cls is None:
        raise ValueError(f"unknown message part type: {kind!r}")
    return cls(**{k: v for k, v in data.items() if k != "type" and k not in _TRANSIENT})


@dataclass(slots=True)
class Usage:
    """Token counts; None means the provider did not report it (never a made-up zero)."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int | None = None  # prompt-cache reads, part of input_tokens
    reasoning_tokens: int | None = None
    cache_write_tokens: int | None = None  # prompt-cache writes (Anthropic), part of input_tokens

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
    saved_usd: float | None = None  # what prompt caching saved on this reply (core/caching.py)
    ttft_s: float | None = None
    total_s: float | None = None
    created_at: float | None = None
    schema: dict[str, Any] | None = None  # the JSON Schema the reply was asked to follow (ask --schema)

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

    @property
    def attachments(self) -> list[AttachmentPart]:
        return [p for p in self.parts if isinstance(p, AttachmentPart)]

    @classmethod
    def user(cls, text: str, attachments: list[AttachmentPart] | None = None) -> Message:
        """The typed text first (it titles the conversation), then the attachments."""
        parts: list[Part] = [TextPart(text)] if text or not attachments else []
        return cls(role="user", parts=[*parts, *(attachments or [])])

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
