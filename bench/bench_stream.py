"""Streaming throughput: a 20,000-token answer from the loopback OpenAI fake, written to a pipe.

agentchat ask vs the bare-openai-SDK script (and llm, when installed), one SSE frame per token.
Throughput is tokens over the time from the first byte on stdout to its end, so start-up cost is
left out (bench_ask.py measures that). Target (issue 2): agentchat >= 0.8x the bare script.

    python bench/bench_stream.py [--runs 5] [--tokens 20000] [--no-llm]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _fake import (
    add_contender_options,
    answer_is,
    answer_tokens,
    measure,
    print_table,
    race,
    ratio_line,
)

TARGET = 0.8  # agentchat's throughput over the bare script's, at least


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per contender (default 5)")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--tokens", type=int, default=20_000)
    add_contender_options(parser)
    args = parser.parse_args()

    expected = "".join(answer_tokens(args.tokens))
    with race(args, args.tokens) as (url, cs):
        print(f"fake server {url}; {args.runs} interleaved runs each, {args.tokens} tokens to a pipe")
        measure(cs, answer_is(expected), args.runs, args.warmup)

    print_table(cs)
    print(f"\n{'contender':<16} {'stream time':>12} {'tokens/s':>10}")
    rate = {}
    for c in cs:
        rate[c.name] = args.tokens / c.median("streams")
        print(f"{c.name:<16} {c.median('streams') * 1e3:10.0f}ms {rate[c.name]:10.0f}")
    print()
    ok = True
    for name in rate:
        if name not in ("bare-sdk", "llm"):
            ratio = rate[name] / rate["bare-sdk"]
            print(ratio_line(f"{name} / bare-sdk tokens/s", ratio, f"target >= {TARGET}", ratio >= TARGET))
            ok &= ratio >= TARGET or name != "agentchat"  # --compare entries inform, never fail
    if "llm" in rate:
        print(ratio_line("llm / bare-sdk tokens/s", rate["llm"] / rate["bare-sdk"], ""))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
