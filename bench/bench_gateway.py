"""`agentchat serve`: what the gateway adds to a request, and `ask --via` (the warm path) vs a cold
`ask` vs `llm`.

1. Clients: 32 concurrent streaming clients (each sends `--requests` requests one after another,
   the real `openai` SDK's AsyncOpenAI) through the gateway to the loopback fake, then the same
   straight to the fake. Per request: wall time from sending to the stream's end. The overhead is
   the difference of the two distributions' percentiles (target: <= 5 ms at p50). A single client
   is measured the same way (the overhead without queueing behind 31 others).
   a. Flat out: the fake sends a whole answer at once and every client asks again at once, so the
      machine is saturated and a request's time is mostly its wait for the CPU the other 31
      requests use. Each request's gateway CPU then adds to every other's time: with N clients on
      C cores the overhead cannot be below N x (gateway CPU per request) / C, printed as the floor.
   b. Paced (`--pace-ms`, default 10: 100 tokens/s, a fast model): the fake sends a frame every
      pace, as a model generates, and the clients' starts are spread over one answer's time (as
      independent clients' are), for 1, 8 and 32 clients (`--paced-clients`): the latency the
      gateway adds to concurrent streams. A paced token costs the gateway more than one in a burst
      (its own read from the fake and write to the client, each a system call, and a pass through
      the SDK and the engine), so 32 fast streams can still saturate a small machine.
2. `ask`: fresh processes answering one streamed question to a pipe, interleaved: `ask --via` a
   running gateway, a cold `ask`, the bare-SDK script and `llm` (bench/_fake.py's contenders).

    python bench/bench_gateway.py [--clients 32] [--requests 20] [--tokens 40] [--pace-ms 10]
                                  [--paced-clients 1,8,32] [--paced-requests 8] [--runs 15]
                                  [--part clients|ask|all]
                                  [--no-log] [--llm PATH]

The gateway, the fake and the client run as three processes; on a small machine they share its
cores, so the numbers include that contention (both sides of each comparison alike).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _fake as fake
from _fake import KEY, MODEL, PROMPT, Contender, answer_tokens

TARGET_P50_MS = 5.0


@contextmanager
def gateway(env: dict[str, str], argv: list[str], no_log: bool) -> Iterator[tuple[str, int]]:
    """`agentchat serve --port 0` in its own process; yields its base URL (no /v1) and pid."""
    args = [*argv, "serve", "--port", "0", *(["--no-log"] if no_log else [])]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if "http://" not in line:
            raise RuntimeError(f"the gateway did not start: {line!r}")
        url = line.split()[2].removesuffix("/v1")
        _accepting(url)
        yield url, proc.pid
    finally:
        proc.send_signal(2)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _accepting(url: str, timeout_s: float = 10.0) -> None:
    """Wait until the server takes connections: `serve` used to print its URL before it listened,
    and a `--agentchat` build compared with may still."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            socket.create_connection((host.strip("[]"), int(port)), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _clients(
    base_url: str, clients: int, requests: int, expected: str, spread_s: float = 0.0
) -> list[float]:
    """Each client streams `requests` answers in turn; every request's wall time, in seconds.
    `spread_s`: the clients' starts are spread evenly over it (about one answer's time), as
    independent clients' are, instead of all 32 arriving in the same millisecond every round."""
    import openai

    client = openai.AsyncOpenAI(base_url=base_url, api_key=KEY, max_retries=0)
    times: list[float] = []

    async def one_client(count: int, delay_s: float = 0.0) -> None:
        await asyncio.sleep(delay_s)
        for _ in range(count):
            start = time.perf_counter()
            stream = await client.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": PROMPT}], stream=True
            )
            text = [c.choices[0].delta.content or "" async for c in stream if c.choices]
            times.append(time.perf_counter() - start)
            if "".join(text) != expected:
                raise RuntimeError(f"wrong answer: {''.join(text)[:80]!r}")

    await asyncio.gather(*(one_client(1) for _ in range(clients)))  # warm: connections, caches
    times.clear()
    await asyncio.gather(*(one_client(requests, i * spread_s / clients) for i in range(clients)))
    await client.close()
    return times


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def report(label: str, via: list[float], direct: list[float], cpu_ms: float, floor: int | None) -> bool:
    """The two distributions and the overhead; `floor`: the clients saturating the machine, whose
    gateway CPU sets a least overhead (printed beside it)."""
    print(f"\n{label}: {len(via)} requests each way")
    print(f"{'':<10} {'p50':>9} {'p95':>9} {'mean':>9}")
    for name, xs in (("direct", direct), ("gateway", via)):
        print(
            f"{name:<10} {pct(xs, 50) * 1e3:7.2f}ms {pct(xs, 95) * 1e3:7.2f}ms {statistics.fmean(xs) * 1e3:7.2f}ms"
        )
    p50 = (pct(via, 50) - pct(direct, 50)) * 1e3
    p95 = (pct(via, 95) - pct(direct, 95)) * 1e3
    ok = p50 <= TARGET_P50_MS
    print(
        f"overhead   {p50:7.2f}ms {p95:7.2f}ms            target p50 <= {TARGET_P50_MS:.0f} ms: {'PASS' if ok else 'FAIL'}"
    )
    print(f"gateway CPU per request {cpu_ms:.2f} ms (user + system, the server process alone)")
    if floor:
        cores = os.cpu_count() or 1
        print(
            f"saturated: ~{floor * cpu_ms / cores:.0f} ms expected = {floor} clients x {cpu_ms:.2f} ms of "
            f"gateway CPU / {cores} cores (each request waits for the others' CPU)"
        )
    return ok


def compare(
    url: str, gw: str, pid: int, clients: int, requests: int, tokens: int, spread_s: float
) -> tuple[list[float], list[float], float]:
    """(through the gateway, direct, gateway CPU ms per request). Rounds alternate direct and
    gateway (the order flipping each round), so a change in the machine's load meets both alike."""
    expected = "".join(answer_tokens(tokens))
    rounds = 4
    per_round = max(1, requests // rounds)
    direct: list[float] = []
    via: list[float] = []
    cpu = 0.0
    for r in range(rounds):
        for side in ("direct", "gateway") if r % 2 == 0 else ("gateway", "direct"):
            if side == "direct":
                direct += asyncio.run(_clients(url, clients, per_round, expected, spread_s))
            else:
                before = cpu_s(pid)
                via += asyncio.run(_clients(f"{gw}/v1", clients, per_round, expected, spread_s))
                cpu += cpu_s(pid) - before
    return via, direct, cpu / (rounds * clients * (per_round + 1)) * 1e3  # warm-up requests count too


def part_clients(url: str, args: argparse.Namespace, *, paced: bool) -> bool:
    """Flat out: 1 and `--clients` clients; paced: `--paced-clients` on a fake that paces its frames."""
    ok = True
    with fake.contenders(url, agentchat=args.agentchat, with_llm=False) as cs:
        argv, _ = fake.agentchat_command(args.agentchat)
        with gateway(cs[0].env, cs[0].argv[: len(argv)], args.no_log) as (gw, pid):
            expected = "".join(answer_tokens(args.tokens))
            asyncio.run(
                _clients(f"{gw}/v1", 1, 1, expected)
            )  # the gateway loads its SDK: not a request's cost
            for clients in args.paced_clients if paced else (1, args.clients):
                requests = args.paced_requests if paced else args.requests
                spread_s = args.tokens * args.pace_ms / 1e3 if paced else 0.0
                via, direct, cpu_ms = compare(url, gw, pid, clients, requests, args.tokens, spread_s)
                how = f"paced {args.pace_ms:g} ms a token" if paced else "flat out"
                label = f"{clients} concurrent streaming client(s), {args.tokens}-token answers, {how}"
                ok &= report(label, via, direct, cpu_ms, None if paced or clients == 1 else clients)
    return ok


def part_ask(url: str, args: argparse.Namespace) -> None:
    expected = "".join(answer_tokens(args.tokens))
    with fake.contenders(url, agentchat=args.agentchat, llm=args.llm, with_llm=not args.no_llm) as cs:
        cold = cs[0]
        with gateway(cold.env, cold.argv[:-4], args.no_log) as (gw, _):
            warm = Contender(
                "ask --via", [*cold.argv[:-4], "ask", "--via", gw, "-m", MODEL, PROMPT], cold.env
            )
            cs = [warm, *cs]
            print(f"\n`ask` end to end: {args.runs} interleaved runs each, {args.tokens}-token answer")
            for c in cs:
                print(f"  {c.name:<12} {' '.join(c.argv)}")
            fake.measure(cs, fake.answer_is(expected), args.runs, warmup=2)
    fake.print_table(cs)
    peers = {c.name: c for c in cs}
    print()
    for other in ("agentchat", "bare-sdk", "llm"):
        if other in peers:
            print(fake.ratio_line(f"ask --via / {other} wall", warm.median() / peers[other].median(), ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=20, help="requests per client (default 20)")
    parser.add_argument("--tokens", type=int, default=40)
    parser.add_argument(
        "--pace-ms", type=float, default=10.0, help="paced: ms between frames (default 10; 0: skip)"
    )
    parser.add_argument(
        "--paced-requests", type=int, default=8, help="paced: requests per client (default 8)"
    )
    parser.add_argument(
        "--paced-clients",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 8, 32],
        help="paced: how many concurrent clients, each in turn (default 1,8,32)",
    )
    parser.add_argument("--runs", type=int, default=15, help="`ask` runs per contender (default 15)")
    parser.add_argument("--part", choices=("clients", "ask", "all"), default="all")
    parser.add_argument("--no-log", action="store_true", help="run the gateway with --no-log")
    fake.add_contender_options(parser)
    args = parser.parse_args()
    ok = True
    with fake.fake_server(args.tokens) as url:
        print(f"fake server {url}")
        if args.part in ("clients", "all"):
            ok = part_clients(url, args, paced=False)
            if args.pace_ms > 0:
                with fake.fake_server(args.tokens, args.pace_ms) as paced:
                    ok &= part_clients(paced, args, paced=True)
        if args.part in ("ask", "all"):
            part_ask(url, args)
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
