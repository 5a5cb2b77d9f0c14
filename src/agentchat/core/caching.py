"""Prompt caching: the policy (`[caching] enabled`, `ttl`), the key a conversation is cached under,
and what a reply cost with the cache and saved by it.

Anthropic caches only what a request marks (cache_control breakpoints, providers/anthropic_cache.py)
and bills a cache write above plain input (1.25x for 5 minutes, 2x for an hour) and a cache read far
below it (0.1x). OpenAI caches every long prefix by itself, bills a read at its cached-input rate and
takes a `prompt_cache_key` that sends a conversation's requests to the same cache. The saving of a
reply is its cost without any caching minus its cost with it: negative for a request that only wrote.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal, get_args

from agentchat.core.messages import Message
from agentchat.core.pricing import reply_cost

if TYPE_CHECKING:
    from agentchat.config import Config

CacheTTL = Literal["5m", "1h"]
TTLS: tuple[str, ...] = get_args(CacheTTL)


@dataclass(frozen=True, slots=True)
class CachePolicy:
    """`[caching]`: on by default, since a cached prefix costs a tenth of plain input to re-read."""

    enabled: bool = True
    ttl: CacheTTL = "5m"


def conversation_key(messages: list[Message]) -> str | None:
    """One key per conversation (every branch of it) and never the same for two conversations,
    even two in-memory ones of `--no-log` that both have id 1: the root's id and creation time,
    hashed so the key says nothing about the history. None for a history that was never stored."""
    root = next((m for m in messages if m.conversation_id is not None), None)
    if root is None:
        return None
    seed = f"{root.conversation_id}:{root.id}:{root.created_at!r}"
    return "agentchat-" + hashlib.sha256(seed.encode()).hexdigest()[:24]


def price_reply(message: Message, config: Config) -> None:
    """Set a finished reply's cost and what caching saved on it (None when the price is unknown).
    Writes are billed at the TTL the request asked for (`[caching] ttl`)."""
    pricing, ttl = config.pricing, config.caching.ttl
    message.cost = reply_cost(message, pricing, ttl)
    usage = message.usage
    if message.cost is None or not (usage.cached_tokens or usage.cache_write_tokens):
        message.saved_usd = None if message.cost is None else 0.0
        return
    plain = replace(message, usage=replace(usage, cached_tokens=None, cache_write_tokens=None))
    uncached = reply_cost(plain, pricing, ttl)
    message.saved_usd = None if uncached is None else uncached - message.cost
