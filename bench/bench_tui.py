"""TUI speed: launch with a big history, opening a long conversation, rendering a fast stream.

    PYTHONPATH=src python bench/bench_tui.py [--runs 3] [--rebuild]

Prints medians against the targets of issue 4:
  launch to an interactive screen, 1,000 conversations / 100,000 messages   < 1 s
  opening a 2,000-message conversation, to the first paint                   < 300 ms
  a reply streamed at 2,000 tokens/s: last token on screen after stream end  < 100 ms

Launch runs the real `python -m agentchat` in tmux and polls the pane until the prompt and the
conversation list are drawn. The other two drive the real app headless (Textual's pilot) against
the loopback OpenAI fake, so the numbers include the SDK, the engine and the store.
"""

from __future__ import annotations

import argparse
import asyncio
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
os.environ["TEXTUAL_ANIMATIONS"] = "none"

from tests.fakes.base import Reply  # noqa: E402
from tests.fakes.openai_fake import OpenAIFake, text  # noqa: E402

from agentchat.config import load_config  # noqa: E402
from agentchat.core.messages import Message, TextPart, Usage  # noqa: E402
from agentchat.core.store import MIGRATIONS, Store  # noqa: E402

CONVERSATIONS = 1_000
MESSAGES = 100_000
LONG = 2_000  # messages in the conversation that is opened
CACHE = Path(tempfile.gettempdir()) / f"agentchat-bench-tui-v1-schema{len(MIGRATIONS)}"
READY_MARKS = ("Message (enter sends", "Long conversation")
TOKENS = 2_000
RATE = 2_000  # tokens per second
BURST = 2  # frames per write

PARAGRAPH = (
    "The store keeps every message as a row in a tree, so an edit starts a new branch instead of "
    "overwriting the old one. Search uses an FTS5 index over the visible text."
)
CODE = "```python\ndef total(rows):\n    return sum(r.amount for r in rows if r.ok)\n```"


def build_store(path: Path) -> None:
    """1,000 conversations, 100,000 messages; the newest has LONG of them. Built once, cached."""
    store = Store(path)
    try:
        rest = (MESSAGES - LONG) // (CONVERSATIONS - 1)
        for index in range(CONVERSATIONS):
            last = index == CONVERSATIONS - 1
            count = LONG if last else rest
            title = "Long conversation" if last else f"Conversation {index + 1}"
            conversation = store.create_conversation(title=title)
            parent = None
            for n in range(count):
                if n % 2 == 0:
                    message = Message(role="user", parts=[TextPart(f"Question {n}: {PARAGRAPH[:80]}")])
                else:
                    body = f"{PARAGRAPH}\n\n{CODE}\n\n- point one\n- point two" if n % 6 == 1 else PARAGRAPH
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


# --- launch ------------------------------------------------------------------------------------
def launch_once(data_dir: Path, work: Path) -> float:
    """Seconds from spawning `python -m agentchat` in tmux to the screen showing READY_MARKS."""
    socket = work / "tmux.sock"
    config = work / "config.toml"
    config.write_text('[providers.openai]\napi_key = "sk-bench"\n\n[providers.local]\nenabled = false\n')
    env = {
        "AGENTCHAT_DATA_DIR": str(data_dir), "AGENTCHAT_CONFIG": str(config), "PYTHONPATH": str(REPO / "src"),
        "OLLAMA_HOST": "http://127.0.0.1:9", "TERM": "xterm-256color", "TEXTUAL_ANIMATIONS": "none",
    }  # fmt: skip
    exports = " ".join(f"{k}={v}" for k, v in env.items())
    command = f"env -i HOME={work} PATH={os.environ.get('PATH', '')} {exports} {sys.executable} -m agentchat"
    tmux = ["tmux", "-S", str(socket)]
    started = time.perf_counter()
    subprocess.run([*tmux, "new-session", "-d", "-x", "120", "-y", "40", command], check=True)
    try:
        while True:
            pane = subprocess.run([*tmux, "capture-pane", "-p"], capture_output=True, text=True).stdout
            if all(mark in pane for mark in READY_MARKS):
                return time.perf_counter() - started
            if time.perf_counter() - started > 20:
                raise RuntimeError(f"the TUI did not come up within 20 s; screen:\n{pane}")
            time.sleep(0.005)
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)


def bench_launch(db: Path, runs: int) -> list[float]:
    if shutil.which("tmux") is None:
        print("launch: skipped (tmux not found)")
        return []
    times = []
    for _ in range(runs + 1):  # the first run warms the OS file cache and .pyc files
        with tempfile.TemporaryDirectory() as work:
            times.append(launch_once(db.parent, Path(work)))
    return times[1:]


# --- in-process scenarios ----------------------------------------------------------------------
class TimedFake(OpenAIFake):
    """Notes when the last byte of a streamed reply was written (time.monotonic is system-wide)."""

    finished_at = 0.0

    def _send(self, handler: Any, reply: Reply) -> None:  # type: ignore[override]
        OpenAIFake._send(handler, reply)
        self.finished_at = time.monotonic()


def serve(conn: Connection) -> None:
    """The fake in its own process: in the app's process its thread would wait for the GIL."""
    with TimedFake() as fake:
        conn.send(fake.base_url)
        while True:
            command, payload = conn.recv()
            if command == "queue":
                reply = text(payload)
                # Two SSE frames per write, 1 ms apart: time.sleep cannot pace single frames at 0.5 ms.
                frames = reply.chunks
                reply.chunks = [b"".join(frames[i : i + BURST]) for i in range(0, len(frames), BURST)]
                reply.delay_s = BURST / RATE
                fake.queue(reply)
                conn.send(None)
            elif command == "finished_at":
                conn.send(fake.finished_at)
            else:
                return


async def painted(app: Any) -> float:
    """The time of the next screen refresh: what is mounted now has reached the terminal."""
    done = asyncio.Event()
    app.call_after_refresh(done.set)
    await done.wait()
    return time.monotonic()


def stream_chunks(kind: str) -> list[str]:
    words = PARAGRAPH.split()
    if kind == "one code block":
        lines = [f"    value_{i} = compute({i})  # step {i}\n" for i in range(TOKENS // 8)]
        chunks = ["```python\n", "def run():\n"]
        for line in lines:
            chunks += [line[j : j + 5] for j in range(0, len(line), 5)]
        return [*chunks[: TOKENS - 2], "```\n", "END-MARKER"]
    chunks = []
    while len(chunks) < TOKENS - 1:
        chunks += [w + " " for w in words] + ["\n\n"]
        if len(chunks) % 300 < len(words):
            chunks += ["```python\n", "x = 1\n", "```\n\n"]
    return [*chunks[: TOKENS - 1], "END-MARKER"]


async def in_process(db: Path, runs: int) -> dict[str, list[float]]:
    from agentchat.tui.app import AgentchatApp

    results: dict[str, list[float]] = {"open": [], "prose": [], "one code block": [], "rate": []}
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(child,), daemon=True)
    server.start()
    base_url = parent.recv()
    with tempfile.TemporaryDirectory() as work:
        copy = Path(work) / "history.db"
        shutil.copy(db, copy)
        config_path = Path(work) / "config.toml"
        config_path.write_text(
            f'[providers.openai]\nbase_url = "{base_url}"\napi_key = "sk-bench"\nmodels = ["gpt-4o-mini"]\n'
            "\n[providers.local]\nenabled = false\n"
        )
        os.environ["AGENTCHAT_DATA_DIR"] = work
        os.environ["OLLAMA_HOST"] = "http://127.0.0.1:9"
        store = Store(copy)
        app = AgentchatApp(load_config(config_path), store)
        async with app.run_test(size=(120, 40)) as pilot:
            screen: Any = app.screen
            await app.workers.wait_for_complete()
            long_id = store.list_conversations(limit=1)[0].id
            for _ in range(runs):
                screen.new_chat("default")
                await app.workers.wait_for_complete()
                await pilot.pause()
                started = time.monotonic()
                screen.open_conversation(long_id)
                await app.workers.wait_for_complete()
                results["open"].append(await painted(app) - started)
                assert len(screen.view.boxes()) < 100, "the whole conversation was mounted"
            for kind in ("prose", "one code block"):
                for _ in range(runs):
                    screen.new_chat("default")
                    await app.workers.wait_for_complete()
                    chunks = stream_chunks(kind)
                    parent.send(("queue", chunks))
                    parent.recv()
                    screen.query_one("#prompt").load_text("write a lot")
                    sent = time.monotonic()
                    await pilot.press("enter")
                    await app.workers.wait_for_complete()
                    shown = await painted(app)
                    parent.send(("finished_at", None))
                    finished_at = parent.recv()
                    results[kind].append(shown - finished_at)
                    results["rate"].append(len(chunks) / (finished_at - sent))
                    lines = "\n".join(s.text for s in app.screen._compositor.render_strips())
                    assert "END-MARKER" in lines, "the last token is not on screen"
        store.close()
    parent.send(("stop", None))
    server.join(5)
    return results


def report(name: str, values: list[float], target_ms: float | None, unit: str = "ms") -> None:
    if not values:
        return
    median = statistics.median(values)
    shown = median * 1000 if unit == "ms" else median
    runs = ", ".join(f"{v * 1000:.0f}" if unit == "ms" else f"{v:.0f}" for v in values)
    verdict = "" if target_ms is None else ("  OK" if shown < target_ms else "  OVER TARGET")
    limit = f" (target < {target_ms:g} {unit})" if target_ms is not None else ""
    print(f"{name:<58} {shown:>8.0f} {unit}{limit}{verdict}   runs: {runs}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached history database")
    args = parser.parse_args()
    db = history(args.rebuild)
    launch = bench_launch(db, args.runs)
    results = asyncio.run(in_process(db, args.runs))
    print()
    report(f"launch to interactive ({CONVERSATIONS:,} conv / {MESSAGES:,} msgs)", launch, 1000)
    report(f"open a {LONG:,}-message conversation, to first paint", results["open"], 300)
    report(f"stream {TOKENS:,} tokens of prose: end of stream to last token on screen", results["prose"], 100)
    report(f"stream {TOKENS:,} tokens in one code block: same", results["one code block"], 100)
    report("  (rate the fake actually streamed at)", results["rate"], None, unit="tok/s")


if __name__ == "__main__":
    main()
