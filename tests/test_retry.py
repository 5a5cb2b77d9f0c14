import pytest

from agentchat.config.sections import retry_policy
from agentchat.core.errors import (
    AuthError,
    BadRequestError,
    ConfigError,
    ProviderError,
    ProviderNetworkError,
    RateLimitError,
    StreamInterrupted,
    UnavailableError,
)
from agentchat.core.retry import RetryPolicy, next_delay

POLICY = RetryPolicy(max_attempts=5, base_delay_s=0.5, max_delay_s=3.0, budget_s=60.0, jitter=0.25)


def test_backoff_doubles_up_to_the_cap() -> None:
    error = UnavailableError("overloaded", status=529)
    delays = [next_delay(POLICY, attempt, error, 0.0, rand=lambda: 0.0) for attempt in range(4)]
    assert delays == [0.5, 1.0, 2.0, 3.0]


def test_jitter_only_shortens_the_wait() -> None:
    error = ProviderNetworkError("connection refused")
    assert next_delay(POLICY, 1, error, 0.0, rand=lambda: 1.0) == pytest.approx(0.75)
    assert next_delay(POLICY, 1, error, 0.0, rand=lambda: 0.5) == pytest.approx(0.875)


def test_server_retry_after_wins_over_backoff() -> None:
    error = RateLimitError("slow down", status=429, retry_after=7.5)
    assert next_delay(POLICY, 0, error, 0.0, rand=lambda: 0.9) == 7.5


def test_zero_retry_after_falls_back_to_backoff() -> None:
    error = RateLimitError("slow down", status=429, retry_after=0.0)
    assert next_delay(POLICY, 0, error, 0.0, rand=lambda: 0.0) == 0.5


@pytest.mark.parametrize(
    "error",
    [
        AuthError("bad key", status=401),
        BadRequestError("unknown model", status=404),
        StreamInterrupted("connection dropped mid-stream"),
        ProviderError("odd status", status=302),
    ],
)
def test_non_retryable_errors_give_up_at_once(error: ProviderError) -> None:
    assert next_delay(POLICY, 0, error, 0.0) is None


def test_attempts_are_bounded() -> None:
    error = UnavailableError("down", status=503)
    assert next_delay(POLICY, 3, error, 0.0, rand=lambda: 0.0) is not None  # 4th try failed, 5th allowed
    assert next_delay(POLICY, 4, error, 0.0) is None


def test_a_wait_past_the_budget_gives_up_now() -> None:
    assert next_delay(POLICY, 0, RateLimitError("x", retry_after=600.0), 0.0) is None
    error = UnavailableError("down")
    assert next_delay(POLICY, 2, error, 58.5, rand=lambda: 0.0) is None  # a 2 s wait would end at 60.5
    assert next_delay(POLICY, 2, error, 58.0, rand=lambda: 0.0) == 2.0


def test_from_config_reads_the_retry_table() -> None:
    policy = retry_policy({"max_attempts": 2, "base_delay": 1, "max_delay": 4.0, "budget": 10})
    assert policy == RetryPolicy(
        max_attempts=2, base_delay_s=1.0, max_delay_s=4.0, budget_s=10.0, jitter=0.25
    )
    assert retry_policy(None) == RetryPolicy()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"max_attempt": 3}, "unknown key"),
        ({"max_attempts": 0}, "at least 1"),
        ({"max_attempts": 2.5}, "at least 1"),
        ({"base_delay": -1}, "non-negative"),
        ({"budget": "1m"}, "non-negative"),
        ({"jitter": 2}, "between 0 and 1"),
    ],
)
def test_bad_retry_config_is_a_config_error(table: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        retry_policy(table)
