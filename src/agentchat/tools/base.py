"""What a tool is, shared by built-ins, MCP servers and plugins.

A tool is data (the spec the model sees, where it came from, how cautious to be) plus one async
callable. Failure is signalled by raising; the registry turns every failure into a result the
model can read, so a tool never has to format its own errors.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from agentchat.core.messages import AttachmentPart
from agentchat.core.request import POLICIES, Policy, ToolSpec

# The strictest provider rule (OpenAI's); Anthropic and Ollama accept every name that passes it.
MAX_NAME = 64
_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_INVALID_CHARS = re.compile(r"[^A-Za-z0-9_-]")


class ToolError(Exception):
    """A failure whose message is meant for the model verbatim (no exception class name added)."""


def is_valid_name(name: str) -> bool:
    return _NAME_RE.fullmatch(name) is not None


def sanitize_name(raw: str) -> str:
    """Map any string to a valid tool name; long names keep a hash suffix so they stay distinct."""
    name = _INVALID_CHARS.sub("_", raw) or "tool"
    if len(name) > MAX_NAME:
        digest = hashlib.sha1(raw.encode()).hexdigest()[:8]
        name = f"{name[: MAX_NAME - 9]}_{digest}"
    return name


@dataclass(slots=True)
class ToolOutput:
    """What a tool returns when it has more than text: images (an MCP tool's screenshot) go to the
    model beside the text result, natively to a vision model and as a note to any other."""

    text: str
    attachments: list[AttachmentPart] = field(default_factory=list)


@dataclass(slots=True)
class Tool:
    """One callable tool.

    `run(arguments)` returns the text the model reads (or a ToolOutput) and raises to signal failure.
    `source` is "built-in", "mcp:<server>" or "plugin:<distribution>".
    `caution` is what the user should know before approving a call (e.g. that run_shell is not
    confined to the workspace); every face shows it with the approval question, so the warning is
    written once, next to the tool, and is true of the tool as configured.
    """

    spec: ToolSpec
    run: Callable[[dict[str, Any]], Awaitable[str | ToolOutput]]
    source: str = "built-in"
    default_policy: Policy = "ask"
    timeout_s: float = 60.0
    caution: str = ""

    def __post_init__(self) -> None:
        if not is_valid_name(self.spec.name):
            raise ValueError(f"invalid tool name {self.spec.name!r}: use 1-64 of A-Z a-z 0-9 _ -")
        if self.default_policy not in POLICIES:
            raise ValueError(f"tool {self.spec.name}: default_policy must be one of {', '.join(POLICIES)}")

    @property
    def name(self) -> str:
        return self.spec.name


def describe_error(exc: BaseException) -> str:
    """The message a reader needs: the first real error inside task-group wrappers, a ToolError as is."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, ToolError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
