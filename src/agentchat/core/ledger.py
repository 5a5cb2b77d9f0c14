"""Rate-limit slots and budget holds shared by every agentchat process of the user.

Limits kept in one process's memory do not hold: six `ask` in a pipeline with
`requests_per_minute = 2` sent six requests at once, and eight parallel asks each saw the monthly
budget unspent and overran it 25 times. So both live in the history database, and each decision
is made inside one short write transaction: a process reads what the others reserved and adds its
own reservation before any other process can read.

Times here are wall-clock seconds: monotonic clocks are not comparable between processes.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agentchat.core.errors import BudgetError
from agentchat.core.liveness import current_owner, owner_alive
from agentchat.core.ratelimit import WINDOW_S, Earliest

if TYPE_CHECKING:
    from agentchat.config import Config
    from agentchat.core.store import Store

_UNTIL = "SELECT until FROM rate_blocks WHERE provider = ?"
HOLD_TTL_S = 3600.0  # a hold older than this is stale even if its process lives (a hung request)


@dataclass(frozen=True, slots=True)
class Ledger:
    """The shared ledger in one store; `clock` is wall time (injected by tests) for budget holds;
    rate-limit times come from the limiter, in wall time too."""

    store: Store
    clock: Callable[[], float] = time.time

    # --- rate limits: the SlotBook of core/ratelimit.py -------------------------------------------
    def reserve(self, provider: str, now: float, tokens: int, earliest: Earliest) -> tuple[float, int]:
        """Reserve the earliest start `earliest` allows given every process's slots in the last
        window: (start, slot id)."""
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM rate_slots WHERE start <= ?", (now - WINDOW_S,))
            slots = conn.execute(
                "SELECT start, tokens FROM rate_slots WHERE provider = ? ORDER BY start", (provider,)
            ).fetchall()
            start = earliest([(s, t) for s, t in slots], self._until(conn, provider))
            cur = conn.execute(
                "INSERT INTO rate_slots (provider, start, tokens) VALUES (?, ?, ?)", (provider, start, tokens)
            )
        return start, int(cur.lastrowid or 0)

    def release(self, handle: int) -> None:
        """A reservation that was never used (the wait was cancelled)."""
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM rate_slots WHERE rowid = ?", (handle,))

    def blocked_until(self, provider: str) -> float:
        """A read, not a write transaction: an unlimited provider's every request asks it, and
        a reader never waits for (nor holds up) another writer."""
        rows = self.store.query(_UNTIL, (provider,))
        return float(rows[0][0]) if rows else 0.0

    def block(self, provider: str, until: float) -> None:
        """The server said nothing is left until `until`: every process waits for it."""
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO rate_blocks (provider, until) VALUES (?, ?) "
                "ON CONFLICT(provider) DO UPDATE SET until = max(until, excluded.until)",
                (provider, until),
            )

    @staticmethod
    def _until(conn: sqlite3.Connection, provider: str) -> float:
        row = conn.execute(_UNTIL, (provider,)).fetchone()
        return float(row[0]) if row else 0.0

    # --- the monthly budget -------------------------------------------------------------------------
    def hold_budget(self, limit: float, since: float, amount: float | None) -> int | None:
        """Refuse (BudgetError) when this month's spending plus the requests other processes are
        running now reach `limit`; else hold `amount` (the request's estimated cost) until
        `release_budget`, so parallel requests see it. None: nothing held (no estimate)."""
        now = self.clock()
        with self.store.transaction() as conn:
            holds = conn.execute("SELECT id, owner, created_at FROM budget_holds").fetchall()
            stale = [(i,) for i, owner, at in holds if at < now - HOLD_TTL_S or not owner_alive(owner)]
            conn.executemany("DELETE FROM budget_holds WHERE id = ?", stale)
            (spent,) = conn.execute(
                "SELECT COALESCE(SUM(cost), 0) FROM messages WHERE role = 'assistant' AND created_at >= ?",
                (since,),
            ).fetchone()
            (held,) = conn.execute("SELECT COALESCE(SUM(amount), 0) FROM budget_holds").fetchone()
            if spent + held >= limit:
                running = f" (+ ${held:.4f} held by requests running now)" if held else ""
                raise BudgetError(
                    f"monthly budget reached: ${spent:.2f} spent{running} of ${limit:.2f} "
                    "(budget.monthly_usd); raise it in the config to continue"
                )
            if not amount:
                return None
            cur = conn.execute(
                "INSERT INTO budget_holds (owner, amount, created_at) VALUES (?, ?, ?)",
                (current_owner(), amount, now),
            )
        return int(cur.lastrowid or 0)

    def release_budget(self, hold_id: int | None) -> None:
        if hold_id is not None:
            with self.store.transaction() as conn:
                conn.execute("DELETE FROM budget_holds WHERE id = ?", (hold_id,))


def hold_budget(
    config: Config, ledger: Ledger | None, records: Store, now: float, estimate: float | None
) -> int | None:
    """With `[budget] monthly_usd`: refuse once this month's spending (plus the requests every
    other agentchat process is running now) reaches it; else hold this request's estimated cost
    while it runs, so parallel requests count it too. Without a shared ledger (an in-memory
    history) only this process's spending is known."""
    from agentchat.core.budget import check_monthly, month_start
    from agentchat.core.stats import monthly_cost

    limit = config.monthly_budget
    if limit is None:
        return None
    since = month_start(now)
    if ledger is None:
        check_monthly(limit, monthly_cost(records.assistant_records(since=since), now))
        return None
    return ledger.hold_budget(limit, since, estimate)
