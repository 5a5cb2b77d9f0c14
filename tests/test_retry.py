import pytest

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
from agentchat.core.retry import RetryPolicy, next_delay, retry_call

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
    policy = RetryPolicy.from_config({"max_attempts": 2, "base_delay": 1, "max_delay": 4.0, "budget": 10})
    assert policy == RetryPolicy(
        max_attempts=2, base_delay_s=1.0, max_delay_s=4.0, budget_s=10.0, jitter=0.25
    )
    assert RetryPolicy.from_config(None) == RetryPolicy()


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
        RetryPolicy.from_config(table)


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


async def test_retry_call_retries_until_success_and_reports_each_wait() -> None:
    time = FakeTime()
    outcomes: list[Exception | str] = [
        UnavailableError("overloaded", status=529),
        RateLimitError("slow down", status=429, retry_after=2.0),
        "models",
    ]
    seen: list[tuple[int, str, float]] = []

    async def call() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    policy = RetryPolicy(jitter=0.0)
    result = await retry_call(
        call, policy, sleep=time.sleep, clock=time.clock, on_retry=lambda a, e, d: seen.append((a, str(e), d))
    )
    assert result == "models"
    assert time.sleeps == [0.5, 2.0]
    assert seen == [(0, "overloaded", 0.5), (1, "slow down", 2.0)]


async def test_retry_call_raises_the_last_error_when_attempts_run_out() -> None:
    time = FakeTime()
    calls = 0

    async def call() -> None:
        nonlocal calls
        calls += 1
        raise UnavailableError(f"down #{calls}", status=503)

    with pytest.raises(UnavailableError, match="down #3"):
        await retry_call(call, RetryPolicy(max_attempts=3, jitter=0.0), sleep=time.sleep, clock=time.clock)
    assert calls == 3
    assert time.sleeps == [0.5, 1.0]


async def test_retry_call_stops_when_the_budget_is_spent() -> None:
    time = FakeTime()
    calls = 0

    async def call() -> None:
        nonlocal calls
        calls += 1
        time.now += 4.0  # each attempt itself takes a while
        raise ProviderNetworkError("timeout")

    policy = RetryPolicy(max_attempts=10, base_delay_s=1.0, max_delay_s=1.0, budget_s=10.0, jitter=0.0)
    with pytest.raises(ProviderNetworkError):
        await retry_call(call, policy, sleep=time.sleep, clock=time.clock)
    # 4 + 1 + 4 + 1 = 10 s fits the budget exactly; after the third attempt (14 s) nothing does
    assert calls == 3
    assert time.sleeps == [1.0, 1.0]


async def test_retry_call_does_not_retry_a_rejected_request() -> None:
    time = FakeTime()
    calls = 0

    async def call() -> None:
        nonlocal calls
        calls += 1
        raise AuthError("invalid key", status=401)

    with pytest.raises(AuthError):
        await retry_call(call, RetryPolicy(), sleep=time.sleep, clock=time.clock)
    assert calls == 1
    assert time.sleeps == []
