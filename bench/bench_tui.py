"""TUI speed, measured in a real terminal: launch with a big history, opening a long conversation,
rendering a fast stream.

    PYTHONPATH=src python bench/bench_tui.py [--runs 5] [--rebuild] [--provider openai|anthropic|ollama]

Every number is wall time until the text is in the tmux pane, i.e. on screen: the real
`python -m agentchat` runs in tmux (a headless Textual app never writes its frames, so it would
flatter the numbers), the provider's fake runs in its own process (in the app's process its thread would
wait for the GIL). Targets from issue 4:
  launch to an interactive screen, 1,000 conversations / 100,000 messages   < 1 s
  opening a 2,000-message conversation, to the first paint                   < 300 ms
  a reply streamed at 2,000 tokens/s: last token on screen after stream end  < 100 ms
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]

from tests.fakes import anthropic_fake, ollama_fake, openai_fake  # noqa: E402
from tests.fakes.base import FakeServer, Reply  # noqa: E402

from agentchat.core.messages import Message, TextPart, Usage  # noqa: E402
from agentchat.core.store import MIGRATIONS, Store  # noqa: E402

CONVERSATIONS = 1_000
MESSAGES = 100_000
LONG = 2_000  # messages in the conversation that is opened
CACHE = Path(tempfile.gettempdir()) / f"agentchat-bench-tui-v3-schema{len(MIGRATIONS)}"
SEARCH_WORD = "zebraneedle"  # first word of the last message; the search that finds it is not timed
LAST_MARK = "LAST-MESSAGE-OF-THE-LONG-ONE"  # its last line, far from the word (not in the snippet)
READY = ("Message (enter sends", "Long conversation")
SEARCH_PLACEHOLDER = "Search history (ctrl+f)"
TOKENS = 2_000
RATE = 2_000  # tokens per second
BURST = 2  # SSE frames per write: time.sleep cannot pace single frames at 0.5 ms
POLL_S = 0.005

PARAGRAPH = (
    "The store keeps every message as a row in a tree, so an edit starts a new branch instead of "
    "overwriting the old one. Search uses an FTS5 index over the visible text."
)
CODE = "```python\ndef total(rows):\n    return sum(r.amount for r in rows if r.ok)\n```"


# --- the history -------------------------------------------------------------------------------
def build_store(path: Path) -> None:
    """1,000 conversations, 100,000 messages; the newest has LONG of them. Built once, cached."""
    store = Store(path)
    try:
        rest = (MESSAGES - LONG) // (CONVERSATIONS - 1)
        for index in range(CONVERSATIONS):
            last = index == CONVERSATIONS - 1
            count = LONG if last else rest
            conversation = store.create_conversation(
                title="Long conversation" if last else f"Chat {index + 1}"
            )
            parent = None
            for n in range(count):
                if n % 2 == 0:
                    message = Message(role="user", parts=[TextPart(f"Question {n}: {PARAGRAPH[:80]}")])
                else:
                    body = f"{PARAGRAPH}\n\n{CODE}\n\n- point one\n- point two" if n % 6 == 1 else PARAGRAPH
                    if last and n == count - 1:
                        body = f"{SEARCH_WORD} {body}\n\n{LAST_MARK}"
                    message = Message(
                        role="assistant", parts=[TextPart(body)], provider="openai", model="gpt-4o-mini",
                        usage=Usage(120, 80), cost=0.0001, total_s=1.2,
                    )  # fmt: skip
                message.parent_id = parent
                parent = store.add_message(conversation, message)
    finally:
        store.close()


def history(rebuild: bool) -> Path:
    path = CACHE / "history.db"
    if rebuild and CACHE.exists():
        shutil.rmtree(CACHE)
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        print(f"building {CONVERSATIONS:,} conversations / {MESSAGES:,} messages in {CACHE} ...", flush=True)
        build_store(path.with_suffix(".tmp"))
        path.with_suffix(".tmp").rename(path)
        print(f"  built in {time.perf_counter() - started:.1f} s (cached for the next run)", flush=True)
    return path


# --- the fake, in its own process --------------------------------------------------------------
# provider -> its fake, the fake's streamed-text builder, and the config that points the app at it
FAKES: dict[str, tuple[type[FakeServer], Any, str]] = {
    "openai": (
        openai_fake.OpenAIFake, openai_fake.text,
        '[providers.openai]\nbase_url = "{fake.base_url}"\napi_key = "sk-bench"',
    ),
    "anthropic": (
        anthropic_fake.AnthropicFake, anthropic_fake.text,
        '[providers.anthropic]\nbase_url = "{fake.root}"\napi_key = "sk-ant-bench"',
    ),
    "ollama": (ollama_fake.OllamaFake, ollama_fake.text, '[providers.ollama]\nhost = "{fake.root}"'),
}  # fmt: skip
MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-sonnet-4-6", "ollama": "llama3.2"}


def serve(provider: str, conn: Connection) -> None:
    fake_class, text, config = FAKES[provider]

    class TimedFake(fake_class):  # type: ignore[valid-type, misc]
        """Notes when a streamed reply's body began and when its last byte was written
        (time.monotonic is system-wide)."""

        started_at = finished_at = 0.0

        def _send(self, handler: Any, reply: Reply) -> None:
            self.started_at = time.monotonic()
            super()._send(handler, reply)
            self.finished_at = time.monotonic()

    with TimedFake() as fake:
        conn.send(f'default_model = "{MODELS[provider]}"\n' + config.format(fake=fake))
        while True:
            command, payload = conn.recv()
            if command == "queue":
                reply = text(payload)
                frames = reply.chunks
                reply.chunks = [b"".join(frames[i : i + BURST]) for i in range(0, len(frames), BURST)]
                reply.delay_s = BURST / RATE
                fake.queue(reply)
                conn.send(None)
            elif command == "times":
                conn.send((fake.started_at, fake.finished_at))
            else:
                return


def stream_chunks(kind: str) -> list[str]:
    if kind == "one code block":
        chunks = ["```python\n", "def run():\n"]
        for i in range(TOKENS // 8):
            line = f"    value_{i} = compute({i})  # step {i}\n"
            chunks += [line[j : j + 5] for j in range(0, len(line), 5)]
        return [*chunks[: TOKENS - 2], "```\n", "END-MARKER"]
    words = PARAGRAPH.split()
    chunks = []
    while len(chunks) < TOKENS - 1:
        chunks += [w + " " for w in words] + ["\n\n"]
        if len(chunks) % 300 < len(words):
            chunks += ["```python\n", "x = 1\n", "```\n\n"]
    return [*chunks[: TOKENS - 1], "END-MARKER"]


# --- the app in tmux ---------------------------------------------------------------------------
class Terminal:
    """`python -m agentchat` in a 120x40 tmux pane with its own server socket."""

    def __init__(self, work: Path, data_dir: Path, config: str) -> None:
        (work / "config.toml").write_text(config + "\n[providers.local]\nenabled = false\n")
        self.tmux = ["tmux", "-S", str(work / "tmux.sock")]
        env = {
            "HOME": str(work), "PATH": os.environ.get("PATH", ""), "TERM": "xterm-256color",
            "AGENTCHAT_DATA_DIR": str(data_dir), "AGENTCHAT_CONFIG": str(work / "config.toml"),
            "PYTHONPATH": str(REPO / "src"), "OLLAMA_HOST": "http://127.0.0.1:9",
        }  # fmt: skip
        self.started = time.monotonic()
        command = [*self.tmux, "new-session", "-d", "-x", "120", "-y", "40", f"{sys.executable} -m agentchat"]
        subprocess.run(command, env=env, check=True)

    def screen(self) -> str:
        return subprocess.run([*self.tmux, "capture-pane", "-p"], capture_output=True, text=True).stdout

    def wait_for(self, *marks: str, timeout_s: float = 30.0) -> float:
        """The time at which every mark is on screen."""
        deadline = time.monotonic() + timeout_s
        while True:
            pane = self.screen()
            if all(mark in pane for mark in marks):
                return time.monotonic()
            if time.monotonic() > deadline:
                raise RuntimeError(f"{marks} not on screen after {timeout_s} s:\n{pane}")
            time.sleep(POLL_S)

    def wait_until_gone(self, mark: str, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while mark in self.screen():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{mark!r} still on screen after {timeout_s} s")
            time.sleep(POLL_S)

    def keys(self, *keys: str) -> float:
        subprocess.run([*self.tmux, "send-keys", *keys], check=True)
        return time.monotonic()

    def type(self, text: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-l", text], check=True)

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)


def find_the_long_conversation(terminal: Terminal) -> None:
    """Search for its last message (not timed) so that Enter opens it. A focused widget's own
    bindings (the search box's ctrl+u and enter) run only when the key has bubbled up to the
    app, after letters that arrived later, so each step waits for its effect (or settles)."""
    terminal.keys("C-f")
    if SEARCH_PLACEHOLDER not in terminal.screen():
        terminal.keys("C-u")
        terminal.wait_for(SEARCH_PLACEHOLDER, timeout_s=5)
    terminal.type(SEARCH_WORD)
    terminal.wait_for(f"{SEARCH_WORD} The store", timeout_s=5)  # the hit, in the result list
    terminal.keys("Enter")  # moves the focus to the results
    time.sleep(0.3)


def bench_launch(db: Path, runs: int) -> list[float]:
    times = []
    for _ in range(runs + 1):  # the first run warms the OS file cache and .pyc files
        with tempfile.TemporaryDirectory() as work:
            terminal = Terminal(Path(work), db.parent, '[providers.openai]\napi_key = "sk-bench"')
            try:
                times.append(terminal.wait_for(*READY) - terminal.started)
            finally:
                terminal.close()
    return times[1:]


def bench_open_and_stream(db: Path, runs: int, provider: str) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {"open": [], "prose": [], "one code block": [], "rate": []}
    conn, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(provider, child), daemon=True)
    server.start()
    config = conn.recv()
    with tempfile.TemporaryDirectory() as work:
        shutil.copy(db, Path(work) / "history.db")  # the turns below must not grow the cached one
        terminal = Terminal(Path(work), Path(work), config)
        terminal.wait_for(*READY)
        try:
            # Opening it routes the app to the conversation's provider (openai): measured in that run only.
            for _ in range(runs if provider == "openai" else 0):
                terminal.keys("C-n")
                terminal.wait_for("new conversation")
                find_the_long_conversation(terminal)
                pressed = terminal.keys("Enter")
                results["open"].append(terminal.wait_for(LAST_MARK) - pressed)
            for kind in ("prose", "one code block"):
                for _ in range(runs):
                    terminal.keys("C-n")
                    terminal.wait_for("new conversation")
                    chunks = stream_chunks(kind)
                    conn.send(("queue", chunks))
                    conn.recv()
                    terminal.type("write a lot")
                    terminal.keys("Enter")
                    shown = terminal.wait_for("END-MARKER")
                    conn.send(("times", None))
                    started_at, finished_at = conn.recv()
                    results[kind].append(shown - finished_at)
                    results["rate"].append(len(chunks) / (finished_at - started_at))
                    terminal.wait_until_gone("generating")  # the turn is over
        finally:
            terminal.close()
    conn.send(("stop", None))
    server.join(5)
    return results


def report(name: str, values: list[float], target: float | None, unit: str = "ms") -> None:
    if not values:
        return
    scale = 1000 if unit == "ms" else 1
    median = statistics.median(values) * scale
    runs = ", ".join(f"{v * scale:.0f}" for v in values)
    limit = f" (target < {target:g} {unit})" if target is not None else ""
    verdict = "" if target is None else ("  OK" if median < target else "  OVER TARGET")
    print(f"{name:<62} {median:>7.0f} {unit}{limit}{verdict}   runs: {runs}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached history database")
    parser.add_argument("--provider", choices=sorted(FAKES), default="openai", help="whose fake streams")
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        sys.exit("bench_tui needs tmux: it measures what a real terminal shows")
    db = history(args.rebuild)
    launch = bench_launch(db, args.runs) if args.provider == "openai" else []  # the same for each
    results = bench_open_and_stream(db, args.runs, args.provider)
    print(
        f"\nreal terminal (tmux 120x40), polled every {POLL_S * 1000:.0f} ms; medians of {args.runs} runs;"
        f" streams from the {args.provider} fake"
    )
    report(f"launch to interactive ({CONVERSATIONS:,} conv / {MESSAGES:,} msgs)", launch, 1000)
    report(f"open a {LONG:,}-message conversation, to its last message on screen", results["open"], 300)
    report(f"stream {TOKENS:,} tokens of prose: last token on screen after stream end", results["prose"], 100)
    report(f"stream {TOKENS:,} tokens in one code block: same", results["one code block"], 100)
    report("  rate the fake streamed at (first byte to last)", results["rate"], None, "tok/s")


if __name__ == "__main__":
    main()
