"""Provider adapters, imported lazily: only the SDK of the provider in use is ever loaded."""

from __future__ import annotations

from importlib import import_module

from agentchat.core.request import ProviderSettings
from agentchat.providers.base import Provider

_ADAPTERS = {
    "openai": ("agentchat.providers.openai", "OpenAIProvider"),
    "anthropic": ("agentchat.providers.anthropic", "AnthropicProvider"),
    "ollama": ("agentchat.providers.ollama", "OllamaProvider"),
    "local": ("agentchat.providers.local", "LocalProvider"),
}


# The SDK each adapter imports on first use; a face may import it early, off its UI thread.
_SDKS = {"openai": "openai", "anthropic": "anthropic", "ollama": "ollama", "local": "llama_cpp"}


def create_provider(settings: ProviderSettings) -> Provider:
    module_name, class_name = _ADAPTERS[settings.type]
    cls = getattr(import_module(module_name), class_name)
    return cls(settings)


def preload(settings: ProviderSettings) -> None:
    """Import the provider's SDK now, so the first request does not pay for it (0.2-1 s)."""
    try:
        import_module(_SDKS[settings.type])
    except ImportError:  # the adapter reports a missing SDK with a clear message when used
        pass


def preload_in_thread(settings: ProviderSettings) -> None:
    """`preload` for a face that imports SDKs in worker threads while another SDK may be in use on
    its event loop (the TUI). The legacy httpx comes first: openai 3.x runs on httpx2 but looks
    `httpx` up in sys.modules on each request, and while a thread imports it for the Anthropic or
    Ollama SDK it is half-initialised there ("partially initialized module 'httpx' has no attribute
    'Timeout'", the providers pane's `c`). Whole before an SDK is loaded, no later import exposes it.
    (`ask` loads one SDK on one thread: it does not pay the ~40 ms.)"""
    try:
        import_module("httpx")
    except ImportError:
        pass
    preload(settings)


async def list_models(settings: ProviderSettings) -> list[str]:
    """The provider's model list, from a short-lived client (routing discovery, `models`, the TUI)."""
    provider = create_provider(settings)
    try:
        return await provider.list_models()
    finally:
        await provider.aclose()
