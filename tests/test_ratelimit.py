import asyncio

import pytest

from agentchat.config.sections import rate_limit
from agentchat.core.errors import ConfigError
from agentchat.core.ratelimit import RateLimiter, limiter_for, parse_reset

WALL = 1_795_000_000.0  # 2026-11-18T11:06:40Z


async def acquire(limiter: RateLimiter, tokens: int = 0) -> float:
    """What the engine does before a request: reserve the earliest slot, then wait for it; the
    seconds it had to wait."""
    wait, slot = limiter.reserve(tokens)
    await limiter.wait(wait, slot)
    return wait


class FakeTime:
    """Monotonic and wall clocks that only move when the limiter sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def wall(self) -> float:
        return WALL + self.now - 1000.0

    async def sleep(self, seconds: float) -> None:
        """Let every other ready task run first, as a real wait would, then jump to the wake time."""
        self.sleeps.append(seconds)
        wake = self.now + seconds
        await asyncio.sleep(0)
        self.now = max(self.now, wake)

    def limiter(self, rpm: int | None = None, tpm: int | None = None) -> RateLimiter:
        return RateLimiter(rpm, tpm, clock=self.clock, sleep=self.sleep, wall_clock=self.wall)


async def test_unlimited_limiter_never_waits() -> None:
    time = FakeTime()
    limiter = time.limiter()
    assert [await acquire(limiter, 10_000) for _ in range(100)] == [0.0] * 100
    assert time.sleeps == []


async def test_requests_per_minute_spaces_the_overflow_by_the_window() -> None:
    time = FakeTime()
    limiter = time.limiter(rpm=3)
    waits = []
    for _ in range(7):
        waits.append(await acquire(limiter))
        time.now += 1.0  # each request takes a second
    # 3 at once; the 4th waits until the 1st leaves the 60-s window (t=60), and so on
    assert waits == [0.0, 0.0, 0.0, 57.0, 0.0, 0.0, 57.0]


async def test_tokens_per_minute_waits_for_enough_budget_to_expire() -> None:
    time = FakeTime()
    limiter = time.limiter(tpm=1000)
    assert await acquire(limiter, 600) == 0.0
    time.now += 10.0
    assert await acquire(limiter, 300) == 0.0
    time.now += 10.0
    # 900 used; 400 more only fits once the first 600 have left the window (t=60)
    assert await acquire(limiter, 400) == pytest.approx(40.0)
    # a request without a token estimate is not held back by the token budget
    assert await acquire(limiter) == 0.0


async def test_an_oversized_request_goes_alone_instead_of_waiting_forever() -> None:
    time = FakeTime()
    limiter = time.limiter(tpm=1000)
    await acquire(limiter, 200)
    assert await acquire(limiter, 5000) == pytest.approx(60.0)
    assert await acquire(limiter, 1) == pytest.approx(60.0)


async def test_concurrent_callers_are_served_first_come_first_served() -> None:
    time = FakeTime()
    limiter = time.limiter(rpm=2)
    order: list[int] = []

    async def request(i: int) -> float:
        waited = await acquire(limiter)
        order.append(i)
        return waited

    waits = await asyncio.gather(*(request(i) for i in range(5)))
    assert order == [0, 1, 2, 3, 4]
    assert waits == [0.0, 0.0, 60.0, 60.0, 120.0]


async def test_a_cancelled_waiter_gives_its_slot_back() -> None:
    time = FakeTime()
    waiting = asyncio.Event()
    hang = True

    async def sleep(seconds: float) -> None:
        if hang:  # this waiter blocks for real so it can be cancelled mid-wait
            waiting.set()
            await asyncio.Event().wait()
        await time.sleep(seconds)

    limiter = RateLimiter(1, None, clock=time.clock, sleep=sleep)
    await acquire(limiter)
    waiter = asyncio.create_task(acquire(limiter))
    await waiting.wait()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    hang = False
    assert await acquire(limiter) == pytest.approx(60.0)  # not 120: the cancelled slot is free again


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("12ms", 0.012),
        ("1.5s", 1.5),
        ("6m0s", 360.0),
        ("1h2m3.5s", 3723.5),
        ("2026-11-18T11:07:10Z", 30.0),
        ("2026-11-18T12:07:10+01:00", 30.0),
        ("2026-11-18T11:00:00Z", 0.0),  # already past
        ("soon", None),
        ("2026-11-18T11:07:10", None),  # no zone: cannot be placed in time
    ],
)
def test_parse_reset(value: str, seconds: float | None) -> None:
    assert parse_reset(value, WALL) == (pytest.approx(seconds) if seconds is not None else None)


async def test_openai_zero_remaining_requests_pauses_until_the_reset() -> None:
    time = FakeTime()
    limiter = time.limiter()
    limiter.observe_headers({"X-RateLimit-Remaining-Requests": "0", "X-RateLimit-Reset-Requests": "1.5s"})
    assert await acquire(limiter) == pytest.approx(1.5)
    assert await acquire(limiter) == 0.0


async def test_anthropic_zero_remaining_pauses_until_the_rfc3339_reset() -> None:
    time = FakeTime()
    limiter = time.limiter()
    limiter.observe_headers(
        {
            "anthropic-ratelimit-requests-remaining": "0",
            "anthropic-ratelimit-requests-reset": "2026-11-18T11:07:10Z",
        }
    )
    assert await acquire(limiter) == pytest.approx(30.0)


async def test_headers_with_budget_left_do_not_slow_anything() -> None:
    time = FakeTime()
    limiter = time.limiter()
    limiter.observe_headers(
        {
            "x-ratelimit-remaining-requests": "499",
            "x-ratelimit-reset-requests": "6m0s",
            "x-ratelimit-remaining-tokens": "0",  # no reset given: nothing to wait for
            "retry-after": "5",
        }
    )
    assert await acquire(limiter) == 0.0


async def test_token_exhaustion_header_pauses_too() -> None:
    time = FakeTime()
    limiter = time.limiter()
    limiter.observe_headers({"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "6m0s"})
    assert await acquire(limiter, 100) == pytest.approx(360.0)


def test_limiter_for_shares_one_limiter_per_provider_and_follows_config() -> None:
    config = {"test-rl-openai": {"requests_per_minute": 60, "tokens_per_minute": 90_000}}
    first = limiter_for("test-rl-openai", *rate_limit(config, "test-rl-openai"))
    assert (first.rpm, first.tpm) == (60, 90_000)
    again = limiter_for(
        "test-rl-openai", *rate_limit({"test-rl-openai": {"requests_per_minute": 30}}, "test-rl-openai")
    )
    assert again is first
    assert (first.rpm, first.tpm) == (30, None)
    other = limiter_for("test-rl-anthropic", *rate_limit(config, "test-rl-anthropic"))
    assert other is not first
    assert (other.rpm, other.tpm) == (None, None)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"requests_per_minute": 0}, "at least 1"),
        ({"requests_per_minute": 2.5}, "at least 1"),
        ({"tokens_per_minute": "lots"}, "at least 1"),
        ({"requests_per_min": 5}, "unknown key"),
    ],
)
def test_bad_rate_limit_config_is_a_config_error(table: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        rate_limit({"test-rl-bad": table}, "test-rl-bad")
