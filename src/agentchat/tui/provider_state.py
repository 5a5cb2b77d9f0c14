"""What the TUI knows about each provider: its key (state and source), its last live health, and
whether a turn could go there now. One list serves the providers pane, the provider cycle
(ctrl+o) and the welcome view, so the three never disagree.

Health is what was last seen, never a guess: the cheap probes at start (is Ollama answering, is the
embedded model installed), the key panel's and model picker's live checks, and each turn's outcome.
A cloud provider with a key is not called at start just to check it (`c` in the pane, or f2, does).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agentchat.core.errors import AgentchatError, AuthError, ProviderNetworkError, UnavailableError
from agentchat.core.keycheck import UNUSABLE, check_one, key_status

if TYPE_CHECKING:
    from agentchat.config import Config
    from agentchat.core.routing import Router

LOCAL = "local"
UNCHECKED = "not checked"
DOWN = (*UNUSABLE, "not installed", "disabled", "invalid")  # a turn sent there now would fail


class HealthBoard(dict[str, str]):
    """provider -> its last live check. A dict (the key panel and the model picker write to it as
    before) that tells its watchers when an entry changes, so the pane and the welcome follow."""

    def __init__(self) -> None:
        super().__init__()
        self._watchers: list[Callable[[], None]] = []

    def watch(self, callback: Callable[[], None]) -> None:
        self._watchers.append(callback)

    def unwatch(self, callback: Callable[[], None]) -> None:
        if callback in self._watchers:
            self._watchers.remove(callback)

    def __setitem__(self, name: str, value: str) -> None:
        changed = self.get(name) != value
        super().__setitem__(name, value)
        if changed:
            for callback in list(self._watchers):
                callback()


@dataclass(frozen=True, slots=True)
class ProviderRow:
    name: str
    key: str  # config / env / command / not needed / missing / invalid
    source: str  # the variable, the config file, or how to set the missing key
    health: str  # the last live check (UNCHECKED when there was none)

    @property
    def usable(self) -> bool:
        """A turn could be sent there now, as far as anything seen so far says."""
        return self.key not in ("missing", "invalid") and self.health not in DOWN


def _key(status: str, source: str) -> str:
    if status == "set":
        return "config" if source == "config" else "command" if source == "command" else "env"
    return status


def local_health(config: Config, router: Router) -> str:
    """ready / disabled / not installed / invalid: known without loading anything."""
    try:
        settings = config.provider(LOCAL)
    except AgentchatError:
        return "invalid"
    if settings.extra.get("enabled", True) is False:
        return "disabled"
    return "ready" if router.usable(settings) else "not installed"


def provider_rows(config: Config, router: Router, health: dict[str, str]) -> list[ProviderRow]:
    """Every provider the config knows, in routing order, then the embedded model."""
    rows = []
    for row in key_status(config):
        name, status = row["provider"], row["status"]
        checked = "invalid" if status == "invalid" else health.get(name, UNCHECKED)
        rows.append(ProviderRow(name, _key(status, row["source"]), row["source"], checked))
    rows.append(ProviderRow(LOCAL, "not needed", "embedded llama.cpp", health.get(LOCAL, UNCHECKED)))
    return rows


def health_label(health: str) -> tuple[str, str]:
    """A short mark and word (9 cells at most) for the narrow pane, with its style."""
    if health in ("valid", "ok", "ready") or health.startswith("reachable"):
        return f"✓ {'ready' if health == 'ready' else 'ok'}", "green"
    if health == "unreachable":
        return "✗ down", "red"
    if health == "rejected":
        return "✗ bad key", "red"
    if health in ("missing", "invalid"):
        return f"✗ {health}", "red"
    if health == "not installed":
        return "✗ absent", "red"
    if health == "disabled":
        return "– off", "dim"
    if health.startswith("error"):
        return "✗ error", "red"
    if health == UNCHECKED:
        return "unchecked", "dim"
    return health, "dim"  # checking… and anything new


async def probe(config: Config, router: Router, name: str) -> str:
    """The cheap health of one provider: the embedded model's files, Ollama's answer to a loopback
    request (as routing probes it); a key that is missing. Cloud providers stay UNCHECKED."""
    if name == LOCAL:
        return await asyncio.to_thread(local_health, config, router)
    try:
        settings = config.provider(name)
    except AgentchatError:
        return "invalid"
    if settings.type == "ollama":
        up = await asyncio.to_thread(router.ollama_probe, settings.base_url)
        return "reachable" if up else "unreachable"
    return UNCHECKED


async def check(config: Config, name: str) -> str:
    """A live check of one provider (a model list request); the embedded model is never loaded
    for it. The SDK is imported in a thread first: importing it on the event loop freezes the UI."""
    from agentchat.providers import preload_in_thread

    try:
        settings = config.provider(name)
    except AgentchatError:
        return "invalid"
    await asyncio.to_thread(preload_in_thread, settings)
    return await check_one(settings)


def turn_health(exc: BaseException) -> str | None:
    """What a failed turn says about its provider's health (None: nothing: a bad request, a
    budget, a stop)."""
    if isinstance(exc, AuthError):
        return "rejected"
    if isinstance(exc, (ProviderNetworkError, UnavailableError)):
        return "unreachable"
    return None
