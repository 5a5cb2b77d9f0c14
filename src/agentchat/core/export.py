"""Conversation export: Markdown for people, JSON (every branch, every part) for machines.

Attachments: Markdown lists each one (name, type, size) where it was attached. JSON keeps each
message's attachment parts as stored (name, type, size, hash) and adds one top-level
`attachments` object with the bytes, base64, once per content hash, as the store keeps them: the
export stays one self-contained file that a pipe can carry."""

from __future__ import annotations

import base64
import json
from dataclasses import asdict
from typing import Any

from agentchat.core.messages import (
    AttachmentPart,
    Message,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
    message_to_dict,
)


def to_json(info: Any, messages: list[Message]) -> str:
    """`messages` with their attachments' bytes loaded (Store.all_messages loads them)."""
    document: dict[str, Any] = {
        "conversation": asdict(info),
        "messages": [message_to_dict(m) for m in messages],
    }
    blobs = attachment_blobs(messages)
    if blobs:
        document["attachments"] = blobs
    return json.dumps(document, ensure_ascii=False, indent=2)


def attachment_blobs(messages: list[Message]) -> dict[str, dict[str, Any]]:
    """hash -> {media_type, size, base64}; a blob missing from the store has `base64: null`."""
    blobs: dict[str, dict[str, Any]] = {}
    for message in messages:
        for part in message.attachments:
            if part.hash not in blobs or blobs[part.hash]["base64"] is None:
                data = None if part.data is None else base64.b64encode(part.data).decode("ascii")
                blobs[part.hash] = {"media_type": part.media_type, "size": part.size, "base64": data}
    return blobs


def attachment_line(part: AttachmentPart) -> str:
    """How a listing names an attachment: `report.pdf (application/pdf, 1.2 MB, 20 pages)`."""
    from agentchat.core.intake import size_text

    facts = [part.media_type, size_text(part.size)]
    if part.width and part.height:
        facts.append(f"{part.width}x{part.height}")
    if part.pages:
        facts.append(f"{part.pages} page{'s' if part.pages != 1 else ''}")
    return f"{part.name} ({', '.join(facts)})"


def message_markdown(message: Message) -> str:
    """One message as Markdown; tool calls and results as fenced blocks so nothing is hidden."""
    out: list[str] = []
    attached = [f"- {attachment_line(p)}" for p in message.attachments]
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
    if attached:
        out.append("attached:\n" + "\n".join(attached))
    if message.error:
        out.append(f"*error: {message.error}*")
    return "\n\n".join(out)


def heading(message: Message) -> str:
    if message.role == "assistant":
        label = f"assistant · {'/'.join(filter(None, (message.provider, message.model)))}"
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
