"""What the `ask` benchmarks share: the loopback OpenAI server and the contenders pointed at it.

Run alone (`python bench/_fake.py --tokens N [--pace-ms MS]`) this serves the tests' `OpenAIFake` in
its own process (so the driver reading a child's stdout never competes with the server for the GIL),
answering every chat request with the same N-token streamed reply (a frame every MS milliseconds, as
a model generates, or all at once); it prints its base URL and serves until stdin closes.

The contenders are real processes in one isolated world (temp HOME, config, data and llm dirs, no
provider keys from the real environment): `agentchat ask`, a minimal script making the same streamed
call with the bare openai SDK, and `llm` from PyPI through an `extra-openai-models.yaml` entry.
Children get bytecode caches (a private `PYTHONPYCACHEPREFIX`) and normal buffering, like an installed
program on a user's machine, whatever this shell's PYTHONDONTWRITEBYTECODE / PYTHONUNBUFFERED say.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODEL = "gpt-4o-mini"
PROMPT = "Say hello to the benchmark."
KEY = "sk-bench-0000000000000000"
# The reference: what a person writes to stream one answer with the SDK and nothing else.
BARE_SCRIPT = """\
import sys
from openai import OpenAI

client = OpenAI()
stream = client.chat.completions.create(
    model=sys.argv[1],
    messages=[{"role": "user", "content": sys.argv[2]}],
    stream=True,
    stream_options={"include_usage": True},
)
for chunk in stream:
    if chunk.choices and chunk.choices[0].delta.content:
        print(chunk.choices[0].delta.content, end="", flush=True)
print()
"""
# Never inherited by a contender: real keys and endpoints, and interpreter switches that a user's
# installed program would not run with.
SCRUB_PREFIXES = ("OPENAI_", "ANTHROPIC_", "OLLAMA_", "AGENTCHAT_", "LLM_", "PYTHON")


def answer_tokens(tokens: int) -> list[str]:
    """The streamed fragments: one SSE frame each, like one token of a real reply."""
    words = ("Hello", " there", ",", " bench", "mark", "!", " How", " are", " you", "?")
    return [words[i % len(words)] for i in range(tokens)]


def serve(tokens: int, pace_s: float = 0.0) -> None:
    sys.path.insert(0, str(REPO))
    from tests.fakes.base import Reply
    from tests.fakes.openai_fake import OpenAIFake, text

    reply = text(answer_tokens(tokens), model=MODEL, delay_s=pace_s)

    class Fake(OpenAIFake):
        def unscripted(self) -> Reply:
            return reply  # the same reply for every request, however many runs

    with Fake() as fake:
        # Like a real server: each SSE frame leaves at once (no Nagle wait on the client's delayed
        # ACK, ~40 ms per stream on loopback), and a burst of clients (bench_gateway's 32) queues
        # instead of being reset at socketserver's backlog of 5.
        fake._httpd.RequestHandlerClass.disable_nagle_algorithm = True  # type: ignore[attr-defined]
        fake._httpd.socket.listen(256)
        print(fake.base_url, flush=True)
        sys.stdin.read()  # the driver closes our stdin (or exits) to stop us


@contextmanager
def fake_server(tokens: int, pace_ms: float = 0.0) -> Iterator[str]:
    """Start the fake in a child process; yield its base URL (ending in /v1)."""
    proc = subprocess.Popen(
        [sys.executable, __file__, "--tokens", str(tokens), "--pace-ms", str(pace_ms)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http"):
            raise RuntimeError("the fake server did not start")
        yield url
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- contenders -------------------------------------------------------------------------------------


@dataclass
class Contender:
    name: str
    argv: list[str]
    env: dict[str, str]
    times: list[float] = field(default_factory=list)  # wall time of each run
    cpus: list[float] = field(default_factory=list)  # user + system CPU time of each run
    first_bytes: list[float] = field(default_factory=list)  # time to the first byte on stdout
    streams: list[float] = field(default_factory=list)  # first byte on stdout to EOF

    def median(self, what: str = "times") -> float:
        return statistics.median(getattr(self, what))


@dataclass
class Run:
    wall_s: float
    cpu_s: float
    first_byte_s: float
    stream_s: float


def answer_is(expected: str) -> Callable[[str], bool]:
    return lambda out: out.strip() == expected.strip()


def run_once(c: Contender, check: Callable[[str], bool]) -> Run:
    """One fresh process with stdout to a pipe; its output is checked so an error can't look fast."""
    with tempfile.TemporaryFile() as stderr:  # a file, not a pipe: a chatty child can't block on it
        start = time.perf_counter()
        proc = subprocess.Popen(
            c.argv, env=c.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr
        )
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        chunks: list[bytes] = []
        first = None
        while block := os.read(fd, 1 << 16):
            if first is None:
                first = time.perf_counter()
            chunks.append(block)
        end = time.perf_counter()
        _, status, usage = os.wait4(proc.pid, 0)  # the child's own CPU time: robust to other load
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        proc.stdout.close()
        out = b"".join(chunks)
        if proc.returncode != 0 or not check(out.decode(errors="replace")):
            stderr.seek(0)
            raise RuntimeError(
                f"{c.name} failed (exit {proc.returncode}): stdout {out[:200]!r}... "
                f"stderr {stderr.read()[-800:]!r}"
            )
    first = first or end
    return Run(wall, usage.ru_utime + usage.ru_stime, first - start, end - first)


def measure(contenders: list[Contender], check: Callable[[str], bool], runs: int, warmup: int) -> None:
    """Interleaved rounds, the order rotating each round, so drift in machine load hits all alike.
    Warm-up runs fill the bytecode cache and create each contender's database."""
    for _ in range(warmup):
        for c in contenders:
            run_once(c, check)
    for i in range(runs):
        k = i % len(contenders)
        for c in contenders[k:] + contenders[:k]:
            r = run_once(c, check)
            c.times.append(r.wall_s)
            c.cpus.append(r.cpu_s)
            c.first_bytes.append(r.first_byte_s)
            c.streams.append(r.stream_s)


def base_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUB_PREFIXES)}
    env.pop("NO_COLOR", None)
    home = root / "home"
    home.mkdir(exist_ok=True)
    env.update(HOME=str(home), PYTHONPYCACHEPREFIX=str(root / "pycache"))
    return env


def agentchat_command(explicit: str | None) -> tuple[list[str], dict[str, str]]:
    """The console script next to this interpreter (an installed agentchat), else `python -m
    agentchat` from this checkout."""
    if explicit:
        return shlex.split(explicit), {}
    script = Path(sys.executable).parent / "agentchat"
    if script.exists():
        return [str(script)], {}
    return [sys.executable, "-m", "agentchat"], {"PYTHONPATH": str(REPO / "src")}


def split_label(entry: str, default: str) -> tuple[str, str]:
    """`LABEL=CMD` or just `CMD`."""
    label, sep, command = entry.partition("=")
    if sep and label and not any(c in label for c in " /\\'\""):
        return label, command
    return default, entry


def llm_command(explicit: str | None) -> list[str] | None:
    found = explicit or shutil.which("llm")
    return shlex.split(found) if found else None


@contextmanager
def contenders(
    base_url: str,
    *,
    agentchat: str | None = None,
    llm: str | None = None,
    with_llm: bool = True,
    compare: list[str] | None = None,
) -> Iterator[list[Contender]]:
    """agentchat, bare SDK and (when installed) llm, each asking PROMPT of MODEL at `base_url`;
    `compare` adds other agentchat commands (a patched checkout, say), `LABEL=CMD` or just `CMD`."""
    with tempfile.TemporaryDirectory(prefix="agentchat-bench-") as tmp:
        root = Path(tmp)
        common = base_env(root)

        config = root / "config.toml"
        config.write_text(
            f'[providers.openai]\napi_key = "{KEY}"\nbase_url = "{base_url}"\n\n'
            "[providers.local]\nenabled = false\n"
        )
        found = []
        for i, entry in enumerate([agentchat, *(compare or [])]):
            name, command = ("agentchat", entry) if i == 0 else split_label(entry, f"agentchat-{i + 1}")
            argv, extra = agentchat_command(command)
            env = {
                **common,
                **extra,
                "AGENTCHAT_CONFIG": str(config),
                "AGENTCHAT_DATA_DIR": str(root / f"data{i}"),
                "OLLAMA_HOST": "http://127.0.0.1:9",  # nothing listens: a probe fails fast, never hangs
            }
            found.append(Contender(name, [*argv, "ask", "-m", MODEL, PROMPT], env))

        bare = root / "bare_openai.py"
        bare.write_text(BARE_SCRIPT)
        env = {**common, "OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": base_url}
        found.append(Contender("bare-sdk", [sys.executable, str(bare), MODEL, PROMPT], env))

        llm_argv = llm_command(llm) if with_llm else None
        if llm_argv:
            user = root / "llm"
            user.mkdir()
            (user / "extra-openai-models.yaml").write_text(
                f"- model_id: bench-gpt\n  model_name: {MODEL}\n  api_base: {base_url}\n"
            )
            env = {**common, "LLM_USER_PATH": str(user)}
            found.append(Contender("llm", [*llm_argv, "-m", "bench-gpt", PROMPT], env))
        yield found


def add_contender_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--agentchat", help="command to run agentchat (default: the console script beside this python)"
    )
    parser.add_argument("--llm", help="the llm executable (default: `llm` on PATH)")
    parser.add_argument("--no-llm", action="store_true", help="leave llm out")
    parser.add_argument(
        "--compare",
        action="append",
        default=[],
        metavar="[LABEL=]CMD",
        help="another agentchat command to time alongside (repeatable), e.g. "
        "'patched=env PYTHONPATH=../other/src python -m agentchat'",
    )


def print_table(contenders: list[Contender]) -> None:
    print(f"\n{'contender':<16} {'median':>8} {'min':>8} {'max':>8} {'1st byte':>9} {'CPU':>8}")
    for c in contenders:
        print(
            f"{c.name:<16} {c.median() * 1e3:6.0f}ms {min(c.times) * 1e3:6.0f}ms "
            f"{max(c.times) * 1e3:6.0f}ms {c.median('first_bytes') * 1e3:7.0f}ms {c.median('cpus') * 1e3:6.0f}ms"
        )


def ratio_line(name: str, value: float, target: str, ok: bool | None = None) -> str:
    verdict = "" if ok is None else ("PASS" if ok else "FAIL")
    return f"{name:<28} {value:6.2f}x  {target:<14} {verdict}"


@contextmanager
def race(args: argparse.Namespace, tokens: int) -> Iterator[tuple[str, list[Contender]]]:
    """The fake answering `tokens` tokens and the contenders `add_contender_options` chose, pointed
    at it: (its URL, the contenders)."""
    with (
        fake_server(tokens) as url,
        contenders(
            url, agentchat=args.agentchat, llm=args.llm, with_llm=not args.no_llm, compare=args.compare
        ) as cs,
    ):
        yield url, cs


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=40)
    parser.add_argument("--pace-ms", type=float, default=0.0, help="between frames (default: none)")
    options = parser.parse_args()
    serve(options.tokens, options.pace_ms / 1e3)
