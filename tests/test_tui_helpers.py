"""Shared setup for the TUI tests: a real app, a real store file, real SDKs against the fake servers.

(No tests here; the `test_` prefix keeps it inside the files the TUI owns.)
"""

from __future__ import annotations

import asyncio
import html
import itertools
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len

from agentchat.config import Config, load_config
from agentchat.core.messages import Message, TextPart
from agentchat.core.store import Store
from agentchat.tui.app import AgentchatApp

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from tests.conftest import UserEnv

SIZE = (120, 40)
REPO_SRC = str(Path(__file__).resolve().parent.parent / "src")
EPOCH = 1_767_225_600.0  # 2026-01-01 00:00 UTC: stored times never depend on the wall clock
NOW = EPOCH + 7 * 86400  # the app's "now" (the stats window), a week after EPOCH

os.environ["TEXTUAL_ANIMATIONS"] = "none"


def ticking_clock(start: float = EPOCH) -> Callable[[], float]:
    """One second later on every call: deterministic times that still order messages."""
    counter = itertools.count()
    return lambda: start + next(counter)


class ManualClock:
    """A clock that moves only when the test moves it: a duration measured with it does not
    depend on how often the code read it (how many chunks arrived before a key press)."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def write_config(
    user_env: UserEnv,
    *,
    openai: Any = None,
    anthropic: Any = None,
    ollama: Any = None,
    openai_key: str | None = "sk-test-openai",
    anthropic_key: str | None = "sk-ant-test",
    extra: str = "",
) -> Config:
    """A config pointing each built-in provider at its fake (or at nothing)."""
    lines = ["[retry]", "max_attempts = 1", ""]
    if openai is not None:
        lines += ["[providers.openai]", f'base_url = "{openai.base_url}"', 'models = ["gpt-4o-mini"]']
        if openai_key:
            lines.append(f'api_key = "{openai_key}"')
        lines.append("")
    if anthropic is not None:
        lines += ["[providers.anthropic]", f'base_url = "{anthropic.root}"', 'models = ["claude-sonnet-4-6"]']
        if anthropic_key:
            lines.append(f'api_key = "{anthropic_key}"')
        lines.append("")
    if ollama is not None:
        lines += ["[providers.ollama]", f'host = "{ollama.root}"', ""]
    user_env.write_config("\n".join(lines) + extra)
    return load_config(user_env.config_path)


# (day after EPOCH, provider, model, status, usage, cost, ttft_s, total_s): every stored reply at
# noon UTC, so its local day is the same in any time zone from UTC-12 to UTC+11.
USAGE = [
    (-42, "openai", "gpt-4o-mini", "complete", (9000, 9000), 1.0, 0.5, 1.5),  # outside 30 days
    (0, "openai", "gpt-4o-mini", "complete", (1200, 300), 0.00036, 0.4, 2.4),
    (0, "anthropic", "claude-sonnet-4-6", "complete", (2000, 500), 0.012, 0.8, 5.8),
    (2, "openai", "gpt-4o-mini", "complete", (800, 200), 0.00024, 0.3, 1.3),
    (2, "openai", "gpt-4o-mini", "error", (None, None), None, None, 0.2),
    (5, "ollama", "llama3.2", "complete", (500, 250), None, 0.2, 5.2),
    (6, "anthropic", "claude-sonnet-4-6", "complete", (3000, 800), 0.021, 1.2, 9.2),
]
SAVED = {6: 0.0054}  # day -> what prompt caching saved on that day's reply


def usage_store(user_env: UserEnv) -> Store:
    """A store holding USAGE, one conversation per reply, through the real Store."""
    from agentchat.core.messages import Message, TextPart, Usage

    moment = [EPOCH]
    store = Store(user_env.db_path, clock=lambda: moment[0])
    for day, provider, model, status, (inp, out), cost, ttft, total in USAGE:
        moment[0] = EPOCH + day * 86400 + 12 * 3600
        conversation = store.create_conversation(title=f"{model} on day {day}")
        user = store.add_message(conversation, Message.user("hello"))
        reply = Message(
            role="assistant", parts=[TextPart("hi")], parent_id=user, provider=provider, model=model,
            status=status, error="rate limited" if status == "error" else None, usage=Usage(inp, out),
            cost=cost, ttft_s=ttft, total_s=total, saved_usd=SAVED.get(day),
        )  # fmt: skip
        store.add_message(conversation, reply)
    return store


def make_app(
    user_env: UserEnv,
    config: Config,
    *,
    workspace: Path | None = None,
    store: Store | None = None,
    engine_clock: Callable[[], float] | None = None,
) -> AgentchatApp:
    """The real app; with `workspace`, the built-in tools confined to it (no plugins, no MCP).
    The engine's clock ticks a second per read unless `engine_clock` is given."""
    registry = None
    if workspace is not None:
        from agentchat.tools.registry import build_registry

        registry = build_registry(config, workspace, plugins=False)
    return AgentchatApp(
        config,
        store or Store(user_env.db_path, clock=ticking_clock()),
        registry=registry,
        timefmt=lambda ts: "12:00",
        engine_clock=engine_clock or ticking_clock(0.0),
        wall_clock=lambda: NOW,
    )


def say(store: Store, conversation: int, text: str, parent: int | None = None) -> int:
    """A stored user message; its id."""
    return store.add_message(conversation, Message(role="user", parts=[TextPart(text)], parent_id=parent))


def answer(store: Store, conversation: int, text: str, parent: int) -> int:
    """A stored reply from openai's gpt-4o-mini; its id."""
    reply = Message(
        role="assistant", parts=[TextPart(text)], parent_id=parent, provider="openai", model="gpt-4o-mini"
    )
    return store.add_message(conversation, reply)


def seed(store: Store, title: str | None, turns: list[tuple[str, str]]) -> int:
    """A conversation of question/answer turns in one branch; its id."""
    conversation = store.create_conversation(title=title)
    parent = None
    for question, reply in turns:
        parent = answer(store, conversation, reply, say(store, conversation, question, parent))
    return conversation


_SVG_TEXT = re.compile(
    r'<text class="[^"]*" x="([^"]+)" y="[^"]*" textLength="([^"]+)" clip-path="url\(#[^)]*-line-(\d+)\)">(.*?)</text>',
    re.DOTALL,
)


def screen_lines(app: AgentchatApp) -> list[str]:
    """What the terminal shows right now (a modal over the screens below it), one string per
    row, from Textual's public screenshot: each text span placed at its column. More rows than
    the terminal has means a line break reached the screen inside a row."""
    svg = app.export_screenshot(simplify=True)
    rows: dict[int, list[tuple[int, str]]] = {}
    for x, length, line, escaped in _SVG_TEXT.findall(svg):
        if escaped == "\n":  # each row's end (a line break inside a row makes a row more)
            continue
        text = html.unescape(escaped.replace("&#160;", " "))  # Rich writes each space as &#160;
        column = round(float(x) / (float(length) / len(text)))  # x is column * char width
        rows.setdefault(int(line), []).append((column, text))
    height = max([app.size.height, *(row + 1 for row in rows)])
    lines = []
    for row in range(height):
        line = ""
        for column, text in sorted(rows.get(row, [])):
            line += " " * (column - cell_len(line)) + text
        lines.append(line + " " * (app.size.width - cell_len(line)))
    return lines


def screen_text(app: AgentchatApp) -> str:
    """What the terminal shows right now, as plain lines."""
    return "\n".join(screen_lines(app))


def toasts(app: AgentchatApp) -> list[str]:
    """The notifications on screen, each as one string (a toast wraps its text over lines)."""
    return [toast.render().plain for toast in app.screen.query("Toast")]  # type: ignore[attr-defined]


async def wait_for_text(pilot: Pilot[Any], text: str, *, timeout_s: float = 5.0) -> None:
    """Pause until `text` is on screen; fails with the screen in the message."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while text not in screen_text(pilot.app):  # type: ignore[arg-type]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{text!r} never appeared on screen:\n{screen_text(pilot.app)}")  # type: ignore[arg-type]
        await pilot.pause(0.02)


async def run_command(pilot: Pilot[Any], title: str, *, timeout_s: float = 5.0) -> None:
    """Open the command palette, type `title` and press enter once its search has made that
    command the highlighted hit (the search runs in the background)."""
    from textual.command import Command, CommandList

    await pilot.press("ctrl+p", *title.lower())
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        hits = pilot.app.screen.query(CommandList)
        option = hits.first().highlighted_option if hits else None
        if isinstance(option, Command) and option.hit.text == title:
            break
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{title!r} never became the palette's highlighted hit")
        await pilot.pause(0.02)
    await pilot.press("enter")


async def ready(pilot: Pilot[Any]) -> None:
    """Until the main screen is mounted and its startup work (resolving the provider) is done."""
    await asyncio.wait_for(pilot.app.screen.ready.wait(), 10)  # type: ignore[attr-defined]
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def send(pilot: Pilot[Any], text: str, *, typed: bool = False) -> None:
    """Fill the prompt (or type it key by key, which is slow) and press enter."""
    prompt = pilot.app.screen.query_one("#prompt")
    prompt.focus()
    if typed:
        await pilot.press(*text)
    else:
        prompt.load_text(text)  # type: ignore[attr-defined]
    await pilot.press("enter")


async def settle(pilot: Pilot[Any]) -> None:
    """Until every worker (the turn, discovery, checks) is done and the screen has caught up; a
    worker cancelled before it started (a stopped job) counts as done. A worker that a message
    still queued starts (a paste's files are read in one) is waited for too: the pause hands
    those messages over, rather than a guess that the process is idle."""
    await asyncio.gather(*(worker.wait() for worker in pilot.app.workers), return_exceptions=True)
    await pilot.pause()
    while started := [worker for worker in pilot.app.workers if not worker.is_finished]:
        await asyncio.gather(*(worker.wait() for worker in started), return_exceptions=True)
        await pilot.pause()
