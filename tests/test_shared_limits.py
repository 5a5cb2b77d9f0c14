"""Limits hold across processes: several `agentchat ask` at once share one rate limit and one
monthly budget (they are kept in the history database, decided in one write transaction)."""

from __future__ import annotations

import subprocess
import time

from agentchat.core.ledger import Ledger
from agentchat.core.ratelimit import RateLimiter
from agentchat.core.store import Store
from tests.conftest import UserEnv
from tests.fakes import openai_fake as oai
from tests.fakes.openai_fake import OpenAIFake

KEY = "sk-test-limits-0123456789"


def config(fake: OpenAIFake, extra: str) -> str:
    return f'[providers.openai]\napi_key = "{KEY}"\nbase_url = "{fake.base_url}"\n{extra}'


def start(user_env: UserEnv, n: int) -> list[subprocess.Popen[str]]:
    return [
        user_env.popen(
            "ask", "-m", "gpt-4o-mini", f"question {i}", stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for i in range(n)
    ]


def test_six_parallel_asks_share_requests_per_minute(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    """requests_per_minute = 2: two requests go, four wait for the window and say so."""
    user_env.write_config(config(openai_fake, "[rate_limits.openai]\nrequests_per_minute = 2\n"))
    openai_fake.queue(*[oai.text([f"answer {i}"]) for i in range(6)])
    procs = start(user_env, 6)
    try:
        deadline = time.monotonic() + 60
        while sum(p.poll() is not None for p in procs) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        for p in procs:  # the two that ended were answered (one that failed frees no slot)
            if p.poll() is not None:
                assert p.returncode == 0, p.communicate()[1]
        waiting = [p for p in procs if p.poll() is None]
        assert len(waiting) == 4
        for p in waiting:  # each says why it waits before it waits
            assert p.stderr is not None
            line = p.stderr.readline()
            assert "waiting" in line and "openai rate limit" in line, line
        assert len(openai_fake.chat_requests()) == 2  # was 6: each process had its own limiter
    finally:
        for p in procs:
            p.kill()
            p.communicate()


def test_eight_parallel_asks_do_not_overrun_the_monthly_budget(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    """Each request holds its estimated cost while it runs, so the others see it: with a budget
    below two requests' cost, at most two are sent (eight were, 25 times the budget)."""
    user_env.write_config(config(openai_fake, "[budget]\nmonthly_usd = 0.001\n"))
    big = oai.usage(prompt=20, completion=2000)  # $0.0012 each at gpt-4o-mini's prices
    openai_fake.queue(*[oai.text([f"answer {i}"], usage=big, delay_s=0.05) for i in range(8)])
    results = [(*p.communicate(timeout=60), p.returncode) for p in start(user_env, 8)]
    sent = len(openai_fake.chat_requests())
    assert 1 <= sent <= 2
    refused = [err for _, err, code in results if code == 2]
    assert len(refused) == 8 - sent
    assert all("monthly budget reached" in err for err in refused)


async def test_a_cancelled_wait_gives_its_shared_slot_back(tmp_path) -> None:
    """A process that stops waiting (Ctrl-C) frees its slot for the others."""
    import asyncio

    with Store(tmp_path / "h.db") as store:
        now = [1_800_000_000.0]
        ledger = Ledger(store)

        async def sleep(seconds: float) -> None:
            await asyncio.Event().wait()  # waits until cancelled

        first = RateLimiter(1, wall_clock=lambda: now[0], sleep=sleep, provider="p", book=ledger)
        other = RateLimiter(1, wall_clock=lambda: now[0], provider="p", book=ledger)  # another process
        assert first.reserve()[0] == 0.0
        waiter = asyncio.create_task(first.wait(*first.reserve()))
        await asyncio.sleep(0)
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
        assert other.reserve()[0] == 60.0  # one slot taken, the cancelled one given back
