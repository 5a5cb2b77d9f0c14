"""Tool approval for `ask`: the question goes to the controlling terminal, never to stdin/stdout."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from agentchat.core.text import clean

if TYPE_CHECKING:
    from agentchat.core.messages import ToolCallPart
    from agentchat.tools.approval import Decision
    from agentchat.tools.base import Tool

ANSWERS: dict[str, Decision] = {
    "y": "allow_once",
    "yes": "allow_once",
    "a": "allow_always",
    "always": "allow_always",
}


def _ask_tty(name: str, arguments: dict[str, Any], source: str, caution: str = "") -> Decision:
    """The question on the terminal; `caution` is the tool's own warning (what approving means).
    The tool's name and arguments come from the model: cleaned, so they can command no terminal."""
    try:  # separate read and write handles: a terminal is not seekable, so "r+" would fail
        tty_in = open("/dev/tty", encoding="utf-8", errors="replace")
        tty_out = open("/dev/tty", "w", encoding="utf-8")
    except OSError:
        return "deny"  # no terminal: a tool that needs approval is denied
    with tty_in, tty_out:
        args = json.dumps(arguments, ensure_ascii=False)
        if len(args) > 400:
            args = args[:400] + "…"
        note = f"  note: {clean(caution)}\n" if caution else ""
        question = clean(f"agentchat: allow tool {name} ({source}) {args}?")
        tty_out.write(f"\n{question}\n{note}  [y] once  [a] always  [N] deny: ")
        tty_out.flush()
        try:
            answer = tty_in.readline().strip().lower()
        except (OSError, KeyboardInterrupt):
            return "deny"
    return ANSWERS.get(answer, "deny")


async def tty_approver(call: ToolCallPart, tool: Tool) -> Decision:
    return await asyncio.to_thread(_ask_tty, call.name, call.arguments, tool.source, tool.caution)
