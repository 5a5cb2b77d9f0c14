"""Key status per provider and live checks; shared by `agentchat keys` and the TUI's key panel."""

from __future__ import annotations

import asyncio

from agentchat.config import Config
from agentchat.core.errors import AuthError, ProviderError, ProviderNetworkError
from agentchat.providers import create_provider
from agentchat.providers.base import ProviderSettings


def key_required(config: Config, name: str) -> bool:
    """OpenAI and Anthropic always need a key; any other provider once it names an api_key_env."""
    return name in ("openai", "anthropic") or config.api_key_env(name) is not None


def key_status(config: Config) -> list[dict[str, str]]:
    """Rows of provider, status (set / missing / not needed) and source — never the key itself."""
    rows = []
    for name in config.provider_names():
        settings = config.provider(name)
        if settings.api_key:
            status, source = "set", settings.key_source or ""
        elif key_required(config, name):
            status, source = "missing", f"set {settings.key_hint}"
        else:
            status, source = "not needed", settings.base_url or ""
        rows.append({"provider": name, "status": status, "source": source})
    return rows


async def check_one(settings: ProviderSettings, timeout_s: float = 10.0) -> str:
    """valid / rejected / unreachable (or, for Ollama, how many models it serves)."""
    if settings.name in ("openai", "anthropic") and not settings.api_key:
        return "missing"
    provider = create_provider(settings)
    try:
        models = await asyncio.wait_for(provider.list_models(), timeout_s)
    except AuthError:
        return "rejected"
    except (ProviderNetworkError, TimeoutError):
        return "unreachable"
    except ProviderError as exc:
        return f"error: {exc}"
    finally:
        await provider.aclose()
    if settings.type == "ollama":
        return f"reachable, {len(models)} models"
    return "valid"


async def check_all(config: Config) -> dict[str, str]:
    names = config.provider_names()
    results = await asyncio.gather(*(_check(config, n) for n in names))
    return dict(zip(names, results, strict=True))


async def _check(config: Config, name: str) -> str:
    settings = config.provider(name)
    if not settings.api_key and key_required(config, name):
        return "missing"  # a call without the key it needs could only be rejected
    return await check_one(settings)
