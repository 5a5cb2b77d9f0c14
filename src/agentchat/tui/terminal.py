"""Whether the TUI can run here, asked before Textual is imported.

The TUI draws on standard output and reads keys from standard input; with either redirected it
would wait forever for keys that never come while filling a file with screen escape codes. A
pipeline wants `agentchat ask`, so it is told so at once (exit 2, a usage error).
"""

from __future__ import annotations

import sys

NO_TERMINAL = "the TUI needs a terminal; use `agentchat ask` in pipelines"


def no_terminal() -> str | None:
    """The one-line refusal when stdin or stdout is not a terminal, else None."""
    try:
        attached = sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):  # closed or replaced by an object without a descriptor
        attached = False
    return None if attached else NO_TERMINAL
