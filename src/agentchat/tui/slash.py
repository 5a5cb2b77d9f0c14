"""Slash commands on the main screen (`screen.slash`): what `/` at the start of the prompt means.

`/NAME args`: a built-in command (tui/slash_commands.py), else a template (core/templates.py, the
same files as `ask --template`: its prompt is sent with its model, provider, system and tools),
else an MCP server's prompt `/SERVER:PROMPT` (its text fills the prompt, to be read and sent).
A name that is none of these is refused with a notification (a typo must not go to a model), while
text that is not a command name at all (`/etc/hosts says what?`) is sent as typed, and `//` sends
one literal `/`. While the name is being typed, the popup (`SlashMenu`) lists what matches.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from agentchat.core.agents import Choices
from agentchat.core.errors import AgentchatError
from agentchat.core.templates import load_templates, parse_template, split_args, template_files
from agentchat.tui.errors import notify_error
from agentchat.tui.slash_commands import BUILTINS
from agentchat.tui.widgets.slash import MAX_SHOWN, SlashItem, SlashMenu, matching

if TYPE_CHECKING:
    from agentchat.tools.mcp.context import PromptEntry
    from agentchat.tui.screens.main import MainScreen

COMMAND = re.compile(r"/([A-Za-z0-9][A-Za-z0-9_.:-]*)(?:\s+(.*))?", re.DOTALL)
TYPING = re.compile(r"/[A-Za-z0-9_.:-]*")  # the name still being typed: the popup is open


class SlashControl:
    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.pending_system: str | None = None  # /system before the conversation exists
        self._listed: list[SlashItem] | None = None  # what `/` offers, while a name is typed

    @property
    def menu(self) -> SlashMenu:
        return self.screen.query_one(SlashMenu)

    @property
    def is_open(self) -> bool:
        return self.menu.is_open

    # --- what there is ---------------------------------------------------------------------------
    def items(self) -> list[SlashItem]:
        """Built-ins, then templates (a built-in's name wins), then MCP prompts."""
        app = self.screen.app
        items = [SlashItem(name, command.help) for name, command in BUILTINS.items()]
        templates, _ = load_templates(app.config, app.workspace)
        items += [
            SlashItem(t.name, t.summary or "template", "template")
            for t in templates
            if t.name not in BUILTINS
        ]
        items += [SlashItem(p.ref, p.description or "MCP prompt", "prompt") for p in self._mcp_entries()]
        return items

    def _mcp_entries(self) -> list[PromptEntry]:
        from agentchat.tools.mcp.context import prompts_of

        mcp = self.screen.app.mcp
        return prompts_of(mcp) if mcp is not None else []

    # --- the popup -------------------------------------------------------------------------------
    def text_changed(self, text: str) -> None:
        """While a name is typed after `/`: what matches it. The list (templates read from disk)
        is made once per `/`, not per key."""
        if TYPING.fullmatch(text) and not text.startswith("//"):
            if self._listed is None:
                self._listed = self.items()
            self.menu.show_items(matching(self._listed, text[1:])[: MAX_SHOWN * 3])
        else:
            self.close()

    def move(self, step: int) -> None:
        self.menu.move(step)

    def complete(self) -> None:
        """tab: the highlighted name into the prompt, ready for its arguments."""
        item = self.menu.current
        if item is not None:
            prompt = self.screen.prompt
            prompt.load_text(f"/{item.name} ")
            prompt.move_cursor(prompt.document.end)
            self.close()

    def close(self) -> None:
        self._listed = None
        if self.menu.display:
            self.menu.close()

    # --- running ---------------------------------------------------------------------------------
    def submit(self, text: str) -> None:
        """Enter on the prompt: a slash command runs (or is refused) here, a message goes to the
        turn runner (with a /system given before the conversation began)."""
        screen = self.screen
        highlighted = self.menu.current
        self.close()
        match = COMMAND.fullmatch(text.strip())
        if match is None:  # a message; `/etc/hosts says what?` too, and `//x` is sent as `/x`
            system = self.take_system()
            extra = Choices(system=system) if system is not None else None
            screen.turns.submit(text[1:] if text.startswith("//") else text, extra=extra)
            return
        name, args = match.group(1), (match.group(2) or "").strip()
        if highlighted is not None and TYPING.fullmatch(text.strip()):
            name = highlighted.name  # `/mo` + enter runs what the popup highlights
        if name in BUILTINS:
            screen.prompt.clear()
            self.run(name, args)
        elif name in template_files(screen.app.config, screen.app.workspace):
            self._run_template(name, args)
        elif ":" in name:
            self._fill_mcp_prompt(name, args)
        else:
            screen.notify(f"no command or template /{name}: /help lists them", severity="warning", timeout=5)

    def run(self, name: str, args: str = "") -> None:
        """A built-in command by name (the palette's "Slash commands" runs /help)."""
        BUILTINS[name].run(self.screen, args)

    def take_system(self) -> str | None:
        """The /system given before the conversation began: its first turn sends it, once."""
        system, self.pending_system = self.pending_system, None
        return system

    def _run_template(self, name: str, args: str) -> None:
        screen = self.screen
        try:
            template = parse_template(template_files(screen.app.config, screen.app.workspace)[name])
        except AgentchatError as exc:
            notify_error(screen, exc, timeout=10)
            return
        model, provider, system, tools = template.fill(None, None, self.take_system(), None)
        extra = Choices(model=model, provider=provider, system=system, tool_names=tools)
        screen.turns.submit(template.render(split_args(args)), extra=extra)

    def _fill_mcp_prompt(self, ref: str, args: str) -> None:
        """The MCP prompt's text into the input, to read and send (tui/mcp_prompts.py, as the
        palette does). Arguments: NAME=VALUE, or words in the order the server declares them;
        none given, and the prompt has some, they are asked for."""
        from agentchat.tui.mcp_prompts import fill_from_prompt

        screen = self.screen
        entry = next((p for p in self._mcp_entries() if p.ref == ref), None)
        if entry is None:
            screen.notify(f"no command, template or MCP prompt /{ref}", severity="warning", timeout=5)
            return
        words = split_args(args)
        values = dict(w.split("=", 1) for w in words if "=" in w)
        names = [name for name, _ in entry.arguments if name not in values]
        values |= dict(zip(names, [w for w in words if "=" not in w], strict=False))
        screen.prompt.clear()
        screen.run_worker(fill_from_prompt(screen, entry, values or None), exit_on_error=False)
