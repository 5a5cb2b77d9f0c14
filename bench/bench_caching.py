"""What prompt caching saves: a 30-turn Anthropic conversation with `[caching]` on and off, priced
as agentchat prices it (claude-sonnet-4-5: input $3/M, output $15/M, cache reads $0.30/M, cache
writes $3.75/M for 5 minutes or $6/M for an hour).

The conversation runs through the real engine, store and anthropic SDK against the tests'
loopback Anthropic server, whose cache (tests/fakes/prompt_cache.py) reports reads and writes the
way the API does: prefixes up to a breakpoint of at least 1,024 tokens, looked up 20 blocks back.
Tokens are the fake's estimate (4 characters a token). Every turn adds a question of about 60
tokens and an answer of about 300 to an agent's 2,500-token system prompt.

    PYTHONPATH=src python bench/bench_caching.py [--turns 30] [--ttl 5m|1h]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fakes.anthropic_fake import AnthropicFake, text  # noqa: E402
from tests.fakes.prompt_cache import AnthropicCache  # noqa: E402

from agentchat.config import load_config  # noqa: E402
from agentchat.core.engine import Engine  # noqa: E402
from agentchat.core.events import AssistantFinished  # noqa: E402
from agentchat.core.store import Store  # noqa: E402
from agentchat.core.turn import TurnRequest  # noqa: E402

MODEL = "claude-sonnet-4-5"
SYSTEM = (
    "You are the code reviewer of a small Python team. Read each change as a maintainer would: say "
    "what it breaks, what it leaves untested, and what a newcomer would misread. Be specific, quote "
    "the line, and suggest the smallest fix. "
) * 40  # about 2,500 tokens: an agent's instructions and conventions
QUESTION = "Here is the next part of the change; what do you make of {n}? " + "def handler(event): ... " * 8
ANSWER = "It reads well, but the handler swallows errors and the retry has no limit. " * 16


@dataclass
class Totals:
    cost: float = 0.0
    saved: float = 0.0
    input: int = 0
    read: int = 0
    written: int = 0


async def conversation(root: Path, fake: AnthropicFake, turns: int, caching: bool, ttl: str) -> Totals:
    config_path = root / f"config-{caching}.toml"
    config_path.write_text(
        f'default_model = "{MODEL}"\n[providers.anthropic]\napi_key = "sk-ant-bench"\n'
        f'base_url = "{fake.root}"\n[providers.local]\nenabled = false\n'
        f'[caching]\nenabled = {str(caching).lower()}\nttl = "{ttl}"\n'
    )
    fake.prompt_cache = AnthropicCache()
    fake.queue(*(text([ANSWER]) for _ in range(turns)))
    totals = Totals()
    with Store(Path(":memory:")) as store:
        engine = Engine(load_config(config_path), store)
        conv: int | None = None
        try:
            for n in range(turns):
                turn = TurnRequest(
                    QUESTION.format(n=n), conversation_id=conv, system=SYSTEM if conv is None else None
                )
                async for event in engine.run_turn(turn):
                    if isinstance(event, AssistantFinished) and event.message is not None:
                        conv = event.message.conversation_id
                        usage = event.usage
                        totals.cost += event.cost or 0.0
                        totals.saved += event.message.saved_usd or 0.0
                        totals.input += usage.input_tokens or 0
                        totals.read += usage.cached_tokens or 0
                        totals.written += usage.cache_write_tokens or 0
        finally:
            await engine.aclose()
    return totals


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--ttl", choices=("5m", "1h"), default="5m")
    args = parser.parse_args()
    with AnthropicFake() as fake, tempfile.TemporaryDirectory() as tmp:
        off = await conversation(Path(tmp), fake, args.turns, False, args.ttl)
        on = await conversation(Path(tmp), fake, args.turns, True, args.ttl)
    print(f"{args.turns}-turn conversation with {MODEL}, cache TTL {args.ttl}\n")
    print(f"{'':<16} {'cost $':>10} {'input tok':>10} {'read':>10} {'written':>10} {'saved $':>10}")
    for name, t in (("caching off", off), ("caching on", on)):
        print(f"{name:<16} {t.cost:>10.4f} {t.input:>10,} {t.read:>10,} {t.written:>10,} {t.saved:>10.4f}")
    print(f"\ncost with caching / without: {on.cost / off.cost:.3f} ({off.cost / on.cost:.1f}x cheaper)")
    print(f"saved as reported per reply: ${on.saved:.4f} (= ${off.cost - on.cost:.4f} difference)")


if __name__ == "__main__":
    asyncio.run(main())
