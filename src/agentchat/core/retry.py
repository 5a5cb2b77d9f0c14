"""The retry policy the engine applies to every provider (SDK retries are off, so all behave alike).

`next_delay` is the single decision; the engine's streaming loop calls it for every provider.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from agentchat.core.errors import ProviderError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """`max_attempts` counts the first try; `budget_s` bounds the whole affair, waits included;
    `jitter` shortens each backoff by up to that fraction so clients do not retry in lockstep."""

    max_attempts: int = 4
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    budget_s: float = 60.0
    jitter: float = 0.25


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
