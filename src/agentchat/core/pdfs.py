"""PDFs: checked at intake (readable, not encrypted, page count), text extracted for models that
cannot read PDFs themselves. pypdf is imported only when a PDF is attached."""

from __future__ import annotations

import io
import logging
from typing import Any

from agentchat.core.errors import UsageError

SIGNATURE = b"%PDF-"


def is_pdf(data: bytes) -> bool:
    """The signature may follow a little junk (the spec allows it within the first 1024 bytes)."""
    return SIGNATURE in data[:1024]


def _reader(name: str, data: bytes) -> Any:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings about sloppy files are not ours
    encrypted = f"{name}: the PDF is encrypted (password-protected); attach a decrypted copy"
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            # Many PDFs carry an owner password only (no password to open): those are readable.
            if not reader.decrypt(""):
                raise UsageError(encrypted)
        len(reader.pages)  # parses the page tree: a broken file fails here, not later
    except (FileNotDecryptedError, DependencyError, NotImplementedError):
        raise UsageError(encrypted) from None
    except UsageError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as exc:
        reason = " ".join(str(exc).split())[:120] or type(exc).__name__
        raise UsageError(f"{name}: not a readable PDF ({reason})") from None
    return reader


def inspect(name: str, data: bytes) -> int:
    """The number of pages; a broken or encrypted PDF is refused with one line naming it."""
    return len(_reader(name, data).pages)


def extract_text(name: str, data: bytes) -> str:
    """The PDF's text, page by page ("" for a scan without a text layer). A page that fails to
    extract is skipped rather than losing the whole document."""
    pages = []
    for number, page in enumerate(_reader(name, data).pages, 1):
        try:
            text = page.extract_text() or ""
        except Exception:  # a malformed content stream on one page
            text = ""
        if text.strip():
            pages.append(f"[page {number}]\n{text.strip()}")
    return "\n\n".join(pages)
