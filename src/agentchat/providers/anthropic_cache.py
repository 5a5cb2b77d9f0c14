"""Prompt-cache breakpoints for the Anthropic Messages API.

Anthropic caches a prompt's prefix only up to a block that carries `cache_control` (at most four
per request) and bills the write above plain input, the later reads at a tenth of it. Marked here:
the last tool definition (a conversation's tools rarely change), the system prompt, and the end of
the last two user turns. The newest is written for the next request; the one before is where the
previous request wrote, so a turn reads everything older from the cache even when a tool loop added
more than the 20 blocks the API looks back over for a hit.

Explicit blocks rather than the SDK's top-level `cache_control` (one automatic breakpoint at the
end): the tools and the system prompt stay cached on their own when a conversation changes, and
proxies that forward block-level cache_control (LiteLLM) take them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentchat.core.caching import CachePolicy


def cache_control(ttl: str) -> dict[str, str]:
    """5 minutes is the API's default, so it is not spelled out (older proxies know no `ttl`)."""
    return {"type": "ephemeral"} if ttl == "5m" else {"type": "ephemeral", "ttl": ttl}


def mark_breakpoints(params: dict[str, Any], policy: CachePolicy | None) -> None:
    """Add the breakpoints to `messages.create` keyword arguments, in place (four at most, the
    API's limit), unless caching is off."""
    if policy is None or not policy.enabled:
        return
    control = cache_control(policy.ttl)
    tools = params.get("tools")
    if tools:
        tools[-1] = {**tools[-1], "cache_control": control}
    system = params.get("system")
    if isinstance(system, str) and system.strip():
        params["system"] = [{"type": "text", "text": system, "cache_control": control}]
    user_turns = [m for m in params["messages"] if m["role"] == "user"]
    for turn in user_turns[-2:]:  # never empty, never thinking (anthropic.to_wire_messages)
        turn["content"][-1]["cache_control"] = control
