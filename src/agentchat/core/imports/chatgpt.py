"""ChatGPT's data export (`conversations.json`): a list of conversations, each a `mapping` of nodes
(`id`, `message`, `parent`, `children`) whose tree holds every edit and regeneration as a branch.

Kept: user and assistant messages, tool output (browsing, code runs) as the assistant's text, and
reasoning (`thoughts`, `reasoning_recap`) as thinking. Dropped: the empty root, hidden system
messages, and nodes with nothing to show; their children hang from the nearest kept ancestor. A run
of nodes with one role and no branching (an assistant's code, its run's output, its answer) is one
message, so the history stays a valid alternation for every provider.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentchat.core.imports import Imported, ImportFormatError, Node
from agentchat.core.messages import Message, Part, TextPart, ThinkingPart


def read_chatgpt(path: Path) -> Iterator[Imported]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportFormatError(f"{path}: not a ChatGPT export (conversations.json): {exc}") from None
    if isinstance(data, dict):  # one conversation on its own
        data = [data]
    if not isinstance(data, list):
        raise ImportFormatError(f"{path}: not a ChatGPT export: expected a list of conversations")
    for index, conv in enumerate(data):
        where = f"{path}: conversation {index + 1}"
        if isinstance(conv, dict) and conv.get("title"):
            where += f" ({str(conv['title'])[:60]!r})"
        try:
            yield _conversation(conv)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ImportFormatError(f"{where}: {_why(exc)}") from None


def _why(exc: Exception) -> str:
    return f"missing field {exc}" if isinstance(exc, KeyError) else str(exc) or type(exc).__name__


def _conversation(conv: dict[str, Any]) -> Imported:
    mapping: dict[str, Any] = conv["mapping"]
    if not isinstance(mapping, dict):
        raise ValueError("'mapping' is not an object of nodes")
    source_id = str(conv.get("conversation_id") or conv.get("id") or "")
    if not source_id:
        raise ValueError("no conversation_id or id")
    created = float(conv.get("create_time") or 0.0)
    imported = Imported(source_id, conv.get("title") or None, created)
    roots = [k for k, n in mapping.items() if n.get("parent") is None or n.get("parent") not in mapping]
    for root in roots:
        _walk(mapping, root, None, imported, created)
    return imported


def _walk(mapping: dict[str, Any], key: str, parent: Node | None, out: Imported, when: float) -> None:
    """Depth first; a kept node merges into its parent when both have one role and no branching."""
    stack: list[tuple[str, Node | None, float]] = [(key, parent, when)]
    seen: set[str] = set()
    while stack:
        key, parent, when = stack.pop()
        if key in seen:
            raise ValueError(f"node {key}: the mapping loops back to it")
        seen.add(key)
        node = mapping[key]
        if not isinstance(node, dict):
            raise ValueError(f"node {key}: not an object")
        children = [c for c in node.get("children") or [] if c in mapping]
        kept = _message(node.get("message"), key)
        if kept is not None:
            message, created = kept
            when = created or when
            if parent is not None and parent.message.role == message.role and _linear(mapping, node, parent):
                _merge(parent.message, message)
                # the merged run keeps the first node's key (stable across exports), so its
                # descendants still find it; its other nodes are recorded too, so a newer export
                # with more nodes in the run is seen as the run continued
                parent.members.append(key)
            else:
                if message.role == "system":
                    out.system = message.text if out.system is None and parent is None else out.system
                    stack.extend((child, parent, when) for child in reversed(children))
                    continue
                new = Node(key, parent.key if parent else None, message, when)
                out.nodes.append(new)
                parent = new
        stack.extend((child, parent, when) for child in reversed(children))


def _merge(into: Message, message: Message) -> None:
    """One message from a run of same-role nodes: texts joined by a blank line, the first model named."""
    for part in message.parts:
        last = into.parts[-1] if into.parts else None
        if isinstance(part, TextPart) and isinstance(last, TextPart):
            last.text += "\n\n" + part.text
        else:
            into.parts.append(part)
    into.model, into.provider = into.model or message.model, into.provider or message.provider
    into.finish_reason = message.finish_reason or into.finish_reason


def _linear(mapping: dict[str, Any], node: dict[str, Any], parent: Node) -> bool:
    """No branch between the kept parent and this node: neither has a sibling on the way."""
    raw_parent = mapping.get(node.get("parent") or "") or {}
    return len(raw_parent.get("children") or []) == 1 and len(mapping[parent.key].get("children") or []) == 1


def _message(message: Any, key: str) -> tuple[Message, float] | None:
    if message is None:
        return None
    if not isinstance(message, dict):
        raise ValueError(f"node {key}: 'message' is not an object")
    role = (message.get("author") or {})["role"]
    metadata = message.get("metadata") or {}
    if metadata.get("is_visually_hidden_from_conversation"):
        return None
    parts = _parts(message.get("content") or {}, role, message.get("author") or {}, key)
    if not parts:
        return None
    ours = {"user": "user", "assistant": "assistant", "tool": "assistant", "system": "system"}.get(role)
    if ours is None:
        raise ValueError(f"node {key}: unknown author role {role!r}")
    result = Message(role=ours, parts=parts)  # type: ignore[arg-type]
    if ours == "assistant":
        result.model = metadata.get("model_slug")
        result.provider = "openai" if result.model else None  # ChatGPT's models are OpenAI's
        result.finish_reason = (metadata.get("finish_details") or {}).get("type")
    return result, float(message.get("create_time") or 0.0)


def _parts(content: dict[str, Any], role: str, author: dict[str, Any], key: str) -> list[Part]:
    kind = content.get("content_type")
    texts: list[str] = []
    if kind in ("text", "multimodal_text"):
        for piece in content.get("parts") or []:
            if isinstance(piece, str):
                texts.append(piece)
            elif isinstance(piece, dict):  # an image or file pointer: its bytes are not in the JSON
                name = piece.get("asset_pointer") or piece.get("content_type") or "attachment"
                texts.append(f"[{piece.get('content_type', 'attachment')}: {name}]")
    elif kind == "code":
        texts.append(f"```{content.get('language') or ''}\n{content.get('text', '')}\n```")
    elif kind in ("execution_output", "system_error", "tether_quote", "computer_output"):
        texts.append(str(content.get("text") or content.get("summary") or ""))
    elif kind == "tether_browsing_display":
        texts.append(str(content.get("result") or content.get("summary") or ""))
    elif kind == "thoughts":
        thoughts = content.get("thoughts") or []
        text = "\n\n".join(str(t.get("content") or t.get("summary") or "") for t in thoughts)
        return [ThinkingPart(text)] if text.strip() else []
    elif kind == "reasoning_recap":
        return []  # "Thought for 12 seconds": a label, not content
    elif kind == "user_editable_context":
        return []  # the custom instructions ChatGPT added; hidden in its own view
    elif kind is None:
        raise ValueError(f"node {key}: message content has no content_type")
    else:
        texts.append(str(content.get("text") or ""))
    text = "\n".join(t for t in texts if t)
    if not text.strip():
        return []
    if role == "tool":
        text = f"[{author.get('name') or 'tool'}]\n{text}"
    return [TextPart(text)]
