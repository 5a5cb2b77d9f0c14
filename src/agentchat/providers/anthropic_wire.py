"""Neutral history -> the Anthropic Messages wire format (content blocks, alternating turns).

What the Messages format cannot carry is dropped deliberately on the way out: thinking without a
signature (written by another provider; the API would reject it), thinking in non-assistant turns,
and empty or whitespace-only text (the API rejects empty text blocks).

Attachments: text fragments are text blocks, images `image` blocks and PDFs `document` blocks,
both with a base64 source; in a user turn they come before the user's own text, as Anthropic
recommends for images and long documents.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

from agentchat.core.attachments import user_segments
from agentchat.core.images import ImageLimits, fit
from agentchat.core.messages import (
    AttachmentPart,
    Message,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
)
from agentchat.core.request import ToolSpec

_VALID_ID = re.compile(r"^[a-zA-Z0-9_-]+$")
# The vision docs: a long edge over 1568 px is scaled down by the API anyway (slower, no better);
# at most 5 MB per image, which base64 reaches at 3.75 MB of bytes.
IMAGE_LIMITS = ImageLimits(max_edge=1568, max_bytes=3_750_000)
_THINKING_BLOCKS = ("thinking", "redacted_thinking")


def wire_id(call_id: str) -> str:
    """A tool-call id the API accepts (`^[a-zA-Z0-9_-]+$`).

    Ids from other providers may hold other characters; the replacement is deterministic, so a
    tool_use and its tool_result still match, and carries a hash so distinct ids stay distinct.
    """
    if _VALID_ID.match(call_id):
        return call_id
    digest = hashlib.sha256(call_id.encode()).hexdigest()[:8]
    return f"{re.sub(r'[^a-zA-Z0-9_-]', '_', call_id) or 'call'}_{digest}"


def _blocks(msg: Message) -> list[dict[str, Any]]:
    """One neutral message -> content blocks, in the order the parts were received."""
    if msg.role == "user" and msg.attachments:
        return [_segment_block(s) for s in user_segments(msg) if not isinstance(s, str) or s.strip()]
    blocks: list[dict[str, Any]] = []
    for part in msg.parts:
        if isinstance(part, TextPart):
            if part.text.strip():
                blocks.append({"type": "text", "text": part.text})
        elif isinstance(part, ThinkingPart):
            if msg.role != "assistant":
                continue
            if part.redacted:
                blocks.append({"type": "redacted_thinking", "data": part.redacted})
            elif part.signature:
                blocks.append({"type": "thinking", "thinking": part.text, "signature": part.signature})
        elif isinstance(part, ToolCallPart):
            blocks.append(
                {"type": "tool_use", "id": wire_id(part.id), "name": part.name, "input": dict(part.arguments)}
            )
        elif isinstance(part, ToolResultPart):
            result: dict[str, Any] = {"type": "tool_result", "tool_use_id": wire_id(part.call_id)}
            if part.content:
                result["content"] = part.content
            if part.is_error:
                result["is_error"] = True
            blocks.append(result)
        elif isinstance(part, AttachmentPart) and part.data is not None:  # an image a tool returned
            blocks.append(_segment_block(part))
    return blocks


def _segment_block(segment: str | AttachmentPart) -> dict[str, Any]:
    if isinstance(segment, str):
        return {"type": "text", "text": segment}
    assert segment.data is not None  # user_segments renders a missing blob as text
    if segment.kind == "image":
        data, media_type = fit(segment.hash, segment.data, segment.media_type, IMAGE_LIMITS)
        return {"type": "image", "source": _base64(media_type, data)}
    return {"type": "document", "source": _base64("application/pdf", segment.data), "title": segment.name}


def _base64(media_type: str, data: bytes) -> dict[str, Any]:
    return {"type": "base64", "media_type": media_type, "data": base64.b64encode(data).decode("ascii")}


def to_wire_messages(system: str | None, messages: list[Message]) -> tuple[str | None, list[dict[str, Any]]]:
    """Neutral history -> (top-level system prompt, alternating user/assistant messages).

    System messages join the system prompt; tool messages become user turns; consecutive turns of
    one role are merged because the API requires alternation, with tool_result blocks first in a
    user turn as the API demands. Turns left empty are skipped.
    """
    prompts = [system] if system else []
    wire: list[dict[str, Any]] = []
    for msg in messages:
        if msg.role == "system":
            if msg.text:
                prompts.append(msg.text)
            continue
        blocks = _blocks(msg)
        if not blocks:
            continue
        role = "assistant" if msg.role == "assistant" else "user"
        if wire and wire[-1]["role"] == role:
            wire[-1]["content"].extend(blocks)
        else:
            wire.append({"role": role, "content": blocks})
    for turn in wire:
        if turn["role"] == "user":
            turn["content"].sort(key=lambda b: b["type"] != "tool_result")
    _trim_prefill(wire)
    return ("\n\n".join(prompts) or None), wire


def _trim_prefill(wire: list[dict[str, Any]]) -> None:
    """A final assistant turn (resuming an interrupted reply) is a prefill, which the API rejects
    when it ends in whitespace."""
    if not wire or wire[-1]["role"] != "assistant":
        return
    blocks = wire[-1]["content"]
    if blocks and blocks[-1]["type"] == "text":
        blocks[-1]["text"] = blocks[-1]["text"].rstrip()
        if not blocks[-1]["text"]:
            blocks.pop()
    if not blocks:
        wire.pop()


def tool_blocks_as_text(wire: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The API rejects tool_use/tool_result blocks in a request that defines no tools (a
    conversation that used tools, continued without them): keep them as text, losing nothing."""
    out = []
    for turn in wire:
        blocks = []
        for b in turn["content"]:
            if b["type"] == "tool_use":
                blocks.append(
                    {
                        "type": "text",
                        "text": f"[tool call {b['name']} {json.dumps(b['input'], ensure_ascii=False)}]",
                    }
                )
            elif b["type"] == "tool_result":
                label = "tool error" if b.get("is_error") else "tool result"
                content = b.get("content", "")
                content = content if isinstance(content, str) else json.dumps(content)
                blocks.append({"type": "text", "text": f"[{label}]\n{content}"})
            else:
                blocks.append(b)
        out.append({"role": turn["role"], "content": blocks})
    return out


def to_wire_tools(tools: list[ToolSpec]) -> list[dict[str, Any]]:
    return [{"name": t.name, "description": t.description, "input_schema": t.parameters} for t in tools]


def open_cycle_unsigned(wire: list[dict[str, Any]]) -> bool:
    """True when the tool cycle in progress was begun without signed thinking (by another
    provider): with thinking on, the API rejects such a history, so the request goes without."""
    if len(wire) < 2 or wire[-2]["role"] != "assistant":
        return False
    content = wire[-2]["content"]
    return any(b["type"] == "tool_use" for b in content) and content[0]["type"] not in _THINKING_BLOCKS
