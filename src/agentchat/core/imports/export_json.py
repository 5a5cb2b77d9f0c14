"""Our own `history export --format json` read back: one conversation per file (or a list of them),
every message and branch, the attachments' bytes from the file's `attachments` table. The source
id is the exported conversation's id and creation time, so re-importing the file adds nothing."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentchat.core.imports import Imported, ImportFormatError, Node
from agentchat.core.messages import message_from_dict


def read_export(path: Path) -> Iterator[Imported]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportFormatError(f"{path}: not an agentchat JSON export: {exc}") from None
    documents = data if isinstance(data, list) else [data]
    for index, document in enumerate(documents):
        try:
            yield _document(document)
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            what = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            raise ImportFormatError(f"{path}: conversation {index + 1}: {what}") from None


def _document(document: dict[str, Any]) -> Imported:
    info = document["conversation"]
    blobs = document.get("attachments") or {}
    out = Imported(
        f"{info['id']}@{info['created_at']}",
        info.get("title"),
        float(info["created_at"]),
        system=info.get("system"),
        agent=info.get("agent"),
    )
    for index, data in enumerate(document["messages"]):
        try:
            message = message_from_dict(data)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"message {index + 1}: {exc}") from None
        key, parent = str(message.id), message.parent_id
        created = float(message.created_at or out.created_at)
        message.id = message.conversation_id = message.created_at = None
        if message.status == "streaming":
            message.status = "interrupted"  # its writer is not coming back
        for part in message.attachments:
            blob = blobs.get(part.hash) or {}
            if blob.get("base64") is None:
                raise ValueError(
                    f"message {index + 1}: attachment {part.name}: its bytes are not in the file"
                )
            part.data = base64.b64decode(blob["base64"], validate=True)
        out.nodes.append(Node(key, None if parent is None else str(parent), message, created))
    return out
