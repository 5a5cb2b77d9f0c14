"""MCP in `ask`: `--mcp-prompt NAME:PROMPT --arg k=v`, and a server's questions (elicitation) asked
on the controlling terminal, never on stdin/stdout (they may be a pipe of data)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from agentchat.cli.common import err
from agentchat.core.text import clean
from agentchat.tools.mcp.elicit import Answer, Elicitation, parse, shown

if TYPE_CHECKING:
    from agentchat.cli.session import AskOptions
    from agentchat.config import Config


def apply_mcp_prompt(config: Config, opts: AskOptions) -> None:
    """The prompt's text becomes the start of the message (the PROMPT words follow); its images
    are attached."""
    from agentchat.tools.mcp.context import fetch_prompt, prompt_arguments

    assert opts.mcp_prompt is not None
    rendered = asyncio.run(fetch_prompt(config, opts.mcp_prompt, prompt_arguments(opts.prompt_args)))
    opts.text = "\n\n".join(t for t in (rendered.text, opts.text) if t)
    opts.prompt_attachments = rendered.attachments


def _ask(request: Elicitation) -> Answer:
    try:  # separate read and write handles: a terminal is not seekable
        tty_in = open("/dev/tty", encoding="utf-8", errors="replace")
        tty_out = open("/dev/tty", "w", encoding="utf-8")
    except OSError:
        err(
            f"mcp: server {request.server} asked for input ({request.message[:100]}) but there is no "
            "terminal to ask on: declined"
        )
        return Answer("decline")
    with tty_in, tty_out:
        tty_out.write(f"\nagentchat: MCP server {clean(request.server)} asks: {request.message}\n")
        if request.url:
            tty_out.write(f"  open {clean(request.url)}\n  [y] done  [N] decline: ")
            tty_out.flush()
            done = tty_in.readline().strip().lower() in ("y", "yes")
            return Answer("accept" if done else "decline")
        tty_out.write("  (an empty line at the first question declines; Ctrl-D cancels)\n")
        values = {}
        for index, field in enumerate(request.fields):
            while True:
                kind = "/".join(field.choices) if field.choices else field.type
                hint = f" ({kind}{', required' if field.required else ''})"
                default = f" (default {shown(field.default)})" if field.default is not None else ""
                about = f" - {field.description}" if field.description else ""
                tty_out.write(f"  {field.title}{about}{hint}{default}: ")
                tty_out.flush()
                line = tty_in.readline()
                if not line:
                    return Answer("cancel")
                if index == 0 and not line.strip() and field.default is None:
                    return Answer("decline")
                try:
                    values[field.name] = parse(field, line)
                    break
                except ValueError as exc:
                    tty_out.write(f"  {exc}\n")
    return Answer("accept", values)


async def tty_elicitor(request: Elicitation) -> Answer:
    return await asyncio.to_thread(_ask, request)
