"""Provider adapters, imported lazily: only the SDK of the provider in use is ever loaded."""

from __future__ import annotations

from importlib import import_module

from agentchat.providers.base import Provider, ProviderSettings

_ADAPTERS = {
    "openai": ("agentchat.providers.openai", "OpenAIProvider"),
    "anthropic": ("agentchat.providers.anthropic", "AnthropicProvider"),
    "ollama": ("agentchat.providers.ollama", "OllamaProvider"),
    "local": ("agentchat.providers.local", "LocalProvider"),
}


def create_provider(settings: ProviderSettings) -> Provider:
    module_name, class_name = _ADAPTERS[settings.type]
    cls = getattr(import_module(module_name), class_name)
    return cls(settings)
