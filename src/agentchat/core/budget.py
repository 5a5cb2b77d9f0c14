"""Spending limits checked before a request: a monthly budget and a per-request `--max-cost`."""

from __future__ import annotations

from datetime import datetime

from agentchat.core.errors import BudgetError
from agentchat.core.messages import Message, Usage
from agentchat.core.pricing import cost, free, price_for

CHARS_PER_TOKEN = 4  # a rough prompt-size estimate; good enough to stop a runaway request
DEFAULT_OUTPUT_ESTIMATE = 1000


def estimate_input_tokens(messages: list[Message], system: str | None) -> int:
    chars = len(system or "")
    for message in messages:
        chars += sum(len(getattr(p, "text", "") or getattr(p, "content", "") or "") for p in message.parts)
    return chars // CHARS_PER_TOKEN + 1


def estimated_cost(
    model: str, input_tokens: int, max_tokens: int | None, overrides: dict, provider_type: str | None = None
) -> float | None:
    """Prompt tokens plus the reply's limit (or a typical reply) at the model's prices; None if
    unpriced; 0 on a local model (`provider_type` local or ollama) without a configured price."""
    if free(provider_type, model, overrides):
        return 0.0
    if price_for(model, overrides) is None:
        return None
    usage = Usage(input_tokens=input_tokens, output_tokens=max_tokens or DEFAULT_OUTPUT_ESTIMATE)
    return cost(model, usage, overrides)


def month_start(now: float) -> float:
    local = datetime.fromtimestamp(now).astimezone()
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()


def check_monthly(limit: float, spent: float) -> None:
    if spent >= limit:
        raise BudgetError(
            f"monthly budget reached: ${spent:.2f} spent of ${limit:.2f} (budget.monthly_usd); "
            "raise it in the config to continue"
        )


def check_request(model: str, estimate: float | None, max_cost: float | None) -> str | None:
    """Raise if the estimate exceeds `max_cost`; return a warning when the cost cannot be estimated."""
    if max_cost is None:
        return None
    if estimate is None:
        return f"--max-cost not enforced: no price known for {model}"
    if estimate > max_cost:
        raise BudgetError(f"estimated cost ${estimate:.4f} for {model} exceeds --max-cost ${max_cost:.4f}")
    return None
