"""The model picker: models per provider (configured, cached, then discovered live), type to filter.

Model names are what a provider lists (any server can answer): options are `plain` text.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import getters, work
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

from agentchat.core.errors import AgentchatError
from agentchat.core.keycheck import failure_label
from agentchat.core.request import has_key
from agentchat.core.routing import DEFAULT_MODELS
from agentchat.tui.plain import clean, plain
from agentchat.tui.provider_state import LOCAL, local_health
from agentchat.tui.screens.filtered_picker import FilteredPicker

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from agentchat.config import Config
    from agentchat.core.routing import Router

DISCOVERY_TIMEOUT_S = 5.0
Choice = tuple[str | None, str]  # (provider, model); provider None: let the router decide


class ModelPicker(FilteredPicker[Choice | None]):
    CSS_PATH = "models.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", id="dialog-cancel"),
        Binding("down", "move(1)", "Down", show=False, id="models-down"),
        Binding("up", "move(-1)", "Up", show=False, id="models-up"),
    ]

    filter_input = getters.query_one("#filter", Input)
    options = getters.query_one("#models", OptionList)

    def __init__(
        self,
        config: Config,
        router: Router,
        current: tuple[str | None, str | None],
        health: dict[str, str],
    ) -> None:
        super().__init__(classes="dialog")
        self.config = config
        self.router = router
        self.current = current
        self.health = health  # the app's: what discovery finds, for the provider cycle
        self.models: dict[str, list[str]] = {}
        self.status: dict[str, str] = {}
        self._guessed: set[str] = set()  # providers listed with only the router's default model

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body", id="picker"):
            yield Label(
                "Model: type to filter, enter picks (a name not listed is routed by name)",
                classes="dialog-title",
            )
            yield Input(placeholder="filter or model name", id="filter")
            yield OptionList(id="models")

    def on_mount(self) -> None:
        for name, rows in self.router.known_models().items():
            if name == LOCAL:  # the embedded model: listed when installed, else why not
                self._add_local([m for m, _ in rows])
                continue
            self.models[name] = [m for m, _ in rows]
            if not rows and name in DEFAULT_MODELS:
                self.models[name] = [DEFAULT_MODELS[name]]
                self._guessed.add(name)
        self.fill()
        self.filter_input.focus()
        self.discover()

    def _add_local(self, configured: list[str]) -> None:
        health = local_health(self.config, self.router)
        self.models[LOCAL] = []
        if health == "ready":
            served = self.router.local_models(self.config.provider(LOCAL))
            self.models[LOCAL] = list(dict.fromkeys([*served, *configured]))
            self.status[LOCAL] = "embedded llama.cpp: offline, no key"
        elif health == "not installed":
            self.status[LOCAL] = "not installed: pip install 'agentchat[local]'"
        else:
            self.status[LOCAL] = health

    def fill(self) -> None:
        """List matching models grouped by provider; keeps the highlight on the same model."""
        options = self.options
        keep = options.highlighted_option.id if options.highlighted_option else None
        wanted = self.filter_input.value.strip().lower()
        options.clear_options()
        for provider, models in self.models.items():
            shown = [m for m in models if wanted in m.lower() or wanted in provider]
            note = self.status.get(provider, "")
            header = Text.assemble((clean(provider), "bold"), (clean(f"  {note}") if note else "", "dim"))
            options.add_option(Option(header, disabled=True))
            for model in shown:
                key = f"{provider}\t{model}"
                mark = "● " if (provider, model) == self.current else "  "
                options.add_option(Option(plain(f"{mark}{model}"), id=key))
        target = keep or f"{self.current[0]}\t{self.current[1]}"
        try:
            options.highlighted = options.get_option_index(target)
        except OptionDoesNotExist:  # the model is filtered out: highlight the first match instead
            options.action_first()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        option = self.options.highlighted_option
        if option is not None and option.id:
            self._pick(option.id)
        elif event.value.strip():
            self.dismiss((None, event.value.strip()))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self._pick(event.option.id)

    def _pick(self, key: str) -> None:
        provider, model = key.split("\t", 1)
        self.dismiss((provider, model))

    @work(group="discovery")
    async def discover(self) -> None:
        """Ask each provider that can answer for its models; slow or failing ones say so in the list."""

        async def one(name: str) -> None:
            try:
                settings = self.config.provider(name)
            except AgentchatError as exc:  # e.g. a key with a space inside
                self.status[name] = f"error: {exc}"
                return
            if (
                settings.type != "ollama"
                and settings.name in ("openai", "anthropic")
                and not has_key(settings)
            ):
                self.status[name] = "no key"
                return
            self.status[name] = "discovering…"
            try:
                found = await asyncio.wait_for(self.router.refresh(settings), DISCOVERY_TIMEOUT_S)
            except (AgentchatError, TimeoutError) as exc:
                self.status[name] = self.health[name] = failure_label(exc)
                return
            self.status[name] = f"{len(found)} models"
            self.health[name] = "valid"
            known = [] if name in self._guessed else self.models.get(name, [])
            self.models[name] = list(dict.fromkeys([*known, *found]))
            self.fill()

        names = [n for n in self.models if n != LOCAL]
        await asyncio.gather(*(one(n) for n in names))
        self.fill()
