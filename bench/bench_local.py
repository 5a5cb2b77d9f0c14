"""Local model benchmark: the in-process `local` provider vs the same GGUF behind llama.cpp's
OpenAI-compatible server, reached through agentchat's OpenAI adapter (the peer a user would
otherwise run).

Prints model load time, time to first token and decode speed, medians of a few runs. Both sides run
the same prompts, alternating turn by turn (never at once, so they do not share the CPU).

    PYTHONPATH=src python bench/bench_local.py [--runs 5] [--tokens 128] [--model-path FILE.gguf]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass

from agentchat.core.events import TextDelta, UsageReport
from agentchat.core.messages import Message
from agentchat.providers import Provider, create_provider
from agentchat.providers.base import ChatRequest, ProviderSettings
from agentchat.providers.local import LocalProvider, load_model

SUBJECTS = ["dragon", "lighthouse", "robot", "river", "violin", "glacier", "market", "comet"]


@dataclass
class Run:
    ttft_s: float
    tokens: int
    decode_tps: float  # tokens after the first, per second: the generation speed the user watches


async def one_run(provider: Provider, prompt: str, max_tokens: int) -> Run:
    request = ChatRequest(
        model="smollm2", messages=[Message.user(prompt)], max_tokens=max_tokens, temperature=0
    )
    start = time.perf_counter()
    first = last = None
    deltas = 0
    reported: int | None = None
    async for event in provider.stream(request):
        if isinstance(event, TextDelta):
            last = time.perf_counter()
            first = first or last
            deltas += 1
        elif isinstance(event, UsageReport):
            reported = event.usage.output_tokens
    if first is None or last is None:
        raise RuntimeError("no text streamed")
    tokens = reported or deltas  # llama.cpp's server reports no usage when streaming
    return Run(first - start, tokens, (tokens - 1) / (last - first) if last > first else 0.0)


async def interleaved(providers: list[Provider], n: int, max_tokens: int) -> list[list[Run]]:
    """Alternates the providers prompt by prompt, so both see the same background load."""
    for provider in providers:  # warm-up: first-call costs are not per-turn costs
        await one_run(provider, "Say hi.", 4)
    results: list[list[Run]] = [[] for _ in providers]
    for i in range(n):
        prompt = f"Write a long story about a {SUBJECTS[i % len(SUBJECTS)]}."
        for provider, out in zip(providers, results, strict=True):
            out.append(await one_run(provider, prompt, max_tokens))
    return results


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(model_path: str) -> tuple[subprocess.Popen[bytes], str, float]:
    """Returns the process, its base URL and the seconds until it answered (spawn + import + load)."""
    port = free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", model_path, "--host", "127.0.0.1"]
    start = time.perf_counter()
    proc = subprocess.Popen([*cmd, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}/v1"
    while time.perf_counter() - start < 120:
        if proc.poll() is not None:
            raise RuntimeError(f"llama.cpp server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{base_url}/models", timeout=2):
                return proc, base_url, time.perf_counter() - start
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("llama.cpp server did not start within 120 s")


def summary(name: str, load_s: float, results: list[Run]) -> str:
    ttft = statistics.median(r.ttft_s for r in results) * 1000
    tps = statistics.median(r.decode_tps for r in results)
    tokens = statistics.median(r.tokens for r in results)
    return f"{name:<34} {load_s * 1000:>10.0f} {ttft:>10.0f} {tps:>12.1f} {tokens:>8.0f}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=128, help="max_tokens per run")
    parser.add_argument("--model-path", help="a GGUF file (default: the bundled SmolLM2)")
    args = parser.parse_args()
    extra = {"model_path": args.model_path} if args.model_path else {}

    local = LocalProvider(ProviderSettings(name="local", type="local", extra=extra))
    start = time.perf_counter()
    import llama_cpp  # noqa: F401  (timed apart from the model load)

    import_s = time.perf_counter() - start
    loaded = await asyncio.to_thread(load_model, local.spec)
    print(f"model: {local.spec.path}")
    print(f"runs: {args.runs} x max_tokens={args.tokens}, temperature 0, medians\n")
    proc, base_url, server_load_s = start_server(local.spec.path)
    try:
        remote = create_provider(ProviderSettings(name="llamacpp", type="openai", base_url=base_url))
        local_runs, server_runs = await interleaved([local, remote], args.runs, args.tokens)
        await remote.aclose()
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    print(f"{'':<34} {'load ms':>10} {'TTFT ms':>10} {'decode tok/s':>12} {'tokens':>8}")
    print(summary("in-process (local provider)", import_s + loaded.load_s, local_runs))
    print(summary("llama.cpp server via openai adapter", server_load_s, server_runs))
    print(
        f"\nin-process load = import llama_cpp {import_s * 1000:.0f} ms + model {loaded.load_s * 1000:.0f} ms;"
    )
    print("server load = spawn until /v1/models answers (interpreter, imports, model).")


if __name__ == "__main__":
    asyncio.run(main())
