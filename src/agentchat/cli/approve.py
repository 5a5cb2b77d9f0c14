"""Tool approval for `ask`: the question goes to the controlling terminal, never to stdin/stdout."""

from __future__ import annotations

import asyncio
import json
from typing import Any


def _ask_tty(name: str, arguments: dict[str, Any], source: str, caution: str = "") -> str:
    """The question on the terminal; `caution` is the tool's own warning (what approving means)."""
    try:  # separate read and write handles: a terminal is not seekable, so "r+" would fail
        tty_in = open("/dev/tty", encoding="utf-8", errors="replace")
        tty_out = open("/dev/tty", "w", encoding="utf-8")
    except OSError:
        return "deny"  # no terminal: a tool that needs approval is denied
    with tty_in, tty_out:
        args = json.dumps(arguments, ensure_ascii=False)
        if len(args) > 400:
            args = args[:400] + "…"
        note = f"  note: {caution}\n" if caution else ""
        tty_out.write(
            f"\nagentchat: allow tool {name} ({source}) {args}?\n{note}  [y] once  [a] always  [N] deny: "
        )
        tty_out.flush()
        try:
            answer = tty_in.readline().strip().lower()
        except (OSError, KeyboardInterrupt):
            return "deny"
    return {"y": "allow_once", "yes": "allow_once", "a": "allow_always", "always": "allow_always"}.get(
        answer, "deny"
    )


async def tty_approver(call: Any, tool: Any) -> str:
    return await asyncio.to_thread(
        _ask_tty, call.name, call.arguments, getattr(tool, "source", "tool"), getattr(tool, "caution", "")
    )
