"""Which providers can think before they answer, so a thinking budget asked of one that cannot is
said rather than silently dropped (Anthropic takes it as extended thinking, Ollama as `think`; the
OpenAI adapter and the embedded model send nothing for it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentchat.core.routing import Route

THINKING_TYPES = frozenset({"anthropic", "ollama"})  # the provider types whose adapters send it


def ignored_budget(route: Route, budget: int | None) -> str | None:
    """The warning for a thinking budget `route`'s provider would drop, else None."""
    if budget is None or route.settings.type in THINKING_TYPES:
        return None
    return (
        f"thinking budget ignored: {route.provider}/{route.model} cannot think first "
        "(Anthropic and Ollama models can)"
    )
