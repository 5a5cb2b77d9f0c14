"""What an empty conversation shows: which provider and model will answer, the keys that matter
(set where, or how to set them), where the config file is, and the keys that change all that.

It lives in the conversation pane while there is no message (`ConversationView` mounts it) and
follows the route and the providers' health as they change. Names and paths come from the config
and the environment: all `Text`, never markup.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import getters
from textual.widgets import Static

from agentchat.config import ENV, Config
from agentchat.tui.app import AgentchatApp
from agentchat.tui.plain import clean
from agentchat.tui.provider_state import LOCAL, ProviderRow, provider_rows
from agentchat.tui.tcss import tcss_beside
from agentchat.tui.widgets.providers import current_route

NAME_W = 11
KEYS_HINT = (
    "ctrl+o next provider · ctrl+l pick a model · f2 set keys\n"
    "ctrl+b conversations and providers · ctrl+p every command"
)


def key_line(row: ProviderRow) -> tuple[str, str]:
    """How a provider stands, in words a newcomer acts on, and its style."""
    variable = ENV.get(row.name, ("",))[0]
    if row.key == "missing":
        return (
            f"no key: export {variable} or press f2" if variable else f"no key: {row.source} (or f2)",
            "red",
        )
    if row.key == "invalid":
        return row.source, "red"
    if row.key == "config":
        return "key in the config file", "green"
    if row.key == "command":
        return "key from api_key_cmd", "green"
    if row.key == "env":
        return f"key from ${row.source}", "green"
    if row.name == LOCAL:
        return {
            "ready": ("embedded model installed, no key needed", "green"),
            "disabled": ("disabled in the config", "dim"),
            "not installed": ("not installed: pip install 'agentchat[local]'", "dim"),
        }.get(row.health, ("embedded model, no key needed", "dim"))
    if row.health == "unreachable":
        return f"not running at {row.source}" if row.source else "not running", "dim"
    running = row.health.startswith("reachable")
    return f"no key needed{' · running' if running else ''} · {row.source}", "green" if running else "dim"


def home_relative(path: Path) -> str:
    """`~/.config/agentchat/config.toml`: shorter, and what the user would type."""
    try:
        return f"~/{path.relative_to(Path.home())}"
    except (ValueError, RuntimeError):  # elsewhere, or no home directory
        return str(path)


def route_lines(provider: str | None, model: str | None, rows: list[ProviderRow]) -> Text:
    text = Text("Your next message goes to  ")
    if provider is None:
        if any(row.usable for row in rows):
            return text.append("the first usable provider (looking…)", style="italic")
        return text.append("no provider yet: add a key with f2", style="bold red")
    text.append(clean(f" {provider} "), style="bold reverse")
    text.append(clean(f" {model or '?'}"), style="bold")
    if provider == LOCAL:
        text.append("\n  the embedded llama.cpp model: small, offline, no key needed", style="dim")
    return text


def welcome_text(config: Config, rows: list[ProviderRow], provider: str | None, model: str | None) -> Text:
    text = Text("Welcome to agentchat\n\n", style="bold")
    text.append_text(route_lines(provider, model, rows))
    text.append("\n\nProviders\n", style="bold")
    for row in rows:
        words, style = key_line(row)
        name = clean(row.name)
        text.append(f"  {name:<{NAME_W}}" if len(name) < NAME_W else f"  {name} ")
        text.append(clean(words), style=style)
        text.append("\n")
    text.append("\nConfig  ", style="bold")
    text.append(clean(home_relative(config.path)))
    if not config.path.exists():
        text.append("\n  not created yet: saving a key with f2 creates it", style="dim")
    text.append("\n\n")
    text.append(KEYS_HINT, style="dim")
    return text


class Welcome(Static):
    DEFAULT_CSS = tcss_beside(__file__)

    app = getters.app(AgentchatApp)

    def on_mount(self) -> None:
        self.app.health.watch(self.refresh_state)
        self.refresh_state()

    def on_unmount(self) -> None:
        self.app.health.unwatch(self.refresh_state)

    def refresh_state(self) -> None:
        app = self.app
        provider, model = current_route(self)
        rows = provider_rows(app.config, app.router, app.health)
        self.update(welcome_text(app.config, rows, provider, model))
