"""Client-side rate limiting per provider: requests wait for their turn instead of earning a 429.

Limits come from `[rate_limits.PROVIDER] requests_per_minute = N, tokens_per_minute = M`; the
server's own rate-limit headers add a pause when it says nothing is left until a reset.
Each `reserve` takes the earliest slot at once, so callers are served first come, first served
without a lock (a lock would tie the limiter to one event loop). The slots live in a `SlotBook`:
the engine passes the shared ledger (core/ledger.py), so a limit holds across every agentchat
process of the user, not only within one.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

WINDOW_S = 60.0
# (slots in the window as (start, tokens), oldest first; a server-announced block end) -> start
Earliest = Callable[[list[tuple[float, int]], float], float]

# (remaining header, reset header) pairs: OpenAI sends durations, Anthropic RFC 3339 times
_HEADER_PAIRS = (
    ("x-ratelimit-remaining-requests", "x-ratelimit-reset-requests"),
    ("x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"),
    ("anthropic-ratelimit-requests-remaining", "anthropic-ratelimit-requests-reset"),
    ("anthropic-ratelimit-tokens-remaining", "anthropic-ratelimit-tokens-reset"),
)
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)")
_DURATIONS = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|us|µs|ns|h|m|s))+")
_UNIT_S = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def parse_reset(value: str, now_wall: float) -> float | None:
    """Seconds until a reset given as a Go duration ("12ms", "1.5s", "6m0s") or an RFC 3339 time."""
    value = value.strip()
    if _DURATIONS.fullmatch(value):
        return sum(float(n) * _UNIT_S[unit] for n, unit in _DURATION.findall(value))
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    return max(when.timestamp() - now_wall, 0.0)


class SlotBook(Protocol):
    """Where a limiter keeps the slots it reserved: this process's memory, or the shared ledger
    (core/ledger.py) so the limit holds across every agentchat process of the user."""

    def reserve(self, provider: str, now: float, tokens: int, earliest: Earliest) -> tuple[float, Any]: ...

    def release(self, handle: Any) -> None: ...

    def block(self, provider: str, until: float) -> None: ...

    def blocked_until(self, provider: str) -> float: ...


class LocalSlots:
    """One process's slots: for tests, and for a store that is not shared (`--no-log` keeps the
    real history for this)."""

    def __init__(self) -> None:
        self._slots: deque[tuple[float, int]] = deque()  # (start time, tokens), oldest first
        self._until = 0.0

    def reserve(self, provider: str, now: float, tokens: int, earliest: Earliest) -> tuple[float, Any]:
        while self._slots and self._slots[0][0] <= now - WINDOW_S:
            self._slots.popleft()
        slot = (earliest(list(self._slots), self._until), tokens)
        self._slots.append(slot)
        return slot[0], slot

    def release(self, handle: Any) -> None:
        self._slots.remove(handle)

    def block(self, provider: str, until: float) -> None:
        self._until = max(self._until, until)

    def blocked_until(self, provider: str) -> float:
        return self._until


class RateLimiter:
    """A sliding 60-second window over requests and tokens; `None` limits are unlimited."""

    def __init__(
        self,
        rpm: int | None = None,
        tpm: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        wall_clock: Callable[[], float] = time.time,
        provider: str = "",
        book: SlotBook | None = None,
    ) -> None:
        self.rpm = rpm
        self.tpm = tpm
        self.provider = provider
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._local: SlotBook = LocalSlots()
        self._monotonic = clock
        self.book: SlotBook = self._local
        self._clock = clock
        self.use(book)

    def use(self, book: SlotBook | None) -> None:
        """Keep the slots in `book` from now on (None: in this process). Shared slots are placed
        in wall-clock time, the one clock every process reads alike."""
        if book is None:
            self.book, self._clock = self._local, self._monotonic
        elif self.book != book:
            self.book, self._clock = book, self._wall_clock

    def _earliest(self, now: float, tokens: int) -> Earliest:
        def earliest(slots: list[tuple[float, int]], blocked_until: float) -> float:
            start = max(now, blocked_until, slots[-1][0] if slots else now)
            if self.rpm and len(slots) >= self.rpm:
                start = max(start, slots[len(slots) - self.rpm][0] + WINDOW_S)
            if self.tpm and tokens:
                # a request bigger than the whole budget goes alone once the window has emptied
                excess = sum(t for _, t in slots) + min(tokens, self.tpm) - self.tpm
                for when, used in slots:
                    if excess <= 0:
                        break
                    start = max(start, when + WINDOW_S)
                    excess -= used
            return start

        return earliest

    def reserve(self, tokens: int = 0) -> tuple[float, Any]:
        """Take the earliest slot for a request of about `tokens` tokens: (seconds to wait, the
        slot, for `release` if the wait is abandoned). Unlimited and unblocked: no slot at all."""
        now = self._clock()
        if not (self.rpm or self.tpm):
            return max(self.book.blocked_until(self.provider) - now, 0.0), None
        start, handle = self.book.reserve(self.provider, now, tokens, self._earliest(now, tokens))
        return max(start - now, 0.0), handle

    def release(self, handle: Any) -> None:
        if handle is not None:
            self.book.release(handle)

    async def wait(
        self, seconds: float, handle: Any, sleep: Callable[[float], Awaitable[Any]] | None = None
    ) -> None:
        """Sleep (the caller's `sleep`, else the limiter's) until a reserved slot starts; a
        cancelled wait gives the slot back."""
        if seconds <= 0:
            return
        try:
            await (sleep or self._sleep)(seconds)
        except asyncio.CancelledError:
            self.release(handle)
            raise

    def observe_headers(self, headers: Mapping[str, str]) -> None:
        """Pause new requests until the reset the server names when it reports none remaining."""
        lowered = {str(k).lower(): str(v) for k, v in headers.items()}
        for remaining_key, reset_key in _HEADER_PAIRS:
            remaining, reset = lowered.get(remaining_key), lowered.get(reset_key)
            if remaining is None or reset is None or remaining.strip() != "0":
                continue
            seconds = parse_reset(reset, self._wall_clock())
            if seconds is not None:
                self.book.block(self.provider, self._clock() + seconds)


_LIMITERS: dict[str, RateLimiter] = {}


def limiter_for(
    provider: str, rpm: int | None = None, tpm: int | None = None, book: SlotBook | None = None
) -> RateLimiter:
    """The process-wide limiter of `provider` with the config's limits (`config.rate_limit`).

    One limiter per provider name, so a TUI and its background calls share the same budget;
    a changed config updates the limits in place and keeps the window already used. With `book`
    (the shared ledger) the limit holds across processes too.
    """
    limiter = _LIMITERS.get(provider)
    if limiter is None:
        limiter = _LIMITERS[provider] = RateLimiter(rpm, tpm, provider=provider)
    else:
        limiter.rpm, limiter.tpm = rpm, tpm
    limiter.use(book)
    return limiter


def observe_rate_headers(provider: str, headers: Mapping[str, str]) -> None:
    """Feed a response's rate-limit headers to the provider's limiter (the engine creates it first)."""
    limiter = _LIMITERS.get(provider)
    if limiter is not None:
        limiter.observe_headers(headers)
