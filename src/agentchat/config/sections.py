"""Typed views of the config's sections, each parsed and checked once, in one place.

The engine, the tools and the faces ask `config.retry`, `config.tools`, `config.mcp_servers`... and
get a typed value; a wrong value is a ConfigError naming the key the first time it is asked for
(so a mistake in [mcp_servers] does not stop `agentchat history`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agentchat.config.values import parse_policy, parse_seconds
from agentchat.core.caching import TTLS, CachePolicy
from agentchat.core.errors import ConfigError
from agentchat.core.request import Policy
from agentchat.core.retry import RetryPolicy

MAX_OUTPUT_BYTES = 100_000  # the default of [tools] max_output_bytes (the registry's cap is the same)
MIN_OUTPUT_BYTES = 2_000  # below this the truncation notes would not fit


# --- [retry] ------------------------------------------------------------------------------------
# config key in [retry] -> RetryPolicy field; config names follow `timeout` (seconds, no suffix)
_CONFIG_KEYS = {
    "max_attempts": "max_attempts",
    "base_delay": "base_delay_s",
    "max_delay": "max_delay_s",
    "budget": "budget_s",
    "jitter": "jitter",
}


def retry_policy(table: dict[str, Any] | None) -> RetryPolicy:
    """Build from the `[retry]` table; unknown keys are errors so a typo is not silently ignored."""
    table = table or {}
    unknown = set(table) - set(_CONFIG_KEYS)
    if unknown:
        raise ConfigError(
            f"[retry]: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(_CONFIG_KEYS)}"
        )
    values: dict[str, Any] = {}
    for key, value in table.items():
        name = _CONFIG_KEYS[key]
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if name == "max_attempts":
            if not (number and isinstance(value, int) and value >= 1):
                raise ConfigError("retry.max_attempts must be a whole number of at least 1")
            values[name] = value
        elif not (number and value >= 0 and (name != "jitter" or value <= 1)):
            limits = "between 0 and 1" if name == "jitter" else "a non-negative number of seconds"
            raise ConfigError(f"retry.{key} must be {limits}")
        else:
            values[name] = float(value)
    return RetryPolicy(**values)


# --- [rate_limits.PROVIDER] -----------------------------------------------------------------------
def rate_limit(rate_limits: dict[str, Any], provider: str) -> tuple[int | None, int | None]:
    """(requests_per_minute, tokens_per_minute) of a provider; None is unlimited."""
    table = rate_limits.get(provider) or {}
    if not isinstance(table, dict):
        raise ConfigError(f"[rate_limits.{provider}] must be a table")
    unknown = set(table) - {"requests_per_minute", "tokens_per_minute"}
    if unknown:
        raise ConfigError(f"rate_limits.{provider}: unknown key(s) {', '.join(sorted(unknown))}")

    def limit(key: str) -> int | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"rate_limits.{provider}.{key} must be a whole number of at least 1")
        return value

    return limit("requests_per_minute"), limit("tokens_per_minute")


# --- [budget] -----------------------------------------------------------------------------------
def monthly_budget(budget: dict[str, Any]) -> float | None:
    """`[budget] monthly_usd`, checked; None when no budget is set."""
    limit = budget.get("monthly_usd")
    if limit is None:
        return None
    if not isinstance(limit, int | float) or isinstance(limit, bool) or limit < 0:
        raise ConfigError("budget.monthly_usd must be a non-negative number of US dollars")
    return float(limit)


# --- [tools] ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ToolSettings:
    shell_timeout_s: float = 120.0
    max_output_bytes: int = MAX_OUTPUT_BYTES
    sandbox: bool = False
    policies: dict[str, Policy] = field(default_factory=dict)  # [tools.policies]


def policy_table(table: Any, where: str) -> dict[str, Policy]:
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table of tool name = policy")
    return {str(name): parse_policy(value, f"{where}.{name}") for name, value in table.items()}


def tool_settings(table: dict[str, Any], where: str) -> ToolSettings:
    """`[tools]`; `where` is how messages name the table (the file, then `tools`)."""
    limit = table.get("max_output_bytes", MAX_OUTPUT_BYTES)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < MIN_OUTPUT_BYTES:
        raise ConfigError(f"{where}.max_output_bytes must be a whole number of bytes >= {MIN_OUTPUT_BYTES}")
    sandbox = table.get("sandbox", False)
    if not isinstance(sandbox, bool):
        raise ConfigError(f"{where}.sandbox must be true or false")
    return ToolSettings(
        shell_timeout_s=parse_seconds(table.get("shell_timeout", 120), "tools.shell_timeout"),
        max_output_bytes=limit,
        sandbox=sandbox,
        policies=policy_table(table.get("policies", {}), "tools.policies"),
    )


# --- [context] ----------------------------------------------------------------------------------
CONTEXT_STRATEGIES = ("compact", "truncate", "error")


@dataclass(frozen=True, slots=True)
class ContextSettings:
    """What to do when a conversation outgrows the model's window (core/context.py)."""

    strategy: str = "compact"
    compact_model: str | None = None  # None: the conversation's own model summarises


def context_settings(table: dict[str, Any]) -> ContextSettings:
    """`[context] strategy` and `compact_model`, checked."""
    strategy = table.get("strategy", "compact")
    if strategy not in CONTEXT_STRATEGIES:
        raise ConfigError(
            f"context.strategy must be one of {', '.join(CONTEXT_STRATEGIES)}, not {strategy!r}"
        )
    model = table.get("compact_model")
    if model is not None and (not isinstance(model, str) or not model.strip()):
        raise ConfigError("context.compact_model must be a model name")
    return ContextSettings(strategy, model)


# --- [caching] ----------------------------------------------------------------------------------
def caching_policy(table: dict[str, Any]) -> CachePolicy:
    """`[caching] enabled` (default true) and `ttl` ("5m", the default, or "1h"), checked."""
    enabled, ttl = table.get("enabled", True), table.get("ttl", "5m")
    if not isinstance(enabled, bool):
        raise ConfigError("caching.enabled must be true or false")
    if ttl not in TTLS:
        raise ConfigError(f'caching.ttl must be "5m" or "1h", not {ttl!r}')
    return CachePolicy(enabled, ttl)
