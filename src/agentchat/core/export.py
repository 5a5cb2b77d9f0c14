"""Conversation export: Markdown for people, JSON (every branch, every part) for machines."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from agentchat.core.messages import (
    Message,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
    message_to_dict,
)


def to_json(info: Any, messages: list[Message]) -> str:
    return json.dumps(
        {"conversation": asdict(info), "messages": [message_to_dict(m) for m in messages]},
        ensure_ascii=False,
        indent=2,
    )


def message_markdown(message: Message) -> str:
    """One message as Markdown; tool calls and results as fenced blocks so nothing is hidden."""
    out: list[str] = []
    for part in message.parts:
        if isinstance(part, TextPart):
            out.append(part.text)
        elif isinstance(part, ThinkingPart):
            if part.text:
                out.append("> thinking: " + part.text.replace("\n", "\n> "))
        elif isinstance(part, ToolCallPart):
            out.append(
                f"tool call `{part.name}`\n```json\n{json.dumps(part.arguments, ensure_ascii=False, indent=2)}\n```"
            )
        elif isinstance(part, ToolResultPart):
            label = "tool error" if part.is_error else "tool result"
            out.append(f"{label} `{part.name or part.call_id}`\n```\n{part.content}\n```")
    if message.error:
        out.append(f"*error: {message.error}*")
    return "\n\n".join(out)


def heading(message: Message) -> str:
    if message.role == "assistant":
        label = f"assistant · {message.provider}/{message.model}"
        if message.status != "complete":
            label += f" · {message.status}"
        return label
    return message.role


def to_markdown(title: str, messages: list[Message], system: str | None = None) -> str:
    blocks = [f"# {title}"]
    if system:
        blocks.append(f"## system\n\n{system}")
    for message in messages:
        blocks.append(f"## {heading(message)}\n\n{message_markdown(message)}")
    return "\n\n".join(blocks) + "\n"
