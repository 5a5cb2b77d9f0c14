"""A turn's tools: which are offered, what their MCP servers ask of the model, and running the calls
the model makes (approval in order, then concurrently; every call gets a result)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Any

from agentchat.core.errors import UsageError
from agentchat.core.events import Event, ToolFinished, ToolProgress, ToolStarted
from agentchat.core.messages import Message, Part, ToolResultPart
from agentchat.core.progress import set_progress
from agentchat.core.request import ToolSpec
from agentchat.tools.approval import denied_result

if TYPE_CHECKING:
    from agentchat.tools.approval import ApprovalGate
    from agentchat.tools.registry import ToolRegistry


async def offered_tools(
    registry: ToolRegistry | None, gate: ApprovalGate | None, tool_names: list[str] | None, reported: set[str]
) -> tuple[list[ToolSpec], list[str]]:
    """Load plugins and MCP servers on first use; offer what the policies allow (and -T asked for).
    `reported` holds the loading problems already shown, so each is said once per session."""
    if registry is None:
        return [], []
    await registry.load()
    tools = registry.tools
    names = gate.policies.offered(tools) if gate is not None else [t.name for t in tools]
    if tool_names is not None:
        wanted = set(tool_names)
        unknown = sorted(wanted - {t.name for t in tools})
        if unknown:
            raise UsageError(f"unknown tool(s): {', '.join(unknown)}; see agentchat tools")
        names = [n for n in names if n in wanted]
    problems = [
        f"tools: {where}: {message}" for where, message in registry.errors.items() if where not in reported
    ]
    reported.update(registry.errors)
    return registry.specs(names), problems


def server_instructions(registry: ToolRegistry | None, offered: set[str]) -> list[str]:
    """What the MCP servers whose tools are offered this turn ask of the model (their
    `instructions`), framed as theirs: it is third-party text, not the user's system prompt."""
    if registry is None:
        return []
    sources = {tool.source for name in offered if (tool := registry.get(name)) is not None}
    return [
        f"Instructions from MCP server '{name}' (for using its tools):\n{text}"
        for name, text in registry.instructions.items()
        if f"mcp:{name}" in sources
    ]


def with_instructions(system: str | None, instructions: list[str]) -> str | None:
    """The request's system prompt: the conversation's own, then the servers' instructions (never
    stored with the conversation: they change with the servers and the tools offered)."""
    return "\n\n".join(part for part in (system, *instructions) if part) or None


async def run_tools(
    registry: ToolRegistry | None,
    gate: ApprovalGate | None,
    reply: Message,
    offered: set[str],
    *,
    allowed: bool,
    clock: Callable[[], float],
) -> AsyncGenerator[Event, None]:
    """Ask approval in order (one question at a time), then run the approved calls concurrently.
    Only tools offered in this turn run: a model cannot reach one that was not given to it."""
    approved = []
    for call in reply.tool_calls:
        yield ToolStarted(call)
        tool = registry.get(call.name) if registry and call.name in offered else None
        if not allowed:
            result = ToolResultPart(
                call.id, "not run: the step limit (max_steps) was reached", True, call.name
            )
            yield ToolFinished(call, result, "failed", 0.0)
        elif tool is None:
            result = ToolResultPart(
                call.id, f"error: no tool named {call.name} is available", True, call.name
            )
            yield ToolFinished(call, result, "failed", 0.0)
        elif gate is not None and not await gate.check(call, tool):
            yield ToolFinished(call, denied_result(call), "denied", 0.0)
        else:
            approved.append(call)

    reports: asyncio.Queue[ToolProgress] = asyncio.Queue()

    async def run(call: Any) -> ToolFinished:
        assert registry is not None  # only offered (registered) tools were approved
        # This task's own context: the call's progress reports become events of this turn.
        set_progress(lambda done, total, text: reports.put_nowait(ToolProgress(call, done, total, text)))
        start = clock()
        result, status, images = await registry.call_with_media(call)
        return ToolFinished(call, result, status, clock() - start, images)

    tasks = {asyncio.ensure_future(run(c)) for c in approved}
    pending: set[asyncio.Future[Any]] = set(tasks)
    report: asyncio.Future[ToolProgress] | None = None
    try:
        while pending or not reports.empty():
            while not reports.empty():
                yield reports.get_nowait()
            if not pending:
                break
            report = asyncio.ensure_future(reports.get())
            done, pending = await asyncio.wait(pending | {report}, return_when=asyncio.FIRST_COMPLETED)
            pending.discard(report)
            if report in done:
                yield report.result()
            else:
                report.cancel()
            for task in done - {report}:
                yield task.result()
    finally:
        for task in tasks:  # stopped mid-way: a running tool is cancelled (its MCP server told so)
            task.cancel()
        if report is not None:
            report.cancel()


def tool_message(reply: Message, finished: dict[str, ToolFinished]) -> Message:
    """The stored answer to a reply's tool calls: a result for every call, even those the user
    stopped (else the history is invalid for every provider: a call without its result is
    rejected), then the images the tools returned, for the model to see."""
    parts: list[Part] = []
    for call in reply.tool_calls:
        done = finished.get(call.id)
        if done is None:
            parts.append(
                ToolResultPart(call.id, "not run: interrupted by the user", True, call.name, "interrupted")
            )
        else:
            done.result.status, done.result.duration_s = done.status, done.duration_s
            parts.append(done.result)
    parts.extend(image for done in finished.values() for image in done.attachments)
    return Message(role="tool", parts=parts, parent_id=reply.id)
