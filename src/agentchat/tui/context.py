"""The TUI's context meter (in the provider bar) and compaction on demand (f7 and the palette; a
`/compact` command can call `compact_current` too). Compaction itself is the core's
(`core/compact.py`), the same that `ask -c --compact` runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentchat.core.messages import Message
from agentchat.core.tokens import message_tokens

if TYPE_CHECKING:
    from agentchat.tui.screens.main import MainScreen

NEARLY_FULL = 0.9  # from here the meter is marked: the next turns will be compacted or truncated


def short(n: int) -> str:
    """1234 -> 1.2k, 200000 -> 200k, 1050000 -> 1.05M: the meter is narrow."""
    if n < 1000:
        return str(n)
    if n < 100_000:
        return f"{n / 1000:.1f}k".replace(".0k", "k")
    if n < 1_000_000:
        return f"{n // 1000}k"
    return f"{n / 1_000_000:.2f}".rstrip("0").rstrip(".") + "M"


def context_label(tokens: int | None, window: int | None) -> str | None:
    """The meter: "ctx 1.2k/8.2k" ("!" added when nearly full); nothing until the window is known
    (a turn on this model measured it: a reopened conversation shows it from its next turn on)."""
    if tokens is None or not window:
        return None
    mark = "!" if tokens >= window * NEARLY_FULL else ""
    return f"ctx {short(tokens)}/{short(window)}{mark}"


def branch_tokens(thread: list[Message]) -> int | None:
    """A shown branch's size: the newest reply's request as its provider counted it plus the reply,
    then what follows it by estimate; all by estimate when no reply reported its count (a branch
    that compaction just started)."""
    if not thread:
        return None
    for index in range(len(thread) - 1, -1, -1):
        usage = thread[index].usage
        if thread[index].role == "assistant" and usage.input_tokens is not None:
            after = sum(message_tokens(m) for m in thread[index + 1 :])
            return usage.input_tokens + (usage.output_tokens or 0) + after
    return sum(message_tokens(m) for m in thread)


def compact_current(screen: MainScreen, focus: str | None = None) -> None:
    """Compact the shown conversation into a new branch and show that branch."""
    from agentchat.core.compact import compact_conversation

    conversation = screen.conversation_id
    if conversation is None:
        screen.notify("nothing to compact yet", severity="warning", timeout=3)
        return
    bar = screen.bar

    async def job() -> None:
        screen.notify("compacting the conversation…", title="Context", timeout=3)
        done = await compact_conversation(
            screen.app.engine, conversation, focus, model=bar.model, provider=bar.provider
        )
        screen.notify(
            f"compacted {done.turns} turn(s) ({short(done.tokens_before)} → {short(done.tokens_after)} "
            f"tokens) with {done.model}: this is a new branch; the original stays in the history",
            title="Context",
            markup=False,
            timeout=8,
        )
        if done.window:
            bar.windows[(bar.provider, bar.model)] = done.window
        screen.open_conversation(conversation, screen.agent)

    screen.turns.run_job(job)
