"""Usage statistics over stored assistant messages: pure aggregation, no database access.

Results are plain dataclasses (`dataclasses.asdict` gives what `--json` prints) so the CLI's Rich
tables and the TUI show the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from statistics import median
from typing import Literal, Protocol

from agentchat.core.errors import UsageError
from agentchat.core.pricing import FREE_PROVIDERS

GroupBy = Literal["provider", "model", "day"]
BARS = " ▁▂▃▄▅▆▇█"


class StatsRecord(Protocol):
    """The fields of one assistant message that stats read (the store's `AssistantRecord` has them)."""

    @property
    def created_at(self) -> float: ...
    @property
    def provider(self) -> str | None: ...
    @property
    def model(self) -> str | None: ...
    @property
    def status(self) -> str: ...
    @property
    def input_tokens(self) -> int | None: ...
    @property
    def output_tokens(self) -> int | None: ...
    @property
    def cached_tokens(self) -> int | None: ...
    @property
    def reasoning_tokens(self) -> int | None: ...
    @property
    def cost(self) -> float | None: ...
    @property
    def ttft_s(self) -> float | None: ...
    @property
    def total_s(self) -> float | None: ...
    @property
    def cache_write_tokens(self) -> int | None: ...
    @property
    def saved_usd(self) -> float | None: ...


@dataclass(slots=True)
class GroupStats:
    """One row; `provider`/`model`/`day` are None when not grouped by them.

    `cost` sums the known costs; `unpriced` counts requests whose cost is unknown (local models,
    no usage reported), so a non-zero value means `cost` is a lower bound. `saved_usd` is what
    prompt caching saved: `cost` would have been that much higher without it.
    """

    provider: str | None
    model: str | None
    day: str | None
    requests: int
    errors: int
    interrupted: int
    error_rate: float
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    reasoning_tokens: int
    cost: float
    unpriced: int
    median_ttft_s: float | None
    median_tokens_per_s: float | None
    cache_write_tokens: int = 0
    saved_usd: float = 0.0


def local_day(created_at: float, tz: tzinfo | None = None) -> str:
    """ISO date of a timestamp in `tz` (None: the machine's local zone, which users think in)."""
    return datetime.fromtimestamp(created_at, tz).date().isoformat()


def tokens_per_s(record: StatsRecord) -> float | None:
    """Generation speed: output over the time after the first token, else over the whole request."""
    out, ttft, total = record.output_tokens, record.ttft_s, record.total_s
    if not out or total is None:
        return None
    if ttft is not None and ttft > 0 and total - ttft > 0:
        return out / (total - ttft)
    return out / total if total > 0 else None


def _unpriced(record: StatsRecord) -> bool:
    # a request refused before any tokens were used costs nothing; any other missing cost is unknown
    if record.cost is not None or record.provider in FREE_PROVIDERS:  # stored before local was $0
        return False
    return record.status != "error" or bool(record.input_tokens or record.output_tokens)


def _median(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return median(known) if known else None


def _summarise(key: dict[str, str | None], rows: list[StatsRecord]) -> GroupStats:
    errors = sum(r.status == "error" for r in rows)
    return GroupStats(
        provider=key.get("provider"),
        model=key.get("model"),
        day=key.get("day"),
        requests=len(rows),
        errors=errors,
        interrupted=sum(r.status == "interrupted" for r in rows),
        error_rate=errors / len(rows),
        input_tokens=sum(r.input_tokens or 0 for r in rows),
        output_tokens=sum(r.output_tokens or 0 for r in rows),
        cached_tokens=sum(r.cached_tokens or 0 for r in rows),
        reasoning_tokens=sum(r.reasoning_tokens or 0 for r in rows),
        cost=sum(r.cost or 0.0 for r in rows),
        unpriced=sum(_unpriced(r) for r in rows),
        median_ttft_s=_median(r.ttft_s for r in rows),
        median_tokens_per_s=_median(tokens_per_s(r) for r in rows),
        cache_write_tokens=sum(r.cache_write_tokens or 0 for r in rows),
        saved_usd=sum(r.saved_usd or 0.0 for r in rows),
    )


def group_stats(
    records: Iterable[StatsRecord], by: Sequence[GroupBy] = (), tz: tzinfo | None = None
) -> list[GroupStats]:
    """Aggregate per combination of `by` (empty: one total row), sorted by the grouping keys."""
    getters: dict[str, Callable[[StatsRecord], str | None]] = {
        "provider": lambda r: r.provider,
        "model": lambda r: r.model,
        "day": lambda r: local_day(r.created_at, tz),
    }
    unknown = [g for g in by if g not in getters]
    if unknown:
        raise UsageError(f"cannot group by {', '.join(unknown)}; choose from provider, model, day")
    groups: dict[tuple[str | None, ...], list[StatsRecord]] = {}
    for record in records:
        groups.setdefault(tuple(getters[g](record) for g in by), []).append(record)
    return [
        _summarise(dict(zip(by, key, strict=True)), rows)
        for key, rows in sorted(groups.items(), key=lambda item: tuple(k or "" for k in item[0]))
    ]


def monthly_cost(records: Iterable[StatsRecord], now: float, tz: tzinfo | None = None) -> float:
    """Known spend in the calendar month (local time) that contains `now`, for budget checks."""
    this_month = datetime.fromtimestamp(now, tz).strftime("%Y-%m")
    return sum(
        (
            r.cost or 0.0
            for r in records
            if datetime.fromtimestamp(r.created_at, tz).strftime("%Y-%m") == this_month
        ),
        0.0,
    )


def sparkline(values: list[float]) -> str:
    """A one-line terminal plot: one block per value, scaled to the largest."""
    top = max(values, default=0.0)
    if top <= 0:
        return BARS[0] * len(values)
    return "".join(BARS[min(len(BARS) - 1, round(v / top * (len(BARS) - 1)))] for v in values)
