"""Attachments on their way to a model: what the model can take, and the forms the adapters share.

The engine checks a turn's new attachments against the model before anything is stored (an image
for a model without vision is refused, naming the model), and fits the whole history to each
model it sends to: a PDF for a model that does not read PDFs goes as its extracted text, an image
earlier in a conversation that moved to a text-only model goes as a one-line note. The adapters
then only encode: text fragments (wrapped with their names) and natively, images and PDFs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from agentchat.core.capabilities import Capabilities, describe
from agentchat.core.errors import UsageError
from agentchat.core.messages import AttachmentPart, Message, Part, TextPart

SaveText = Callable[[str, str], None]  # (blob hash, extracted text): keep it for next time


def fragment(part: AttachmentPart) -> str:
    """A text attachment as the model reads it: its content wrapped with its name, so several
    files in one prompt stay apart and the model can say which one it means."""
    if part.data is None:
        return missing(part)
    name = part.name.replace('"', "&quot;")
    text = part.data.decode("utf-8", errors="replace").rstrip("\n")
    return f'<file name="{name}">\n{text}\n</file>'


def missing(part: AttachmentPart) -> str:
    return f"[attachment {part.name} ({part.media_type}) is missing from the history and was not sent]"


def not_sent(part: AttachmentPart, why: str) -> str:
    return f"[{part.kind} attachment {part.name} not sent: {why}]"


def user_segments(message: Message) -> list[str | AttachmentPart]:
    """A user message's content in sending order: attachments first (the context), then what the
    user typed; text fragments already rendered. Images and PDFs stay parts for native encoding."""
    attached: list[str | AttachmentPart] = []
    typed: list[str | AttachmentPart] = []
    for part in message.parts:
        if isinstance(part, AttachmentPart):
            if part.kind == "text" or part.data is None:
                attached.append(fragment(part))
            else:
                attached.append(part)
        elif isinstance(part, TextPart) and part.text:
            typed.append(part.text)
    return attached + typed


def _ensure_text(part: AttachmentPart, save: SaveText | None) -> str:
    """A PDF's text, extracted once and kept in the store (`save`) for the next request."""
    if part.extracted is None and part.data is not None:
        from agentchat.core.pdfs import extract_text

        part.extracted = extract_text(part.name, part.data)
        if save is not None:
            save(part.hash, part.extracted)
    return part.extracted or ""


def check_new(parts: list[AttachmentPart], caps: Capabilities, model: str) -> None:
    """Refuse, before anything is stored or sent, what this model cannot take: images without
    vision; PDFs where it reads none and no text can be extracted (the text is kept on the part,
    so the store saves it with the message)."""
    pictures = [p.name for p in parts if p.kind == "image"]
    if pictures and not caps.vision:
        raise UsageError(
            f"model {model} cannot take images, it {describe(caps)}: {', '.join(pictures)}; "
            f'choose a vision model (-m, or ctrl+l in the TUI), or set [models."{model}"] vision = true if it has one'
        )
    if caps.pdf:
        return
    for part in parts:
        if part.kind == "pdf" and not _ensure_text(part, None).strip():
            raise UsageError(
                f"model {model} cannot read PDFs, it {describe(caps)}, and {part.name} has no text to "
                "extract (a scan?); choose a model that reads PDFs (-m, or ctrl+l in the TUI)"
            )


def fit_history(
    history: list[Message], caps: Capabilities, model: str, save: SaveText | None = None
) -> tuple[list[Message], list[str]]:
    """The history as this model can take it, and a note per attachment it could not take as it is.
    Messages without attachments are passed through untouched; the stored ones are never changed."""
    out: list[Message] = []
    notes: list[str] = []
    for message in history:
        if not message.attachments:
            out.append(message)
            continue
        parts: list[Part] = []
        dropped: list[Part] = []  # notes in place of what was not sent, before the typed text
        for part in message.parts:
            if not isinstance(part, AttachmentPart) or part.data is None:
                parts.append(part)
            elif part.kind == "image" and not caps.vision:
                dropped.append(TextPart(not_sent(part, f"{model} does not take images") + "\n\n"))
                notes.append(f"{part.name}: not sent, {model} does not take images")
            elif part.kind == "pdf" and not caps.pdf:
                text = _ensure_text(part, save)
                if text.strip():
                    parts.append(dataclasses.replace(part, kind="text", data=text.encode("utf-8")))
                else:
                    dropped.append(TextPart(not_sent(part, f"{model} does not read PDFs, no text") + "\n\n"))
                    notes.append(f"{part.name}: not sent, {model} does not read PDFs and it has no text")
            else:
                parts.append(part)
        out.append(dataclasses.replace(message, parts=dropped + parts))
    return out, notes


def has_attachments(messages: list[Message]) -> bool:
    return any(message.attachments for message in messages)
