"""The Textual app: one engine, store, router and tool registry per session, shared by every screen.

`run_tui` is what `agentchat` without arguments calls. The app takes its parts as arguments so
tests and the screenshot script run the real thing against fake servers and a temp store.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App, SystemCommand
from textual.notifications import SeverityLevel

from agentchat import gc_policy
from agentchat.core.agents import Agent, load_agent
from agentchat.core.engine import Engine
from agentchat.core.routing import Router
from agentchat.providers import list_models, preload_in_thread
from agentchat.tui.format import TimeFormat, local_time
from agentchat.tui.plain import clean
from agentchat.tui.provider_state import HealthBoard

if TYPE_CHECKING:
    from pathlib import Path

    from textual.screen import Screen

    from agentchat.config import Config
    from agentchat.core.messages import ToolCallPart
    from agentchat.core.store import Store
    from agentchat.tools.approval import ApprovalGate, Decision
    from agentchat.tools.base import Tool
    from agentchat.tools.mcp import MCPManager
    from agentchat.tools.mcp.elicit import Answer, Elicitation
    from agentchat.tools.registry import ToolRegistry


def _main_screen() -> Screen[Any]:
    from agentchat.tui.screens.main import MainScreen  # imports this module: not at its top

    return MainScreen()


class AgentchatApp(App[None]):
    CSS_PATH = "app.tcss"  # what every screen shares (the dialogs' frame); each screen has its own
    TITLE = "agentchat"
    # The main screen as the app's one mode, not `get_default_screen`: Textual loads a screen's
    # CSS_PATH when it installs a mode or pushes a screen, never for the default screen.
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {"chat": _main_screen}
    DEFAULT_MODE = "chat"

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        router: Router | None = None,
        registry: ToolRegistry | None = None,
        mcp: MCPManager | None = None,
        timefmt: TimeFormat = local_time,
        engine_clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        workspace: Path | None = None,
        clipboard_image: Callable[[], bytes | None] | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.store = store
        self.router = router or Router(config, discover=list_models)
        self.registry = registry
        self.mcp = mcp
        if mcp is not None:  # a server asking the user for input mid-call: a modal
            mcp.elicitor = self.elicit
        self.timefmt = timefmt
        self.wall_clock = wall_clock  # "now" for the stats window and budget checks; fixed in tests
        self.workspace = workspace or config.workspace  # what `@` lists and relative paths are read from
        if clipboard_image is None:
            from agentchat.tui.clipboard import read_clipboard_image

            clipboard_image = read_clipboard_image
        self.clipboard_image = clipboard_image  # ctrl+v: the desktop's clipboard; a fake in tests
        self.engine = Engine(
            config, store, router=self.router, registry=registry, clock=engine_clock, wall_clock=wall_clock
        )
        self._agents: dict[str, Agent] = {}
        self.exit_on_signals = False  # set by run_tui: a test's app must not own the process's signals
        self.stopped_by = 0  # the signal that ended the app, if one did
        self.health = HealthBoard()  # provider -> its last live check; the providers pane watches it
        self._gates: dict[int | None, ApprovalGate] = {}

    def on_mount(self) -> None:
        if self.exit_on_signals:
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGHUP):
                loop.add_signal_handler(signum, self._stop_by_signal, signum)
        if self.registry is not None:  # start MCP servers now; the engine reports what failed, once
            self.run_worker(self.registry.load(), group="tools", exit_on_error=False)
        for warning in self.config.warnings:  # a key the config holds that agentchat does not know
            self.notify(warning, title="Config", severity="warning", timeout=15)
        from agentchat.tui.preferences import apply

        apply(self)  # [keys] and [ui] theme

    def _stop_by_signal(self, signum: int) -> None:
        """SIGTERM/SIGHUP (a closed terminal, `kill`): leave as ctrl+q does, so the reply under way
        is stored as interrupted and the terminal is restored."""
        self.stopped_by = signum
        self.exit()

    async def on_unmount(self) -> None:
        gc_policy.allow_full_collections()  # a turn's end may not have come round to it
        await self.engine.aclose()
        if self.mcp is not None:
            await self.mcp.aclose()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification (widgets' and screens' `notify` end here) is plain text: messages
        quote provider errors, model and conversation names, file paths, and none of ours uses
        markup. `markup` is accepted for Textual's signature and ignored."""
        super().notify(clean(message), title=clean(title), severity=severity, timeout=timeout, markup=False)

    def action_help_quit(self) -> None:
        """ctrl+c, pressed to quit out of habit: name the key that quits. Textual's own message
        is markup, which `notify` above shows as typed; this one is plain."""
        for key, active in self.active_bindings.items():
            if active.binding.action in ("quit", "app.quit"):
                self.notify(f"Press {key} to quit the app", title="Do you want to quit?")
                return

    def copy_to_clipboard(self, text: str) -> None:
        """OSC 52 through the terminal, and the desktop's clipboard tool where there is one."""
        super().copy_to_clipboard(text)
        from agentchat.tui.clipboard import copy_with_tool

        self.run_worker(lambda: copy_with_tool(text), thread=True, group="clipboard", exit_on_error=False)

    def warm_sdk(self, provider: str) -> None:
        preload_in_thread(self.router.settings(provider))

    # --- agents and tools ------------------------------------------------------------------------
    def agent_names(self) -> list[str]:
        default, *named = self.config.agent_names()
        return [default, *sorted(named)]

    def agent(self, name: str) -> Agent:
        if name not in self._agents:
            self._agents[name] = load_agent(self.config, None if name == "default" else name)
        return self._agents[name]

    def gate_for(self, conversation_id: int | None, agent: Agent) -> ApprovalGate:
        """One gate per conversation: "always" answers hold for that conversation only. Its
        policies (config, then the agent's tools) also decide which tools the engine offers.
        None is the conversation about to begin (the engine creates it: see `adopt_gate`)."""
        from agentchat.tools.toolset import approval_gate

        gate = self._gates.get(conversation_id)
        if gate is None:
            gate = self._gates[conversation_id] = approval_gate(
                self.config, self.approve, agent_tools=agent.tools
            )
        return gate

    def adopt_gate(self, conversation_id: int) -> None:
        """The new conversation's gate, made before the engine gave it its id, is now its own."""
        gate = self._gates.pop(None, None)
        if gate is not None:
            self._gates[conversation_id] = gate

    async def approve(self, call: ToolCallPart, tool: Tool) -> Decision:
        from agentchat.tui.screens.approval import ask_approval
        from agentchat.tui.widgets.tools import ToolPane

        panes = self.screen.query(ToolPane)
        for pane in panes:
            pane.mark(call.id, "asking")
        decision = await ask_approval(self, call, tool)
        for pane in panes:
            pane.mark(call.id, "running")
        return decision

    async def elicit(self, request: Elicitation) -> Answer:
        from agentchat.tui.screens.elicit import ask_elicitation

        return await ask_elicitation(self, request)

    # --- command palette -------------------------------------------------------------------------
    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        from agentchat.tui.commands import system_commands
        from agentchat.tui.screens.main import MainScreen

        if isinstance(screen, MainScreen):
            from agentchat.tui.mcp_prompts import prompt_commands

            yield from system_commands(screen)
            yield from prompt_commands(screen)
        yield from super().get_system_commands(screen)


def run_tui(config_path: str | None) -> int:
    from agentchat.config import load_config
    from agentchat.core.store import Store
    from agentchat.tools.toolset import open_tools

    config = load_config(config_path)
    store = Store.open_default()
    try:
        registry, mcp = open_tools(config)
        app = AgentchatApp(config, store, registry=registry, mcp=mcp)
        app.exit_on_signals = True
        app.run()
        return 128 + app.stopped_by if app.stopped_by else 0
    finally:
        store.close()
