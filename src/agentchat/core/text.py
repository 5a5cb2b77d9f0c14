"""Text from models, users and tools made safe to show on a terminal.

A reply, a tool argument or a conversation title can hold escape sequences that a terminal obeys:
clear the screen, switch to the alternate screen, set the window title, write the clipboard (OSC
52). Shown text must not carry them, so both faces (the TUI and the CLI's terminal output) pass it
through `clean`: ANSI/ECMA-48 sequences (CSI, OSC, DCS, SOS, PM, APC and the other ESC forms, in
their 7-bit and 8-bit spellings) are removed whole, then every other C0/C1 control character,
except newline and tab. Lone surrogates (a JSON `"\\ud800"` decodes to one) cannot be encoded to
UTF-8 and would make the write fail: they become U+FFFD.

Piped `ask` output is the model's exact text and does not come through here; it only needs
`encodable`. No Textual, Rich or Typer here: `core` is imported by every face.
"""

from __future__ import annotations

import re

# ESC [ or its 8-bit form, parameter bytes, intermediate bytes, one final byte.
_CSI = r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
# OSC, DCS, SOS, PM, APC (ESC ] P X ^ _ or their 8-bit forms) up to BEL or ST (ESC \ or 0x9c).
_STRING = r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
# Every other escape: ESC, intermediate bytes, one final byte (ESC ( B, ESC 7, ESC c ...); without
# intermediates the final byte is none of the introducers above (an unfinished `ESC [` is not one).
_ESCAPE = r"\x1b(?:[ -/]+[0-~]|[0-OQ-WYZ\\`-~])"
# What is left: single C0 controls but newline and tab, DEL, C1 controls.
_CONTROL = r"[\x00-\x08\x0b-\x1f\x7f-\x9f]"
_SURROGATE = r"[\ud800-\udfff]"

_UNSAFE = re.compile(f"{_CSI}|{_STRING}|{_ESCAPE}|{_CONTROL}|({_SURROGATE})")
_ANY_UNSAFE = re.compile(f"{_CONTROL}|{_SURROGATE}")  # the fast path: most text has none
# The start of a sequence that has not ended yet, at the end of the text.
_UNFINISHED = re.compile(
    r"(?:(?:\x1b\[|\x9b)[0-?]*[ -/]*"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*\x1b?"
    r"|\x1b[ -/]*)\Z"
)
HOLD_LIMIT = 4096  # longest unfinished sequence a stream holds back before it gives up on it


def _replace(match: re.Match[str]) -> str:
    return "\ufffd" if match.group(1) else ""


def clean(text: str) -> str:
    """`text` without control sequences or control characters (newline and tab stay) and with
    lone surrogates replaced: safe to write to a terminal or to give a widget."""
    if not _ANY_UNSAFE.search(text):
        return text
    return _UNSAFE.sub(_replace, text)


def encodable(text: str) -> str:
    """`text` unchanged unless it holds lone surrogates, which become U+FFFD (UTF-8 has no bytes
    for them). For output that must stay exact otherwise: a pipe, a file."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return re.sub(_SURROGATE, "\ufffd", text)
    return text


class StreamCleaner:
    """`clean` for text that arrives in pieces: a sequence split across two pieces (`\\x1b[2` then
    `J`) would otherwise lose its introducer in the first and show its tail in the second. An
    unfinished sequence at the end of a piece is held back until the next piece (or `flush`)."""

    def __init__(self) -> None:
        self._held = ""

    def feed(self, piece: str) -> str:
        text, self._held = self._held + piece, ""
        unfinished = _UNFINISHED.search(text, max(len(text) - HOLD_LIMIT, 0))
        if unfinished is not None:
            text, self._held = text[: unfinished.start()], unfinished.group()
        return clean(text)

    def flush(self) -> str:
        """What is still held (an unfinished sequence at the very end), cleaned."""
        text, self._held = self._held, ""
        return clean(text)
