"""A turn's wait for its first token, as the user sees it: the message is on screen at once, with
"connecting to openai…" or "loading model smollm2…" under it until the reply begins.

Measured in a real terminal (bench/bench_tui_send.py), the message used to reach the screen only
after the event loop came back from work that freezes it: importing the provider's SDK (0.3-1 s,
or waiting on the import lock while the warm-up thread imports it). So a turn first lets a frame
with the message and the indicator be drawn, then imports the SDK in a thread, then starts.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from agentchat.core.errors import AgentchatError
from agentchat.core.events import AssistantFinished, TextDelta, ThinkingDelta, ToolCall, TurnStarted
from agentchat.tui.provider_state import turn_health

if TYPE_CHECKING:
    from agentchat.core.events import Event
    from agentchat.tui.screens.main import MainScreen

PAINT_WAIT_S = 0.1  # the longest a turn waits for the frame that shows its message
_loaded: set[tuple[str, str]] = set()  # embedded models that answered in this process: in memory


class FirstTokenWait:
    """One turn's indicator (`ConversationView.show_waiting`), from before the engine starts to
    the first text, thinking or tool call."""

    def __init__(self, screen: MainScreen, provider: str | None, model: str | None) -> None:
        self.screen = screen
        self.provider, self.model = provider, model
        self.waiting = False

    def _is_local(self, provider: str | None) -> bool:
        try:
            return provider is not None and self.screen.app.router.settings(provider).type == "local"
        except AgentchatError:
            return False

    def label(self) -> str:
        provider, model = self.provider, self.model
        if provider is None:
            return "connecting…"
        if self._is_local(provider):
            if (provider, model or "") in _loaded:
                return f"waiting for {model}…"
            return f"loading model {model}…" if model else "loading model…"
        return f"connecting to {provider}…"

    async def start(self) -> None:
        """Show the indicator, let a frame with it (and the message above) be drawn, then import
        the SDK off the event loop."""
        screen = self.screen
        self.waiting = True
        await screen.view.show_waiting(self.label())
        painted = asyncio.Event()
        screen.call_after_refresh(painted.set)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(painted.wait(), PAINT_WAIT_S)
        if self.provider is not None:
            with contextlib.suppress(AgentchatError):  # an unknown provider: the engine says so
                await asyncio.to_thread(screen.app.warm_sdk, self.provider)

    async def seen(self, event: Event) -> None:
        """The first content ends the wait; the engine's route may name another provider."""
        if not self.waiting:
            return
        if isinstance(event, TurnStarted) and (event.provider, event.model) != (self.provider, self.model):
            self.provider, self.model = event.provider, event.model
            await self.screen.view.show_waiting(self.label())
        elif isinstance(event, AssistantFinished):  # no content came: a failure, or an empty reply
            await self.stop()
            if event.status == "complete":
                self.answered()
        elif isinstance(event, (TextDelta, ThinkingDelta, ToolCall)):
            if isinstance(event, TextDelta) and not event.text:
                return
            await self.stop()
            self.answered()

    def answered(self) -> None:
        """The provider answered: it works (the pane says so), and an embedded model is loaded."""
        provider = self.provider
        if provider is None:
            return
        if self._is_local(provider):
            _loaded.add((provider, self.model or ""))
        else:
            self.screen.app.health[provider] = "ok"

    def failed(self, exc: AgentchatError) -> None:
        """A rejected key or an unreachable server is the provider's health from now on."""
        provider = getattr(exc, "provider", None) or self.provider
        health = turn_health(exc)
        if provider is not None and health is not None:
            self.screen.app.health[provider] = health

    async def stop(self) -> None:
        if self.waiting:
            self.waiting = False
            await self.screen.view.stop_waiting()
