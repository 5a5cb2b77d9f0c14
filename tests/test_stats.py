import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta, timezone

import pytest

from agentchat.core.errors import UsageError
from agentchat.core.stats import group_stats, monthly_cost, tokens_per_s


@dataclass
class Record:
    """Shaped like the store's AssistantRecord; stats must need nothing more."""

    created_at: float
    provider: str
    model: str
    status: str = "complete"
    input_tokens: int | None = 100
    output_tokens: int | None = 50
    cached_tokens: int | None = 0
    reasoning_tokens: int | None = 0
    cost: float | None = 0.01
    ttft_s: float | None = 0.5
    total_s: float | None = 1.5
    message_id: int = 0
    conversation_id: int = 0
    finish_reason: str | None = "stop"
    error: str | None = None
    cache_write_tokens: int | None = None
    saved_usd: float | None = None


def at(day: int, hour: int = 12) -> float:
    return datetime(2026, 11, day, hour, tzinfo=UTC).timestamp()


RECORDS = [
    Record(at(23), "openai", "gpt-4o", cost=0.02, cached_tokens=40, ttft_s=0.4, total_s=2.4),  # 25 tok/s
    Record(at(23), "openai", "gpt-4o", output_tokens=200, cost=0.03, ttft_s=0.2, total_s=2.2),  # 100 tok/s
    Record(
        at(24),
        "openai",
        "gpt-4o",
        status="error",
        input_tokens=None,
        output_tokens=None,
        cost=None,
        ttft_s=None,
        total_s=0.3,
        error="rate limited",
    ),
    Record(at(24), "openai", "o3", reasoning_tokens=30, cost=0.05, ttft_s=3.0, total_s=4.0),  # 50 tok/s
    Record(
        at(24), "anthropic", "claude-sonnet-4-5", status="interrupted", cost=None, ttft_s=1.0, total_s=2.0
    ),
    Record(at(24), "ollama", "llama3.2", cost=None, ttft_s=None, total_s=5.0),  # 10 tok/s over the total
]


def test_one_total_row_without_grouping() -> None:
    [total] = group_stats(RECORDS)
    assert (total.provider, total.model, total.day) == (None, None, None)
    assert total.requests == 6
    assert total.errors == 1 and total.interrupted == 1
    assert total.error_rate == pytest.approx(1 / 6)
    assert total.input_tokens == 500 and total.output_tokens == 400
    assert total.cached_tokens == 40 and total.reasoning_tokens == 30
    assert total.cost == pytest.approx(0.10)
    # the interrupted reply has no known cost; the local one is free, the error used no tokens
    assert total.unpriced == 1
    assert total.median_ttft_s == pytest.approx(0.7)  # of 0.2, 0.4, 1.0, 3.0
    assert total.median_tokens_per_s == pytest.approx(50.0)  # of 10, 25, 50, 50, 100


def test_group_by_provider() -> None:
    rows = {r.provider: r for r in group_stats(RECORDS, by=["provider"])}
    assert list(rows) == ["anthropic", "ollama", "openai"]
    openai = rows["openai"]
    assert (openai.requests, openai.errors, openai.error_rate) == (4, 1, 0.25)
    assert openai.cost == pytest.approx(0.10) and openai.unpriced == 0
    assert rows["ollama"].unpriced == 0 and rows["ollama"].cost == 0.0  # Ollama runs locally: $0
    assert rows["ollama"].median_ttft_s is None
    assert rows["ollama"].median_tokens_per_s == pytest.approx(10.0)


def test_group_by_model_and_day() -> None:
    rows = group_stats(RECORDS, by=["day", "model"], tz=UTC)
    assert [(r.day, r.model) for r in rows] == [
        ("2026-11-23", "gpt-4o"),
        ("2026-11-24", "claude-sonnet-4-5"),
        ("2026-11-24", "gpt-4o"),
        ("2026-11-24", "llama3.2"),
        ("2026-11-24", "o3"),
    ]
    first = rows[0]
    assert (first.requests, first.output_tokens, first.cost) == (2, 250, pytest.approx(0.05))
    assert first.median_tokens_per_s == pytest.approx(62.5)
    assert first.provider is None
    failed = rows[2]
    assert (failed.requests, failed.errors, failed.error_rate) == (1, 1, 1.0)
    assert failed.median_ttft_s is None and failed.median_tokens_per_s is None


def test_day_follows_the_local_zone() -> None:
    late = [Record(datetime(2026, 11, 23, 23, 30, tzinfo=UTC).timestamp(), "openai", "gpt-4o")]
    assert group_stats(late, by=["day"], tz=UTC)[0].day == "2026-11-23"
    assert group_stats(late, by=["day"], tz=timezone(timedelta(hours=2)))[0].day == "2026-11-24"


def test_rows_dump_to_json() -> None:
    dumped = json.loads(json.dumps([asdict(r) for r in group_stats(RECORDS, by=["provider", "model"])]))
    assert dumped[0]["provider"] == "anthropic" and dumped[0]["model"] == "claude-sonnet-4-5"
    assert dumped[0]["median_tokens_per_s"] == pytest.approx(50.0)


def test_no_records_no_rows() -> None:
    assert group_stats([]) == []
    assert group_stats([], by=["provider"]) == []


def test_unknown_grouping_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="conversation"):
        group_stats(RECORDS, by=["conversation"])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("output", "ttft", "total", "expected"),
    [
        (100, 1.0, 3.0, 50.0),
        (100, None, 4.0, 25.0),  # no first-token time: over the whole request
        (100, 0.0, 4.0, 25.0),
        (100, 2.0, 2.0, 50.0),  # all in one chunk: over the whole request
        (100, 1.0, None, None),
        (None, 1.0, 3.0, None),
        (0, 1.0, 3.0, None),
        (100, None, 0.0, None),
    ],
)
def test_tokens_per_s(
    output: int | None, ttft: float | None, total: float | None, expected: float | None
) -> None:
    record = Record(0.0, "p", "m", output_tokens=output, ttft_s=ttft, total_s=total)
    assert tokens_per_s(record) == expected


def test_monthly_cost_counts_only_the_current_month() -> None:
    records = [
        Record(datetime(2026, 10, 31, 23, tzinfo=UTC).timestamp(), "openai", "gpt-4o", cost=5.0),
        Record(datetime(2026, 11, 1, 0, 30, tzinfo=UTC).timestamp(), "openai", "gpt-4o", cost=1.25),
        Record(datetime(2026, 11, 30, 23, tzinfo=UTC).timestamp(), "anthropic", "claude-opus-4-5", cost=0.75),
        Record(datetime(2026, 11, 15, tzinfo=UTC).timestamp(), "ollama", "llama3.2", cost=None),
        Record(datetime(2026, 12, 1, 1, tzinfo=UTC).timestamp(), "openai", "gpt-4o", cost=9.0),
    ]
    now = datetime(2026, 11, 24, 12, tzinfo=UTC).timestamp()
    assert monthly_cost(records, now, tz=UTC) == pytest.approx(2.0)
    # an hour east, 31 October 23:00 UTC is already November and 30 November 23:00 UTC December
    assert monthly_cost(records, now, tz=timezone(timedelta(hours=1))) == pytest.approx(6.25)
    assert monthly_cost([], now) == 0.0
