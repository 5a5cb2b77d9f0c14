"""Which provider and model the main screen's next turn goes to, and the keys that change it.

Resolved at start as `ask` would resolve it, then changed by the model picker (ctrl+l), the
provider cycle (ctrl+o) or a reopened conversation, and always shown in the provider bar. A
provider newly chosen has its SDK imported in a thread at once, so the first send does not freeze.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING

from agentchat import gc_policy
from agentchat.core.errors import AgentchatError
from agentchat.core.keycheck import UNUSABLE, key_status
from agentchat.tui.errors import notify_error
from agentchat.tui.screens.models import ModelPicker

if TYPE_CHECKING:
    from agentchat.core.routing import Route
    from agentchat.tui.screens.main import MainScreen


class RouteControl:
    """The main screen's route (`screen.route`). None while it still resolves: the engine picks."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.provider: str | None = None
        self.model: str | None = None
        self._last_model: dict[str, str] = {}  # per provider: what ctrl+o comes back to
        self._frozen_sdk = False

    def set(self, provider: str | None, model: str | None) -> None:
        if provider and provider != self.provider:
            self.screen.run_worker(
                partial(self._warm_up, provider),
                name="warm_up",
                group="warm-up",
                exit_on_error=False,
                thread=True,
            )
        self.provider, self.model = provider, model
        if provider and model:
            self._last_model[provider] = model
        bar = self.screen.bar
        bar.provider, bar.model = provider, model

    def _warm_up(self, provider: str) -> None:
        """Import the provider's SDK off the event loop (0.2-1 s) so the first send does not freeze."""
        self.screen.app.warm_sdk(provider)
        if not self._frozen_sdk:  # the first SDK is part of start-up: frozen out of collections
            self._frozen_sdk = True  # later, freezing would also keep a conversation's garbage alive
            gc_policy.startup_done()

    def resolve_initial(self) -> None:
        """The provider `ask` would use for the screen's agent; probing Ollama can block, hence a
        thread."""
        self.screen.run_worker(
            self._resolve_initial, name="resolve_initial", group="startup", exit_on_error=False, thread=True
        )

    def _resolve_initial(self) -> None:
        screen = self.screen
        app = screen.app
        agent = app.agent(screen.agent)
        try:
            route: Route = asyncio.run(app.router.resolve(agent.model, agent.provider))
        except AgentchatError as exc:
            app.call_from_thread(
                screen.notify, str(exc), title="No provider", severity="warning", timeout=10, markup=False
            )
            return
        if self.provider is None:
            app.call_from_thread(self.set, route.provider, route.model)

    async def cycle(self) -> None:
        """The next provider with a key, skipping what the last live check (f2, or the model
        picker's discovery) found unusable; with the model last used there."""
        screen = self.screen
        app = screen.app
        names = [row["provider"] for row in key_status(app.config) if row["status"] != "missing"]
        if not names:
            screen.notify("no provider has a key: press f2 to set one", severity="warning")
            return
        names = [n for n in names if app.health.get(n) not in UNUSABLE or n == self.provider] or names
        if names == [self.provider]:
            screen.notify("no other provider is usable: f2 shows why", severity="warning", timeout=4)
            return
        index = names.index(self.provider) + 1 if self.provider in names else 0
        name = names[index % len(names)]
        try:
            route = await app.router.resolve(self._last_model.get(name), name)
        except AgentchatError as exc:
            notify_error(screen, exc)
            return
        self.set(route.provider, route.model)
        screen.notify(f"{route.provider} · {route.model}", title="Provider", timeout=2)

    def pick(self) -> None:
        """The model picker; a model it does not list is routed by its name."""
        screen = self.screen
        app = screen.app

        async def picked(choice: tuple[str | None, str] | None) -> None:
            if choice is None:
                return
            provider, model = choice
            try:
                route = await app.router.resolve(model, provider)
            except AgentchatError as exc:
                notify_error(screen, exc)
                return
            self.set(route.provider, route.model)

        app.push_screen(ModelPicker(app.config, app.router, (self.provider, self.model), app.health), picked)
