"""The providers pane, in the sidebar: every provider with its key (state and source) and its last
live health; enter (or a click) sends the conversation's next turn there. Collapsible (enter on
its title). f2 stays the place to set a key; `c` here checks every provider now.

Provider names come from the config file: rows are Rich `Text`, never markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import getters, work
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Collapsible, OptionList, Static
from textual.widgets.option_list import Option, OptionDoesNotExist

from agentchat.tui.app import AgentchatApp
from agentchat.tui.plain import clean
from agentchat.tui.provider_state import LOCAL, ProviderRow, health_label, local_health, provider_rows
from agentchat.tui.provider_state import check as live_check
from agentchat.tui.tcss import tcss_beside

if TYPE_CHECKING:
    from textual.widget import Widget

NAME_W = 10
KEY_W = 11


def current_route(widget: Widget) -> tuple[str | None, str | None]:
    """The provider and model the screen's next turn goes to (None, None while it resolves)."""
    route = getattr(widget.screen, "route", None)
    return (route.provider, route.model) if route is not None else (None, None)


def row_text(row: ProviderRow, active: bool) -> Text:
    """One line: `● openai    env        ✓ ok` (● marks the provider in use)."""
    name = clean(row.name)
    name = name if len(name) <= NAME_W - 1 else name[: NAME_W - 2] + "…"
    text = Text("● " if active else "  ", style="bold" if active else "")
    text.append(f"{name:<{NAME_W}}", style="bold" if active else "")
    text.append(f"{row.key:<{KEY_W}}", style="red" if row.key in ("missing", "invalid") else "dim")
    if row.key not in ("missing", "invalid"):  # no key: nothing was or can be checked
        label, style = health_label(row.health)
        text.append(label, style=style)
    text.no_wrap, text.overflow = True, "ellipsis"
    return text


class ProviderList(OptionList):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "check", "Check now", id="providers-check"),
    ]

    def action_check(self) -> None:
        pane = self.parent.parent if self.parent is not None else None  # Contents, then the pane
        if isinstance(pane, ProvidersPane):
            pane.check_all()


class ProvidersPane(Collapsible):
    DEFAULT_CSS = tcss_beside(__file__)

    @dataclass
    class Selected(Message):
        """Send the next turn to this provider (the screen switches the route)."""

        provider: str

    app = getters.app(AgentchatApp)
    options = getters.query_one(ProviderList)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            ProviderList(id="provider-list", compact=True),
            Static(Text("enter use · c check · f2 keys", style="dim"), id="providers-hint"),
            title="Providers",
            collapsed=False,
            id=id,
        )

    def on_mount(self) -> None:
        self.app.health.watch(self.refresh_state)
        self.refresh_state()

    def on_unmount(self) -> None:
        self.app.health.unwatch(self.refresh_state)

    def rows(self) -> list[ProviderRow]:
        app = self.app
        return provider_rows(app.config, app.router, app.health)

    def refresh_state(self) -> None:
        """Rebuild the rows (a key saved, a check done, the route changed); the highlight stays."""
        options = self.options
        kept = options.highlighted_option.id if options.highlighted_option is not None else None
        active, _ = current_route(self)
        options.clear_options()
        options.add_options(Option(row_text(row, row.name == active), id=row.name) for row in self.rows())
        try:
            options.highlighted = options.get_option_index(kept or active or "")
        except OptionDoesNotExist:
            options.highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()  # not the sidebar's: its search results are an OptionList too
        if event.option.id is not None:
            self.post_message(self.Selected(event.option.id))

    def check_all(self) -> None:
        for row in self.rows():
            if row.key not in ("missing", "invalid"):
                self.check(row.name)

    @work(group="providers-check")
    async def check(self, name: str) -> None:
        health = self.app.health
        if name == LOCAL:  # never loaded just to check: installed and enabled is what matters
            health[name] = local_health(self.app.config, self.app.router)
            return
        health[name] = "checking…"
        health[name] = await live_check(self.app.config, name)
