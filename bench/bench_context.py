"""A 200-turn conversation continued on a 4k-window model: it must never fail, and every request
must fit the window (issue 14). The engine in-process against the tests' OpenAI fake, which refuses
an oversize request as the real API does (HTTP 400 context_length_exceeded) and counts 4
characters a token. Run once per `[context] strategy` that keeps a conversation going:

    python bench/bench_context.py [--turns 200] [--window 4096]

Prints, per strategy: failures, the largest and mean request (fake's tokens), the window, how often
the history was compacted or truncated, the conversation's stored size, and the turn at which the
whole history would first have been refused without fitting.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fakes import openai_fake as oai
from tests.fakes.base import Reply, wire_tokens

from agentchat.config import Config
from agentchat.core.engine import Engine
from agentchat.core.errors import AgentchatError
from agentchat.core.events import AssistantFinished, ContextMeasured, Notice, TurnStarted
from agentchat.core.routing import ModelCache, Router
from agentchat.core.store import Store
from agentchat.core.turn import TurnRequest

MODEL = "tiny-4k"
WORDS = "the quick brown fox jumps over a lazy dog while seven wizards quietly judge boxing".split()


class AlwaysAnswers(oai.OpenAIFake):
    """Answers every request (turns and summaries alike) with a short reply of its own."""

    def unscripted(self) -> Reply:
        return oai.text(["Noted: ", " ".join(random.choices(WORDS, k=30))])


def prompt(rng: random.Random, turn: int) -> str:
    return f"turn {turn}: " + " ".join(rng.choices(WORDS, k=rng.randint(20, 300)))


async def run(strategy: str, turns: int, window: int) -> dict[str, float]:
    rng = random.Random(14)
    with AlwaysAnswers() as fake, tempfile.TemporaryDirectory() as tmp:
        fake.models, fake.windows = [MODEL], {MODEL: window}
        config = Config(
            Path(tmp) / "config.toml",
            {
                "providers": {
                    "local": {"enabled": False},
                    "openai": {"api_key": "sk-b", "base_url": fake.base_url},
                },
                "models": {MODEL: {"context_window": window}},
                "context": {"strategy": strategy},
                "retry": {"max_attempts": 1},
            },
        )
        store = Store(Path(tmp) / "history.db")
        router = Router(config, cache=ModelCache(Path(tmp) / "models.json"), local_available=lambda: False)
        engine = Engine(config, store, router=router)
        conv, failures, fitted, measured = None, 0, 0, []
        whole, first_refusal = 0, -1  # the whole history's size, as the fake would count it
        started = time.perf_counter()
        for i in range(turns):
            text = prompt(rng, i)
            try:
                async for event in engine.run_turn(TurnRequest(text, conversation_id=conv, model=MODEL)):
                    if isinstance(event, AssistantFinished) and event.message is not None:
                        whole += (len(text) + len(event.message.text)) // 4 + 8
                        if first_refusal < 0 and whole > window:
                            first_refusal = i
                    if isinstance(event, TurnStarted):
                        conv = event.conversation_id
                    elif isinstance(event, Notice) and event.text.startswith("context:"):
                        fitted += (
                            event.text.startswith("context: the conversation") or "compacting" in event.text
                        )
                    elif isinstance(event, ContextMeasured):
                        measured.append(event.tokens)
            except AgentchatError as exc:
                failures += 1
                print(f"  turn {i} failed: {exc}", file=sys.stderr)
        elapsed = time.perf_counter() - started
        await engine.aclose()
        sizes = [wire_tokens(r.body) for r in fake.chat_requests() if r.body.get("messages")]
        assert conv is not None
        stored = len(store.all_messages(conv))
        store.close()
    return {
        "failures": failures,
        "requests": len(sizes),
        "max_sent": max(sizes),
        "mean_sent": statistics.mean(sizes),
        "max_counted": max(measured),
        "fitted": fitted,
        "stored_messages": stored,
        "first_refusal_unfitted": first_refusal,
        "s_per_turn": elapsed / turns,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--window", type=int, default=4096)
    args = parser.parse_args()
    print(f"{args.turns} turns on a {args.window:,}-token window (fake tokens: 4 characters each)")
    for strategy in ("compact", "truncate"):
        r = asyncio.run(run(strategy, args.turns, args.window))
        print(
            f"{strategy:>8}: failures {r['failures']:.0f} · requests {r['requests']:.0f} · largest sent "
            f"{r['max_sent']:.0f} / {args.window} (ours counted {r['max_counted']:.0f}) · mean sent "
            f"{r['mean_sent']:.0f} · fitted {r['fitted']:.0f} times · stored messages "
            f"{r['stored_messages']:.0f} · unfitted, turn ~{r['first_refusal_unfitted']:.0f} would be refused "
            f"· {r['s_per_turn'] * 1000:.0f} ms/turn"
        )
        ok = r["failures"] == 0 and r["max_sent"] <= args.window
        print(f"{'':>8}  {'OK: never failed and every request fit' if ok else 'FAILED'}")


if __name__ == "__main__":
    main()
