"""Which provider and model the main screen's next turn goes to, and the keys that change it.

Resolved at start as `ask` would resolve it, then changed by the model picker (ctrl+l), the
provider cycle (ctrl+o), the providers pane or a reopened conversation, and always shown in the
provider bar, the pane and the welcome. A provider newly chosen has its SDK imported in a thread at
once, so the first send does not freeze. Which providers are usable is `provider_state`'s.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING

from agentchat import gc_policy
from agentchat.core.errors import AgentchatError
from agentchat.tui.errors import notify_error
from agentchat.tui.provider_state import LOCAL, UNCHECKED, ProviderRow, probe, provider_rows
from agentchat.tui.screens.models import ModelPicker
from agentchat.tui.widgets.providers import ProvidersPane
from agentchat.tui.widgets.welcome import Welcome

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
        self.refresh_views()

    def refresh_views(self) -> None:
        """The providers pane and the welcome say which provider answers next, and how each is."""
        for pane in self.screen.query(ProvidersPane):
            pane.refresh_state()
        for welcome in self.screen.query(Welcome):
            welcome.refresh_state()

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
        self.screen.run_worker(self.probe_all(), name="probe_providers", group="startup", exit_on_error=False)

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
            if route.reason == "nothing else usable":  # a newcomer: say once what answers, and the way on
                app.call_from_thread(
                    screen.notify,
                    f"no API key or running Ollama found: the embedded model {route.model} answers "
                    "(small, offline). Press f2 to add a key",
                    title="Embedded model",
                    timeout=10,
                )

    # --- which providers a turn could go to ----------------------------------------------------
    def rows(self) -> list[ProviderRow]:
        app = self.screen.app
        return provider_rows(app.config, app.router, app.health)

    async def probe_all(self) -> None:
        """The cheap health of every provider (Ollama answering, the embedded model installed),
        into the app's health board, which the pane and the welcome watch."""
        app = self.screen.app
        names = [row.name for row in self.rows() if row.health == UNCHECKED]
        found = await asyncio.gather(*(probe(app.config, app.router, name) for name in names))
        for name, health in zip(names, found, strict=True):
            if health != UNCHECKED and app.health.get(name) in (None, UNCHECKED):
                app.health[name] = health

    async def usable(self) -> list[str]:
        """Providers a turn could go to now (the one in use stays, whatever its last check said)."""
        if any(row.health == UNCHECKED for row in self.rows()):
            await self.probe_all()  # ctrl+o pressed before the start-up probes came back
        return [row.name for row in self.rows() if row.usable or row.name == self.provider]

    def only_local(self, usable: list[str]) -> bool:
        return usable == [LOCAL] and self.provider in (None, LOCAL)

    def say_only_local(self) -> None:
        self.screen.notify(
            "only the embedded model (local) is usable: press f2 to add an API key, or start Ollama",
            title="Provider",
            severity="warning",
            timeout=8,
        )

    async def cycle(self) -> None:
        """The next usable provider, the embedded model included; with the model last used there."""
        screen = self.screen
        names = await self.usable()
        if not names:
            screen.notify("no provider is usable: press f2 to set a key", severity="warning")
            return
        if self.only_local(names):
            if self.provider == LOCAL:
                self.say_only_local()
                return
        elif names == [self.provider]:
            screen.notify("no other provider is usable: f2 shows why", severity="warning", timeout=4)
            return
        index = names.index(self.provider) + 1 if self.provider in names else 0
        await self.switch(names[index % len(names)])

    async def choose(self, name: str) -> None:
        """The providers pane's enter: switch there, or say why not and what fixes it."""
        app = self.screen.app
        row = next((r for r in self.rows() if r.name == name), None)
        if row is not None and not row.usable and row.key not in ("missing", "invalid"):
            app.health[name] = await probe(app.config, app.router, name)  # started since? look again
            row = next((r for r in self.rows() if r.name == name), None)
        if row is None or row.usable or name == self.provider:
            await self.switch(name)
            return
        if row.key == "missing":
            why = f"{name} has no key: press f2 to set one ({row.source})"
        elif name == LOCAL and row.health == "not installed":
            why = "the embedded model is not installed: pip install 'agentchat[local]'"
        else:
            why = f"{name} is {row.health}: f2 shows its key and checks it"
        self.screen.notify(why, title="Provider", severity="warning", timeout=8)

    async def switch(self, name: str) -> None:
        """Send the next turn to `name` (the pane, ctrl+o), with the model last used there."""
        screen = self.screen
        try:
            route = await screen.app.router.resolve(self._last_model.get(name), name)
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
