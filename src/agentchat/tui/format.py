"""Plain-text labels for the TUI (no widgets here, so they are cheap to test and reuse)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from agentchat.core.messages import Message, ToolCallPart, Usage
from agentchat.core.output_limit import LENGTH
from agentchat.core.stats import group_stats
from agentchat.core.store import AssistantRecord

TimeFormat = Callable[[float], str]
ARGS_PREVIEW = 60


def local_time(ts: float) -> str:
    """HH:MM today, else the date too: a label must not need the reader to do arithmetic."""
    moment, today = time.localtime(ts), time.localtime()
    if moment[:3] == today[:3]:
        return time.strftime("%H:%M", moment)
    return time.strftime("%Y-%m-%d %H:%M", moment)


def tokens_label(usage: Usage) -> str | None:
    if usage.input_tokens is None and usage.output_tokens is None:
        return None
    inp = "?" if usage.input_tokens is None else f"{usage.input_tokens:,}"
    out = "?" if usage.output_tokens is None else f"{usage.output_tokens:,}"
    return f"{inp}→{out} tok"


def cost_label(cost: float | None) -> str | None:
    if cost is None:
        return None
    if cost < 0.01:
        return f"${cost:.6f}"
    return f"${cost:.4f}" if cost < 1 else f"${cost:.2f}"


def spend_label(cost: float, unpriced: int) -> str:
    """Known spend; "+" marks a lower bound: some requests had no known price."""
    return f"{cost_label(cost)}{'+' if unpriced else ''}"


def running_cost(thread: Iterable[Message]) -> str | None:
    """What the replies of a branch cost so far, counted as `agentchat stats` counts them;
    None when no reply has a known price (a local model), as "$0" would claim it was free."""
    replies = [m for m in thread if m.role == "assistant"]
    if all(m.cost is None for m in replies):
        return None
    total = group_stats(_record(m) for m in replies)[0]
    return spend_label(total.cost, total.unpriced)


def _record(m: Message) -> AssistantRecord:
    u = m.usage
    return AssistantRecord(
        m.id or 0, m.conversation_id or 0, m.created_at or 0.0, m.provider, m.model, m.status,
        m.finish_reason, u.input_tokens, u.output_tokens, u.cached_tokens, u.reasoning_tokens,
        m.cost, m.ttft_s, m.total_s, m.error, u.cache_write_tokens, m.saved_usd,
    )  # fmt: skip


def duration_label(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def message_label(message: Message, timefmt: TimeFormat) -> str:
    """The line above a message: who, which model, tokens, cost, duration and when."""
    if message.role == "user":
        head = ["you"]
    elif message.role == "tool":
        head = ["tool results"]
    else:
        head = [f"{message.provider or '?'} · {message.model or '?'}"]
        if message.finish_reason == LENGTH:  # as `ask` says it on stderr; first, so a narrow label keeps it
            tokens = message.usage.output_tokens
            head.append("cut at the output limit" + (f" ({tokens:,} tokens)" if tokens is not None else ""))
        head += [
            label
            for label in (
                tokens_label(message.usage),
                cost_label(message.cost),
                duration_label(message.total_s),
            )
            if label
        ]
        if message.status == "empty":
            head.append(f"empty reply (finish reason: {message.finish_reason or 'none given'})")
        elif message.status != "complete":
            head.append(message.status)
    if message.created_at is not None:
        head.append(timefmt(message.created_at))
    return " · ".join(head)


def args_preview(arguments: dict[str, Any]) -> str:
    """`arg=value, …` on one line, shortened: the full arguments live in the tool pane."""
    args = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in arguments.items())
    return args[: ARGS_PREVIEW - 1] + "…" if len(args) > ARGS_PREVIEW else args


def call_label(call: ToolCallPart) -> str:
    return f"{call.name}({args_preview(call.arguments)})"


def pretty_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


def code_blocks(markdown: str) -> list[str]:
    """Fenced and indented code blocks, in order, for "copy code"."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(markdown)
    return [t.content.rstrip("\n") for t in tokens if t.type in ("fence", "code_block")]
