"""Progress of a running tool call, reported from wherever the tool runs to the turn that runs it.

The engine sets a sink in the task of each tool call (a context variable, so concurrent calls
never mix); a tool that can report progress (an MCP server sending `notifications/progress`)
takes the sink when the call starts and feeds it. The engine turns each report into a
ToolProgress event, which both faces show.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

ProgressSink = Callable[[float, float | None, str | None], None]  # (progress, total, message)

_sink: ContextVar[ProgressSink | None] = ContextVar("agentchat_tool_progress", default=None)


def current_progress() -> ProgressSink | None:
    """The sink of the tool call running in this task, if the engine is listening."""
    return _sink.get()


def set_progress(sink: ProgressSink | None) -> None:
    """Called by the engine at the start of a tool call's own task."""
    _sink.set(sink)


def progress_label(progress: float, total: float | None, message: str | None) -> str:
    """What both faces show: "3/10 · step 3", "40%" or "3 · step 3" (numbers as the server sent them)."""
    done = f"{progress:g}/{total:g}" if total else f"{progress:g}"
    return f"{done} · {message}" if message else done
