"""The retry policy the engine applies to every provider (SDK retries are off, so all behave alike).

`next_delay` is the single decision; the engine's streaming loop calls it for every provider.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from agentchat.core.errors import ConfigError, ProviderError

T = TypeVar("T")

# config key in [retry] -> RetryPolicy field; config names follow `timeout` (seconds, no suffix)
_CONFIG_KEYS = {
    "max_attempts": "max_attempts",
    "base_delay": "base_delay_s",
    "max_delay": "max_delay_s",
    "budget": "budget_s",
    "jitter": "jitter",
}


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """`max_attempts` counts the first try; `budget_s` bounds the whole affair, waits included;
    `jitter` shortens each backoff by up to that fraction so clients do not retry in lockstep."""

    max_attempts: int = 4
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    budget_s: float = 60.0
    jitter: float = 0.25

    @classmethod
    def from_config(cls, table: dict[str, Any] | None) -> RetryPolicy:
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
        return cls(**values)


def next_delay(
    policy: RetryPolicy,
    attempt: int,
    error: ProviderError,
    elapsed_s: float,
    rand: Callable[[], float] = random.random,
) -> float | None:
    """Seconds to wait before trying again, or None to give up.

    `attempt` is the 0-based number of the attempt that just failed; `elapsed_s` is the time spent
    since the first attempt began. The server's `retry_after` wins over backoff, but a wait that
    would overrun the budget means giving up now rather than failing later.
    """
    if not error.retryable or attempt + 1 >= policy.max_attempts:
        return None
    if error.retry_after is not None and error.retry_after > 0:
        delay = error.retry_after
    else:
        backoff = min(policy.base_delay_s * 2**attempt, policy.max_delay_s)
        delay = backoff * (1 - policy.jitter * rand())
    if elapsed_s + delay > policy.budget_s:
        return None
    return delay
