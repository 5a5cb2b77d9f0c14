"""The provider clients one engine keeps for its session: created on first use (one per
configured provider), their SDK or local model loaded once before the first request (so that cost
never counts as time to first token), asked what a model takes, and closed together at the end."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentchat.providers import create_provider, preload

if TYPE_CHECKING:
    from agentchat.config import Config
    from agentchat.core.capabilities import Capabilities
    from agentchat.core.request import ProviderSettings
    from agentchat.core.routing import Route
    from agentchat.providers.base import Provider


class ProviderClients:
    """Mixed into the engine, whose turn, compaction and context fitting all ask it."""

    config: Config

    def __init__(self) -> None:
        self._providers: dict[str, Provider] = {}
        self._prepared: set[str] = set()  # providers whose SDK (or local model) is loaded

    def provider_for(self, settings: ProviderSettings) -> Provider:
        provider = self._providers.get(settings.name)
        if provider is None:
            provider = self._providers[settings.name] = create_provider(settings)
        return provider

    async def capabilities(self, route: Route) -> Capabilities:
        """What the route's model takes (vision, PDF, window): its provider's answer, then config."""
        from agentchat.core.capabilities import capabilities_for, model_overrides

        return await capabilities_for(
            self.provider_for(route.settings), route.model, model_overrides(self.config)
        )

    async def aclose(self) -> None:
        providers, self._providers = list(self._providers.values()), {}
        for provider in providers:
            try:
                await provider.aclose()
            except Exception:  # closing a client must not mask the turn's outcome
                pass

    async def _prepare(self, provider: Provider, settings: ProviderSettings) -> None:
        if settings.name not in self._prepared:
            preload(settings)
            prepare = getattr(provider, "prepare", None)
            if prepare is not None:
                await prepare()
            self._prepared.add(settings.name)
