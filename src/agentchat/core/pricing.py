"""Token prices (the shipped `data/prices.json` plus `[pricing."MODEL"]` overrides) and request cost.

A price is never guessed: an id that is neither listed, nor a snapshot listed under an alias, nor
configured has no price, so its cost is unknown rather than a made-up number.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from agentchat.core.errors import ConfigError
from agentchat.core.messages import Message, Usage

_FIELDS = ("input", "output", "cached_input", "cache_write", "cache_write_1h")


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens. `cached_input` is a cache read; `cache_write` and `cache_write_1h` a
    prompt-cache write kept 5 minutes or an hour (Anthropic's). None: billed at the input rate."""

    input: float
    output: float
    cached_input: float | None = None
    cache_write: float | None = None
    cache_write_1h: float | None = None


@dataclass(frozen=True, slots=True)
class PriceTable:
    updated: str
    source: str
    prices: dict[str, Price]
    aliases: dict[str, str]  # dated snapshot id -> the alias it is billed as


@cache
def price_table() -> PriceTable:
    """Read the shipped table once, on first use, so importing the core stays cheap."""
    raw = json.loads(resources.files("agentchat").joinpath("data/prices.json").read_text("utf-8"))
    prices: dict[str, Price] = {}
    aliases: dict[str, str] = {}
    for model, entry in raw["models"].items():
        prices[model] = Price(**{k: entry[k] for k in _FIELDS if k in entry})
        for snapshot in entry.get("snapshots", ()):
            aliases[snapshot] = model
    return PriceTable(raw["updated"], raw["source"], prices, aliases)


def _number(model: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f'pricing."{model}".{key} must be a non-negative number (USD per 1M tokens)')
    return float(value)


def _apply_override(model: str, base: Price | None, table: Any) -> Price:
    """Fields given in config replace the shipped ones, so one rate can be corrected alone."""
    if not isinstance(table, dict):
        raise ConfigError(f'[pricing."{model}"] must be a table')
    unknown = set(table) - set(_FIELDS)
    if unknown:
        raise ConfigError(f'pricing."{model}": unknown key(s) {", ".join(sorted(unknown))}')
    values: dict[str, float | None] = {k: getattr(base, k) if base else None for k in _FIELDS} | {
        k: _number(model, k, v) for k, v in table.items()
    }
    input_rate, output_rate = values["input"], values["output"]
    if input_rate is None or output_rate is None:
        raise ConfigError(f'pricing."{model}" needs both input and output (USD per 1M tokens)')
    return Price(input_rate, output_rate, *(values[k] for k in _FIELDS[2:]))


def price_for(model: str, overrides: dict[str, Any] | None = None) -> Price | None:
    """The price of `model`: exact id first, then a listed snapshot's alias; config beats the table.

    `overrides` is the `[pricing]` config table: {"MODEL": {"input": .., "output": .., "cached_input": ..}}.
    """
    table = price_table()
    overrides = overrides or {}
    names = [model]
    if model not in table.prices and model in table.aliases:
        names.append(table.aliases[model])
    base = next((table.prices[n] for n in names if n in table.prices), None)
    for name in names:
        if name in overrides:
            return _apply_override(name, base, overrides[name])
    return base


def cost(
    model: str, usage: Usage, overrides: dict[str, Any] | None = None, cache_ttl: str = "5m"
) -> float | None:
    """USD for one request, or None when the price or the token counts are unknown.

    Cache reads (`cached_tokens`) and writes (`cache_write_tokens`) are part of `input_tokens` and
    billed at their own rates, a write at the rate of the TTL it was made with; reasoning tokens are
    already inside `output_tokens`, so they are not added again.
    """
    price = price_for(model, overrides)
    if price is None or usage.input_tokens is None or usage.output_tokens is None:
        return None
    cached = min(usage.cached_tokens or 0, usage.input_tokens)
    written = min(usage.cache_write_tokens or 0, usage.input_tokens - cached)
    write_rate = price.cache_write_1h if cache_ttl == "1h" else price.cache_write
    micro_usd = (
        (usage.input_tokens - cached - written) * price.input
        + cached * (price.input if price.cached_input is None else price.cached_input)
        + written * (price.input if write_rate is None else write_rate)
        + usage.output_tokens * price.output
    )
    return micro_usd / 1_000_000


# Providers that run on the user's own machine (the embedded model, Ollama): nothing is billed, so
# their requests cost $0, known, rather than an unknown price (a configured [pricing] still counts).
FREE_PROVIDERS = ("local", "ollama")


def free(provider: str | None, model: str | None, pricing: dict[str, Any]) -> bool:
    """The request runs locally and no price is configured for its model."""
    return provider in FREE_PROVIDERS and (model or "") not in pricing


def reply_cost(message: Message, pricing: dict[str, Any], cache_ttl: str = "5m") -> float | None:
    """A reply's cost. The price table is for OpenAI's and Anthropic's own models; elsewhere a model
    name may be anything (a local file called gpt-4o), so only a configured price counts; a local
    model without one is free."""
    if free(message.provider, message.model, pricing):
        return 0.0
    if message.provider in ("openai", "anthropic") or (message.model or "") in pricing:
        return cost(message.model or "", message.usage, pricing, cache_ttl)
    return None
