"""`agentchat ask` end to end against a loopback OpenAI fake, side by side with its peers.

Each run is a fresh process asking one question whose streamed answer (a few dozen tokens) goes to a
pipe: agentchat, a minimal bare-openai-SDK script making the same streamed call, and `llm` from
PyPI. Rounds are interleaved; medians are compared. Targets (issue 2), on wall time: agentchat
<= 1.10x the bare script and <= 0.9x llm. CPU time (the child's own, from wait4) is printed too: it
is far less disturbed by other load on the machine than wall time.

    python bench/bench_ask.py [--runs 15] [--tokens 40] [--llm /tmp/llmvenv/bin/llm]

Run it with the python of an install of agentchat (see bench/README.md) to time the real console
script; otherwise it runs `python -m agentchat` from this checkout.
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

TARGETS = {"bare-sdk": 1.10, "llm": 0.90}  # agentchat's wall time over the peer's, at most


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per contender (default 15)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=40, help="tokens in the answer (default 40)")
    add_contender_options(parser)
    args = parser.parse_args()

    expected = "".join(answer_tokens(args.tokens))
    with race(args, args.tokens) as (url, cs):
        print(f"fake server {url}; {args.runs} interleaved runs each, {args.tokens}-token answer")
        for c in cs:
            print(f"  {c.name:<12} {' '.join(c.argv)}")
        measure(cs, answer_is(expected), args.runs, args.warmup)

    print_table(cs)
    peers = {c.name: c for c in cs}
    ok = True
    print()
    for c in cs:
        if c.name in TARGETS:
            continue
        for peer, limit in TARGETS.items():
            if peer not in peers:
                continue
            wall = c.median() / peers[peer].median()
            cpu = c.median("cpus") / peers[peer].median("cpus")
            print(ratio_line(f"{c.name} / {peer} wall", wall, f"target <= {limit:.2f}", wall <= limit))
            print(ratio_line(f"{c.name} / {peer} CPU", cpu, "(for reference)"))
            ok &= wall <= limit or c.name != "agentchat"  # --compare entries inform, never fail
    if "llm" in peers:
        print(ratio_line("llm / bare-sdk wall", peers["llm"].median() / peers["bare-sdk"].median(), ""))
    else:
        print("llm not found (pass --llm PATH): agentchat / llm not measured")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
