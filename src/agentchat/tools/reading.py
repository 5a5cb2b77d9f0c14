"""read_file's paging: a page of lines within a byte budget, read without reading the whole file.

A file is read line by line with `readline(remaining budget + 1)`, so neither a 300 MB file nor a
single 300 MB line (minified code, a log without newlines) is ever in memory: what is not shown is
not read, and skipping to an `offset` counts newlines in fixed-size chunks. Binary files get a
message naming what they look like instead of a dump of replacement characters.
"""

from __future__ import annotations

import os
from typing import IO

from agentchat.tools.base import ToolError
from agentchat.tools.shell import decode_head

SCAN_CHUNK = 1 << 20  # skipping to an offset reads this much at a time, never a whole line
_MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or docx/xlsx/jar)"),
    (b"\x1f\x8b", "gzip data"),
    (b"\x7fELF", "an executable"),
    (b"SQLite format 3\x00", "an SQLite database"),
)
_TEXT_CONTROLS = frozenset("\t\n\r\f\v\b\x1b")


def binary_kind(head: bytes) -> str | None:
    """What a file whose first bytes are `head` looks like, if it is not text (None for text)."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if b"\0" in head:
        return "it contains NUL bytes"
    text = decode_head(head)
    odd = sum(1 for ch in text if ch == "\ufffd" or (ch < " " and ch not in _TEXT_CONTROLS))
    return "not UTF-8 text" if text and odd > len(text) * 0.3 else None  # a Latin-1 text is still shown


def read_page(fh: IO[bytes], shown: str, offset: int, limit: int, budget: int, max_bytes: int) -> str:
    """Lines `offset`.. (1-based, at most `limit`) of the open file, in at most `budget` bytes, with a
    note saying what was shown and how to read on. `max_bytes` is the configured limit, for the note."""
    size = os.fstat(fh.fileno()).st_size
    kind = binary_kind(fh.read(8192))
    if kind is not None:
        raise ToolError(
            f"{shown}: binary file ({kind}, {size:,} bytes), not shown: read_file shows text only"
        )
    fh.seek(0)
    if offset > 1:
        passed, ends_with_newline = _skip_lines(fh, offset - 1)
        if passed < offset - 1 or fh.tell() == size:
            total = passed + (0 if ends_with_newline or size == 0 else 1)
            return f"(no lines from offset {offset}; the file has {total})"
    lines: list[bytes] = []
    used = 0
    cut: int | None = None  # bytes shown of a first line longer than the whole budget
    more = False
    while len(lines) < limit:
        raw = fh.readline(budget - used + 1)
        if not raw:
            break
        if len(raw) > budget - used:
            if not lines:
                cut = budget
                lines.append(raw[:budget])
            more = True
            break
        lines.append(raw)
        used += len(raw)
    else:
        more = bool(fh.read(1))
    if not lines:
        return "(empty file)"
    if cut is not None:
        return decode_head(lines[0]) + (
            f"\n[line {offset} is longer than the output limit ({max_bytes:,} bytes): only its first "
            f"{cut:,} bytes are shown ({shown} is {size:,} bytes). read_file pages by lines, so it cannot "
            f"show the rest of this line; the next line is offset={offset + 1}]"
        )
    text = b"".join(lines).decode("utf-8", errors="replace")
    if more:
        last = offset + len(lines) - 1
        text += (
            f"\n[lines {offset}-{last} shown ({used:,} bytes of {size:,}); the file continues: "
            f"read again with offset={last + 1}]"
        )
    return text


def fit(entries: list[str], budget: int) -> list[str]:
    """The leading entries whose lines fit in `budget` bytes."""
    used = 0
    for i, entry in enumerate(entries):
        used += len(entry.encode()) + 1
        if used > budget:
            return entries[:i]
    return entries


def _skip_lines(fh: IO[bytes], count: int) -> tuple[int, bool]:
    """Move past `count` newlines, reading in chunks (a huge line is never read whole).

    Returns how many newlines were passed (fewer at the end of the file) and whether the last byte
    read was a newline (to count a last line without one).
    """
    passed = 0
    last_newline = True
    while passed < count:
        start = fh.tell()
        chunk = fh.read(SCAN_CHUNK)
        if not chunk:
            break
        found = chunk.count(b"\n")
        if passed + found >= count:
            index = -1
            for _ in range(count - passed):
                index = chunk.index(b"\n", index + 1)
            fh.seek(start + index + 1)
            return count, True
        passed += found
        last_newline = chunk.endswith(b"\n")
    return passed, last_newline
