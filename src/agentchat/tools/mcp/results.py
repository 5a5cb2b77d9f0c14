"""An MCP tool result as the model reads it: text, structured content as JSON, images as attachments.

Images (and a resource's image) become AttachmentParts: the engine stores them with the tool
results and each provider adapter sends them natively to a vision model; a model without vision
gets a one-line note in their place (core.attachments.fit_history), as for any attached image.
Audio has no provider form here yet and is named in a note.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any

from agentchat.core.errors import UsageError
from agentchat.core.messages import AttachmentPart
from agentchat.tools.base import ToolOutput

if TYPE_CHECKING:
    from mcp_types import CallToolResult

MAX_IMAGES = 8  # per call: a tool that returns a gallery must not fill the request


def _decoded(data: str) -> bytes | None:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None


def media_note(kind: str, mime_type: str | None, data: str, why: str = "it is not shown here") -> str:
    """What the model reads in place of an image or audio block it cannot be given."""
    what = "an image" if kind == "image" else kind
    size = len(data) * 3 // 4 - data[-2:].count("=")  # decoded size of the base64 text
    return f"[the tool returned {what} ({mime_type or 'unknown type'}, {size} bytes); {why}]"


def image_part(name: str, data: bytes, mime_type: str | None) -> AttachmentPart | str:
    """An image the model may see, or why it cannot be sent (a broken file, a format no provider takes)."""
    from agentchat.core.intake import part_for

    try:
        part = part_for(name, data, mime_type or "image/png")
    except UsageError as exc:
        return str(exc).removeprefix(f"{name}: ")
    return part if part.kind == "image" else "not an image"


def tool_output(result: CallToolResult, tool: str) -> ToolOutput:
    """Text blocks joined; images as attachments (named in the text so the model knows where they
    belong); other content named so the model knows something was there."""
    parts: list[str] = []
    images: list[AttachmentPart] = []
    for block in result.content:
        if block.type == "text":
            parts.append(block.text)
        elif block.type == "resource":
            parts.append(getattr(block.resource, "text", None) or f"[binary resource {block.resource.uri}]")
        elif block.type == "resource_link":
            parts.append(f"[resource link: {block.uri}]")
        elif block.type == "image":
            data = _decoded(block.data)
            name = f"{tool} image {len(images) + 1}"
            if len(images) == MAX_IMAGES:
                part: AttachmentPart | str = f"over {MAX_IMAGES} images in one result"
            else:
                part = image_part(name, data, block.mime_type) if data else "not valid base64"
            if isinstance(part, str):
                parts.append(media_note("image", block.mime_type, block.data, f"not passed on: {part}"))
            else:
                images.append(part)
                parts.append(f"[image: {name} ({part.media_type}, {part.width}x{part.height}), attached]")
        elif block.type == "audio":
            parts.append(media_note("audio", block.mime_type, block.data))
        else:
            parts.append(f"[{block.type} content not shown]")
    structured = result.structured_content
    if structured is not None and not _already_said(structured, parts):
        parts.append(json.dumps(structured, ensure_ascii=False))
    return ToolOutput("\n".join(parts), images)


def _already_said(structured: Any, texts: list[str]) -> bool:
    """Servers should repeat structured content as JSON text; then it is not sent twice. (The SDK's
    servers wrap a plain return value as {"result": value}.)"""
    wanted = [structured]
    if isinstance(structured, dict) and list(structured) == ["result"]:
        wanted.append(structured["result"])
    for text in texts:
        try:
            if json.loads(text) in wanted:
                return True
        except ValueError:
            if text in wanted:
                return True
    return False
