"""What the prompt's chips stand for, and reading them into the parts a turn sends.

A chip is a file of the workspace (picked with `@` or pasted as a path) or something already in
hand (a clipboard image, or a stored message's attachment when it is edited and resent). A file
is read twice: when it is attached, so a missing, broken or unknown file is refused at once and
the chip can say what it is; and again when the prompt is sent, through `read_inputs` as
`ask -f` reads it, so what is sent is the file as it is then and the per-turn limit holds.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from agentchat.core.errors import UsageError
from agentchat.core.intake import limits_from, part_for, read_inputs, size_text

if TYPE_CHECKING:
    from agentchat.config import Config
    from agentchat.core.messages import AttachmentPart

MAX_PASTED_PATH = 4096  # a paste longer than this is text, whatever it looks like
CLIPBOARD_NAME = "clipboard.png"  # the name a clipboard image is stored under (its type is sniffed)


@dataclass(eq=False, slots=True)
class Attachment:
    """One chip. `source` is a path as given (relative to the workspace or absolute), read again
    when sent; without one, `part` is sent as it is. Compared by identity: the same file may be
    a chip once, but two chips are never "equal" when one is removed."""

    part: AttachmentPart
    source: str | None = None

    @property
    def key(self) -> str:
        """What makes two chips the same attachment: the path, or the content's hash."""
        return self.source if self.source is not None else self.part.hash


def attach_file(source: str, config: Config, workspace: Path) -> Attachment:
    """Blocking (run it in a thread). UsageError: one line naming the file."""
    intake = read_inputs([source], limits_from(config), stdin=None, cwd=workspace, resource=_mcp(config))
    return Attachment(intake.parts[0], source)


def _mcp(config: Config) -> Callable[[str], list[tuple[str, bytes, str | None]]]:
    """How an `mcp:NAME:URI` chip (an MCP resource from the @ picker) is read: a connection of its own."""
    from agentchat.tools.mcp.context import read_resource_now

    return lambda ref: read_resource_now(config, ref)


def attach_bytes(name: str, data: bytes, config: Config) -> Attachment:
    """Bytes in hand (a clipboard image): checked and described as a file of that name would be."""
    limit = limits_from(config).max_file_bytes
    if len(data) > limit:
        raise UsageError(
            f"{name}: {size_text(len(data))} is over the per-file limit of {size_text(limit)} "
            "(attachments.max_file_bytes)"
        )
    return Attachment(part_for(name, data))


def read_for_turn(attached: list[Attachment], config: Config, workspace: Path) -> list[AttachmentPart]:
    """Blocking (run it in a thread): the parts to send, in the chips' order; files read afresh.
    UsageError (a file gone or grown too big since it was attached; the turn over its limit)."""
    limits = limits_from(config)
    parts: list[AttachmentPart] = []
    for item in attached:
        if item.source is None:
            parts.append(item.part)
        else:
            parts += read_inputs(
                [item.source], limits, stdin=None, cwd=workspace, resource=_mcp(config)
            ).parts
    total = sum(p.size for p in parts)
    if total > limits.max_turn_bytes:
        raise UsageError(
            f"the attachments come to {size_text(total)}, over the per-turn limit of "
            f"{size_text(limits.max_turn_bytes)} (attachments.max_turn_bytes)"
        )
    return parts


def chip_label(part: AttachmentPart, width: int = 32) -> str:
    """Short enough for a row of chips: the name (its start elided), then what it is."""
    name = part.name if len(part.name) <= width else "…" + part.name[-(width - 1) :]
    if part.kind == "image" and part.width and part.height:
        facts = f"{part.width}×{part.height}"
    elif part.kind == "pdf" and part.pages:
        facts = f"{part.pages} page{'s' if part.pages != 1 else ''}"
    else:
        facts = size_text(part.size)
    return f"{name} · {facts}"


def pasted_paths(text: str, workspace: Path) -> list[str] | None:
    """The files a paste names, when it is nothing but paths of existing files; else None (the
    paste is text). Terminals paste a dropped file as its path, quoted or with backslashes before
    spaces, several separated by spaces or lines; file managers as file:// URIs. A relative path
    counts only with a directory in it (`docs/a.png`, `./a.png`): a bare word that happens to
    name a file (`README`) is more likely meant as a word."""
    text = text.strip()
    if not text or len(text) > MAX_PASTED_PATH:
        return None
    candidates = [[text]]
    try:
        candidates.append(shlex.split(text))
    except ValueError:  # an unbalanced quote: not a quoted path
        pass
    candidates.append([line.strip() for line in text.splitlines() if line.strip()])
    for names in candidates:
        paths = [_as_path(name) for name in names]
        if paths and all(p is not None and _is_file(p, workspace) for p in paths):
            return [p for p in paths if p is not None]
    return None


def _as_path(name: str) -> str | None:
    if name.startswith("file://"):
        return unquote(urlparse(name).path) or None
    looks_like_a_path = name.startswith(("/", "~", "./", "../")) or "/" in name or "\\" in name
    return name if looks_like_a_path else None


def _is_file(name: str, workspace: Path) -> bool:
    path = Path(name).expanduser()
    try:
        return (path if path.is_absolute() else workspace / path).is_file()
    except (OSError, ValueError):  # a name too long, or with a NUL byte in it
        return False
