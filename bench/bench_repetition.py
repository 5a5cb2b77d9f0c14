"""Degenerate repetition on the embedded model: the same prompts through the `local` provider with
llama-cpp-python's chat defaults (no repeat penalty, no output cap: generation runs until the
window is full, which the 2,048-token window of earlier versions stopped at about 2,000 tokens) and
with agentchat's (repeat penalty 1.1, a 1,024-token cap).

Prints per prompt: output tokens, finish reason, seconds and how repetitive the text is (zlib's
compressed size over the raw size: about 0.5 for prose, near 0.1 for a loop; a short text
compresses badly, so above 1 is normal there). Sampling is llama-cpp-python's (temperature 0.2),
as a user gets it, so numbers move a little from run to run.

    PYTHONPATH=src python bench/bench_repetition.py [--before-cap 2048] [--prompt TEXT ...]
"""

from __future__ import annotations

import argparse
import asyncio
import time
import zlib
from dataclasses import dataclass

from agentchat.core.events import Finish, TextDelta, UsageReport
from agentchat.core.messages import Message
from agentchat.core.request import ChatRequest, ProviderSettings
from agentchat.providers.local import DEFAULT_MAX_TOKENS, DEFAULT_REPEAT_PENALTY, LocalProvider

PROMPTS = [
    "list the files here",
    "What is the capital of France?",
    "Write a haiku about terminals.",
    "Explain what a linked list is.",
    "Give me ten ideas for a birthday party.",
    "Count from 1 to 20.",
]


@dataclass
class Run:
    tokens: int
    finish: str | None
    seconds: float
    ratio: float
    text: str


async def one_run(provider: LocalProvider, prompt: str) -> Run:
    request = ChatRequest(model="smollm2", messages=[Message.user(prompt)])
    pieces: list[str] = []
    tokens, finish = 0, None
    start = time.perf_counter()
    async for event in provider.stream(request):
        if isinstance(event, TextDelta):
            pieces.append(event.text)
        elif isinstance(event, UsageReport):
            tokens = event.usage.output_tokens or 0
        elif isinstance(event, Finish):
            finish = event.reason
    text = "".join(pieces)
    raw = text.encode()
    ratio = len(zlib.compress(raw, 9)) / len(raw) if raw else 1.0
    return Run(tokens, finish, time.perf_counter() - start, ratio, text)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--before-cap",
        type=int,
        default=2048,
        help="'before' runs until this many tokens (the old window); 0: the whole 8k window",
    )
    parser.add_argument("--prompt", action="append", help="prompts to run (default: a fixed set)")
    args = parser.parse_args()
    before_cap = args.before_cap or 8192
    setups = {
        f"before (penalty 1.0, up to {before_cap})": {"repeat_penalty": 1.0, "max_tokens": before_cap},
        f"after (penalty {DEFAULT_REPEAT_PENALTY}, cap {DEFAULT_MAX_TOKENS})": {},
    }
    providers = {
        name: LocalProvider(ProviderSettings("local", "local", extra=extra)) for name, extra in setups.items()
    }
    await next(iter(providers.values())).prepare()  # the model loads once, shared
    print(f"{'prompt':<42} {'setup':<34} {'tokens':>6} {'finish':>7} {'s':>6} {'zlib':>5}")
    totals = {name: [0, 0.0] for name in providers}
    for prompt in args.prompt or PROMPTS:
        for name, provider in providers.items():
            run = await one_run(provider, prompt)
            totals[name][0] += run.tokens
            totals[name][1] += run.seconds
            print(
                f"{prompt[:42]:<42} {name:<34} {run.tokens:>6} {run.finish or '-':>7} "
                f"{run.seconds:>6.1f} {run.ratio:>5.2f}"
            )
    print()
    for name, (tokens, seconds) in totals.items():
        print(f"total {name:<34} {tokens:>6} tokens {seconds:>7.1f} s")


if __name__ == "__main__":
    asyncio.run(main())
