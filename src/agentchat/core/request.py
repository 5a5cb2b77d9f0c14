"""The neutral request, tool and provider-settings types: what a turn asks a provider for.

Providers and tools import them from here, and config builds them, so none of those layers has
to import another (core -> providers/tools; config imports neither).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

from agentchat.core.messages import Message

if TYPE_CHECKING:
    from agentchat.core.caching import CachePolicy

Policy = Literal["allow", "ask", "deny"]  # what a tool call needs before it runs
POLICIES: tuple[str, ...] = get_args(Policy)


@dataclass(slots=True)
class ToolSpec:
    """One tool definition; each adapter converts it to its provider's format."""

    name: str
    description: str
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})


@dataclass(slots=True)
class ChatRequest:
    model: str
    messages: list[Message]
    system: str | None = None
    tools: list[ToolSpec] = field(default_factory=list)
    temperature: float | None = None
    max_tokens: int | None = None
    thinking_budget: int | None = None  # Anthropic extended thinking / Ollama `think`
    stream: bool = True
    schema: dict[str, Any] | None = None  # the reply's JSON Schema: each adapter asks natively
    cache: CachePolicy | None = None  # prompt caching as [caching] sets it; None: off


@dataclass(slots=True)
class ProviderSettings:
    """What an adapter needs to connect; built by config from the file and the environment."""

    name: str  # the name the user knows: openai, anthropic, ollama, or a [providers.NAME]
    type: str  # openai | anthropic | ollama | local
    base_url: str | None = None
    api_key: str | None = None
    key_command: str | None = None  # api_key_cmd: run once, when the key is first needed
    key_source: str | None = None  # "config" or the env var name; for messages, never the key
    key_hint: str = ""  # where to set a key, e.g. "OPENAI_API_KEY or providers.openai.api_key"
    models: list[str] = field(default_factory=list)
    timeout_s: float = 600.0
    extra: dict[str, Any] = field(default_factory=dict)


def has_key(settings: ProviderSettings) -> bool:
    """A key is set, or a command will give one (not run here: it may ask for a passphrase)."""
    return bool(settings.api_key or settings.key_command)


OPENAI_URL = "https://api.openai.com/"


def key_needed(settings: ProviderSettings) -> bool:
    """The one rule for a provider that cannot work without a key: Anthropic's API, and OpenAI's own
    (the built-in provider, or a named one of type openai without a base_url elsewhere). The
    embedded model, Ollama and other OpenAI-compatible servers may go keyless. The adapters refuse
    to send without one, `agentchat keys` shows it missing, routing skips it."""
    if settings.type == "anthropic":
        return True
    official = settings.name == "openai" or (settings.base_url or "").startswith(OPENAI_URL)
    return settings.type == "openai" and official


def keyless(settings: ProviderSettings) -> bool:
    """A request here could only be refused before it is sent: a key is needed and none is set."""
    return key_needed(settings) and not has_key(settings)
