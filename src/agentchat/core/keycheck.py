"""Key status per provider and live checks; shared by `agentchat keys` and the TUI's key panel."""

from __future__ import annotations

import asyncio

from agentchat.config import Config
from agentchat.core.errors import AuthError, ConfigError, ProviderError, ProviderNetworkError
from agentchat.core.request import ProviderSettings, has_key, key_needed
from agentchat.providers import create_provider


def key_required(config: Config, settings: ProviderSettings) -> bool:
    """What the adapters refuse to send without (OpenAI's and Anthropic's own APIs, whatever the
    provider is called: core.request.key_needed), and any other provider once it names an api_key_env."""
    return key_needed(settings) or config.api_key_env(settings.name) is not None


def key_status(config: Config) -> list[dict[str, str]]:
    """Rows of provider, status (set / missing / not needed / invalid) and source — never the key."""
    rows = []
    for name in config.provider_names():
        try:
            settings = config.provider(name)
        except ConfigError as exc:  # a key with a space inside: the row says where it is
            rows.append({"provider": name, "status": "invalid", "source": str(exc)})
            continue
        if has_key(settings):
            status, source = "set", settings.key_source or ""
        elif key_required(config, settings):
            status, source = "missing", f"set {settings.key_hint}"
        else:
            status, source = "not needed", settings.base_url or ""
        rows.append({"provider": name, "status": status, "source": source})
    return rows


async def check_one(settings: ProviderSettings, timeout_s: float = 10.0) -> str:
    """valid / rejected / unreachable (or, for Ollama, how many models it serves)."""
    if key_needed(settings) and not has_key(settings):
        return "missing"
    provider = create_provider(settings)
    try:
        models = await asyncio.wait_for(provider.list_models(), timeout_s)
    except (ProviderError, TimeoutError) as exc:
        return failure_label(exc)
    finally:
        await provider.aclose()
    if settings.type == "ollama":
        return f"reachable, {len(models)} models"
    return "valid"


UNUSABLE = ("missing", "rejected", "unreachable")  # check results a request would fail with


def failure_label(exc: BaseException) -> str:
    """How a provider that failed to list its models reads in the key panel and the model picker."""
    if isinstance(exc, AuthError):
        return "rejected"
    if isinstance(exc, (ProviderNetworkError, TimeoutError)):
        return "unreachable"
    return f"error: {exc}"


async def check_all(config: Config) -> dict[str, str]:
    names = config.provider_names()
    results = await asyncio.gather(*(_check(config, n) for n in names))
    return dict(zip(names, results, strict=True))


async def _check(config: Config, name: str) -> str:
    try:
        settings = config.provider(name)
    except ConfigError:  # key_status's row already says what is wrong
        return "invalid"
    if not has_key(settings) and key_required(config, settings):
        return "missing"  # a call without the key it needs could only be rejected
    return await check_one(settings)
