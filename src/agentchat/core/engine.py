"""Runs a turn: stored history -> provider -> events -> store, with the tool loop, retries and failover.

Both faces drive this one code path. The user's prompt is committed before any request; the reply
is persisted while it streams (at most `persist_interval_s` of tokens can be lost to a hard crash)
and finalised as complete, interrupted or error.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentchat.core.attachments import check_new, fit_history, has_attachments
from agentchat.core.budget import (
    check_monthly,
    check_request,
    estimate_input_tokens,
    estimated_cost,
    month_start,
)
from agentchat.core.errors import ProviderError, StreamInterrupted, UsageError
from agentchat.core.events import (
    AssistantFinished,
    AssistantStarted,
    Event,
    Finish,
    Notice,
    ProviderEvent,
    Retrying,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolFinished,
    ToolStarted,
    TurnStarted,
    UsageReport,
)
from agentchat.core.ledger import Ledger
from agentchat.core.messages import (
    AttachmentPart,
    Message,
    Part,
    TextPart,
    ThinkingPart,
    ToolResultPart,
    Usage,
)
from agentchat.core.persist import FINAL_WAIT_S, ReplyWriter
from agentchat.core.ratelimit import limiter_for
from agentchat.core.request import ChatRequest, ProviderSettings, ToolSpec
from agentchat.core.retry import next_delay
from agentchat.core.routing import Route, Router
from agentchat.core.stats import monthly_cost
from agentchat.providers import create_provider, preload
from agentchat.providers.base import Provider
from agentchat.tools.approval import denied_result

if TYPE_CHECKING:
    from agentchat.config import Config
    from agentchat.core.capabilities import Capabilities
    from agentchat.core.store import Store
    from agentchat.tools.approval import ApprovalGate
    from agentchat.tools.registry import ToolRegistry

DEFAULT_MAX_STEPS = 8
CONTENT_EVENTS = (TextDelta, ThinkingDelta, ToolCall)


@dataclass(slots=True)
class TurnRequest:
    """What a face asks for. `prompt=None` regenerates from `parent_id` (or resumes with `resume`)."""

    prompt: str | None
    conversation_id: int | None = None
    parent_id: int | None = None  # branch point; default: the conversation's newest message
    from_root: bool = False  # the prompt starts a new root branch (the first message was edited)
    model: str | None = None
    provider: str | None = None
    system: str | None = None
    agent: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    max_steps: int = DEFAULT_MAX_STEPS
    stream: bool = True
    fallbacks: list[str] = field(default_factory=list)
    tool_names: list[str] | None = None  # None: every tool the registry offers
    max_cost: float | None = None  # refuse a request whose estimated cost exceeds this (USD)
    thinking_budget: int | None = None  # extended thinking (Anthropic budget tokens; Ollama `think`)
    attachments: list[AttachmentPart] = field(default_factory=list)  # core.intake read them, with bytes


class ReplyBuilder:
    """Folds provider events into message parts, so the partial reply can be stored at any moment."""

    def __init__(self, message: Message) -> None:
        self.message = message

    def add(self, event: Event) -> None:
        parts = self.message.parts
        last = parts[-1] if parts else None
        if isinstance(event, TextDelta):
            if isinstance(last, TextPart):
                last.text += event.text
            else:
                parts.append(TextPart(event.text))
        elif isinstance(event, ThinkingDelta):
            if event.redacted is not None:
                parts.append(ThinkingPart("", redacted=event.redacted))
                return
            if not (isinstance(last, ThinkingPart) and last.redacted is None and last.signature is None):
                last = ThinkingPart("")
                parts.append(last)
            last.text += event.text
            if event.signature:
                last.signature = event.signature
        elif isinstance(event, ToolCall):
            parts.append(event.call)
        elif isinstance(event, UsageReport):
            self.message.usage = self.message.usage.merge(event.usage)
        elif isinstance(event, Finish):
            self.message.finish_reason = event.reason


class Engine:
    """One per face session: caches provider clients, owns retries, failover and the tool loop."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        router: Router | None = None,
        registry: ToolRegistry | None = None,
        gate: ApprovalGate | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Any] = asyncio.sleep,
        persist_interval_s: float = 0.5,
        records: Store | None = None,
        store_wait_s: float = FINAL_WAIT_S,
    ) -> None:
        self.config = config
        self.store = store
        self.router = router or Router(config)
        self.registry = registry
        self.gate = gate
        self.clock = clock
        self.wall_clock = wall_clock
        self.sleep = sleep
        self.persist_interval_s = persist_interval_s
        self.store_wait_s = store_wait_s  # how long a finished reply waits for a locked or full store
        self.records = records or store  # where past spending is read (the real history, even with --no-log)
        # Rate-limit slots and budget holds shared with every other agentchat process of the user.
        self.ledger = Ledger(self.records, wall_clock) if str(self.records.path) != ":memory:" else None
        self.retry_policy = config.retry
        self._providers: dict[str, Provider] = {}
        self._reported: set[str] = set()  # tool loading problems already shown to the user
        self._prepared: set[str] = set()  # providers whose SDK (or local model) is loaded

    # --- providers ------------------------------------------------------------------------------
    def provider_for(self, settings: ProviderSettings) -> Provider:
        provider = self._providers.get(settings.name)
        if provider is None:
            provider = self._providers[settings.name] = create_provider(settings)
        return provider

    async def capabilities(self, route: Route) -> Capabilities:
        """What the route's model takes (vision, PDF, window): its provider's answer, then config."""
        from agentchat.core.capabilities import capabilities_for, model_overrides

        return await capabilities_for(
            self.provider_for(route.settings), route.model, model_overrides(self.config)
        )

    async def aclose(self) -> None:
        providers, self._providers = list(self._providers.values()), {}
        for provider in providers:
            try:
                await provider.aclose()
            except Exception:  # closing a client must not mask the turn's outcome
                pass

    async def fallback_routes(self, names: list[str]) -> list[Route]:
        """Routes from `--fallback` names, or else the config's `[failover] chain`."""
        routes: list[Route] = []
        if names:
            for name in names:
                routes.append(await self.router.resolve(name))
            return routes
        for model, provider in self.config.failover_chain():
            routes.append(await self.router.resolve(model, provider))
        return routes

    # --- the turn -------------------------------------------------------------------------------
    async def run_turn(self, turn: TurnRequest) -> AsyncGenerator[Event, None]:
        """The whole turn for either face. Nothing is stored until a provider is chosen, then the
        conversation (created here when new) gets the prompt before any request is sent."""
        store = self.store
        conv_id = turn.conversation_id
        info = store.conversation(conv_id) if conv_id is not None else None
        if conv_id is not None and info is None:
            raise UsageError(f"no conversation with id {conv_id}; see agentchat history")
        model, provider = turn.model, turn.provider
        if info is not None and info.model and not (model or provider):
            model, provider = info.model, info.provider  # continuing keeps its provider and model
        route = await self.router.resolve(model, provider)
        fallbacks = await self.fallback_routes(turn.fallbacks)
        if turn.attachments:  # what the model cannot take is refused before anything is stored
            caps = await self.capabilities(route)
            await asyncio.to_thread(check_new, turn.attachments, caps, route.model)
        system = turn.system or None  # "" clears the conversation's system prompt
        if info is None:
            conv_id = store.create_conversation(agent=turn.agent, system=system)
        elif turn.system is None:
            system = info.system  # the conversation keeps its system prompt turn after turn
        elif system != info.system:
            store.set_system(info.id, system)  # replaced from this turn on
        assert conv_id is not None
        if turn.from_root:
            parent = None
        else:
            parent = turn.parent_id if turn.parent_id is not None else store.leaf(conv_id)
        user: Message | None = None
        if turn.prompt is not None:
            user = Message.user(turn.prompt, turn.attachments)
            user.parent_id = parent
            parent = store.add_message(conv_id, user)
        yield TurnStarted(conv_id, user.id if user else None, route.provider, route.model, user)
        if route.reason == "nothing else usable":
            yield Notice(f"no API key or Ollama found: using the embedded local model {route.model}")

        tools, problems = await self._tool_specs(turn)
        for problem in problems:
            yield Notice(problem, kind="warning")
        offered = {t.name for t in tools}
        system = _with_instructions(system, self._server_instructions(offered))
        routes = [route, *fallbacks]
        for step in range(1, turn.max_steps + 1):
            reply: Message | None = None
            async with aclosing(self._one_request(conv_id, parent, routes, turn, tools, system)) as events:
                async for event in events:
                    if isinstance(event, AssistantFinished) and event.store_error is None:
                        reply = event.message
                    yield event
            if reply is None or reply.status != "complete" or not reply.tool_calls:
                return
            routes = [r for r in routes if r.provider == reply.provider and r.model == reply.model] or routes
            results: dict[str, ToolResultPart] = {}
            try:
                async with aclosing(self._run_tools(reply, offered, allowed=step < turn.max_steps)) as events:
                    async for event in events:
                        if isinstance(event, ToolFinished):
                            event.result.status, event.result.duration_s = event.status, event.duration_s
                            results[event.call.id] = event.result
                        yield event
            finally:
                # Every call gets a result, even when the user stops mid-way, so the stored history
                # stays valid for every provider (a call without its result is rejected).
                parts: list[Part] = [
                    results.get(c.id)
                    or ToolResultPart(c.id, "not run: interrupted by the user", True, c.name, "interrupted")
                    for c in reply.tool_calls
                ]
                parent = store.add_message(conv_id, Message(role="tool", parts=parts, parent_id=reply.id))
            if step == turn.max_steps:
                yield Notice(
                    f"stopped after max_steps={turn.max_steps} model requests; raise it with --max-steps"
                )
                return

    def _hold_budget(self, estimate: float | None) -> int | None:
        """With `[budget] monthly_usd`: refuse once this month's spending (plus the requests every
        other agentchat process is running now) reaches it; else hold this request's estimated
        cost while it runs, so parallel requests count it too."""
        limit = self.config.monthly_budget
        if limit is None:
            return None
        since = month_start(self.wall_clock())
        if self.ledger is None:  # an in-memory history: only this process's spending is known
            check_monthly(limit, monthly_cost(self.records.assistant_records(since=since), self.wall_clock()))
            return None
        return self.ledger.hold_budget(limit, since, estimate)

    async def _tool_specs(self, turn: TurnRequest) -> tuple[list[ToolSpec], list[str]]:
        """Load plugins and MCP servers on first use; offer what the policies allow (and -T asked for)."""
        if self.registry is None:
            return [], []
        await self.registry.load()
        tools = self.registry.tools
        names = self.gate.policies.offered(tools) if self.gate is not None else [t.name for t in tools]
        if turn.tool_names is not None:
            wanted = set(turn.tool_names)
            unknown = sorted(wanted - {t.name for t in tools})
            if unknown:
                raise UsageError(f"unknown tool(s): {', '.join(unknown)}; see agentchat tools")
            names = [n for n in names if n in wanted]
        problems = [
            f"tools: {where}: {message}"
            for where, message in self.registry.errors.items()
            if where not in self._reported
        ]
        self._reported.update(self.registry.errors)
        return self.registry.specs(names), problems

    def _server_instructions(self, offered: set[str]) -> list[str]:
        """What the MCP servers whose tools are offered this turn ask of the model (their
        `instructions`), framed as theirs: it is third-party text, not the user's system prompt."""
        if self.registry is None:
            return []
        sources = {tool.source for name in offered if (tool := self.registry.get(name)) is not None}
        return [
            f"Instructions from MCP server '{name}' (for using its tools):\n{text}"
            for name, text in self.registry.instructions.items()
            if f"mcp:{name}" in sources
        ]

    async def _run_tools(
        self, reply: Message, offered: set[str], *, allowed: bool
    ) -> AsyncGenerator[Event, None]:
        """Ask approval in order (one question at a time), then run the approved calls concurrently.
        Only tools offered in this turn run: a model cannot reach one that was not given to it."""
        approved = []
        for call in reply.tool_calls:
            yield ToolStarted(call)
            tool = self.registry.get(call.name) if self.registry and call.name in offered else None
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
            elif self.gate is not None and not await self.gate.check(call, tool):
                yield ToolFinished(call, denied_result(call), "denied", 0.0)
            else:
                approved.append(call)

        async def run(call: Any) -> ToolFinished:
            assert self.registry is not None  # only offered (registered) tools were approved
            start = self.clock()
            result, status = await self.registry.call(call)
            return ToolFinished(call, result, status, self.clock() - start)

        tasks = [asyncio.ensure_future(run(c)) for c in approved]
        try:
            for next_done in asyncio.as_completed(tasks):
                yield await next_done
        finally:
            for task in tasks:  # stopped mid-way: a running tool is cancelled (a shell command killed)
                task.cancel()

    async def _one_request(
        self,
        conv_id: int,
        parent: int | None,
        routes: list[Route],
        turn: TurnRequest,
        tools: list[ToolSpec],
        system: str | None,
    ) -> AsyncGenerator[Event, None]:
        """One model request with retries and failover before the first token."""
        history = self.store.thread(parent) if parent is not None else []
        attached = has_attachments(history)
        if attached:
            self.store.load_attachments(history)
        prompt_tokens = estimate_input_tokens(history, system)
        last_error: ProviderError | None = None
        for index, route in enumerate(routes):
            if index:
                yield Notice(
                    f"{routes[index - 1].provider}/{routes[index - 1].model} failed ({last_error}); "
                    f"falling back to {route.provider}/{route.model}",
                    kind="warning",
                )
            messages = history
            if attached:  # each model gets the attachments in a form it takes
                try:
                    caps = await self.capabilities(route)
                except ProviderError:  # Ollama unreachable: the request says so, and failover goes on
                    from agentchat.core.capabilities import TEXT_ONLY as caps
                messages, notes = await asyncio.to_thread(
                    fit_history, history, caps, route.model, self.store.set_extracted_text
                )
                for note in notes:
                    yield Notice(note, kind="warning")
            request = ChatRequest(
                model=route.model,
                messages=messages,
                system=system,
                tools=tools,
                temperature=turn.temperature,
                max_tokens=turn.max_tokens,
                thinking_budget=turn.thinking_budget,
                stream=turn.stream,
            )
            pricing = self.config.pricing
            estimate = estimated_cost(route.model, prompt_tokens, turn.max_tokens, pricing)
            warning = check_request(route.model, estimate, turn.max_cost)
            if warning:
                yield Notice(warning, kind="warning")
            limiter = limiter_for(route.provider, *self.config.rate_limit(route.provider), self.ledger)
            attempt, began = 0, self.clock()
            while True:
                hold = self._hold_budget(estimate)
                try:
                    wait, slot = limiter.reserve(prompt_tokens)
                    if wait >= 1.0:  # said before the wait, so a pipeline that seems stuck explains itself
                        yield Notice(
                            f"waiting {wait:.0f} s for the {route.provider} rate limit ([rate_limits])"
                        )
                    await limiter.wait(wait, slot, self.sleep)
                    async with aclosing(self._stream_reply(conv_id, parent, route, request)) as events:
                        async for event in events:
                            yield event
                    return
                except _NoTokens as wrapped:
                    last_error = wrapped.error
                finally:
                    if self.ledger is not None:
                        self.ledger.release_budget(hold)
                delay = next_delay(self.retry_policy, attempt, last_error, self.clock() - began)
                if delay is None:
                    break
                attempt += 1
                yield Retrying(attempt, delay, str(last_error))
                await self.sleep(delay)
        assert last_error is not None
        failed = Message(
            role="assistant",
            parent_id=parent,
            provider=routes[-1].provider,
            model=routes[-1].model,
            status="error",
            error=str(last_error),
        )
        self.store.add_message(conv_id, failed)
        raise last_error

    async def _stream_reply(
        self, conv_id: int, parent: int | None, route: Route, request: ChatRequest
    ) -> AsyncGenerator[Event, None]:
        """Stream one reply into the store; errors before any content are raised as `_NoTokens`."""
        provider = self.provider_for(route.settings)
        try:  # SDK import and model load are not "time to first token"
            await self._prepare(provider, route.settings)
        except ProviderError as exc:
            raise _NoTokens(exc) from exc
        message = Message(
            role="assistant", parent_id=parent, provider=route.provider, model=route.model, status="streaming"
        )
        builder = ReplyBuilder(message)
        started = self.clock()
        stream = provider.stream(request)
        pending: list[ProviderEvent] = []
        writer: ReplyWriter | None = None
        try:
            try:
                async for (
                    event
                ) in stream:  # hold events until the first token: failures before it are retried
                    pending.append(event)
                    if isinstance(event, CONTENT_EVENTS):
                        message.ttft_s = self.clock() - started
                        break
            except ProviderError as exc:
                raise _NoTokens(exc) from exc
            message_id = self.store.add_message(conv_id, message)  # owned by this process while it streams
            writer = ReplyWriter(self.store, final_wait_s=self.store_wait_s)
            yield AssistantStarted(message_id, route.provider, route.model)
            last_saved = self.clock()
            for event in pending:
                builder.add(event)
                yield event
            async for event in stream:
                builder.add(event)
                yield event
                now = self.clock()
                if now - last_saved >= self.persist_interval_s:
                    writer.save(message)  # never waits: a locked store must not stall the output
                    last_saved = now
        except _NoTokens:
            raise
        except (asyncio.CancelledError, KeyboardInterrupt, GeneratorExit):
            if writer is not None:
                self._finalise(message, started, "interrupted", "interrupted by the user")
                writer.close_now(message)
            raise
        except ProviderError as exc:
            error = (
                exc
                if isinstance(exc, StreamInterrupted)
                else StreamInterrupted(str(exc), provider=route.provider)
            )
            if writer is not None:
                self._finalise(message, started, "interrupted", str(error))
                await writer.close(message)
            raise error from exc
        finally:
            await stream.aclose()
        # A reply with nothing to read and nothing to run (a filter, a thinking budget that took
        # every token, a server that gave up) is not a success, whatever its finish reason says.
        empty = not message.text.strip() and not message.tool_calls
        self._finalise(message, started, "empty" if empty else "complete", None)
        store_error = await writer.close(message)
        yield AssistantFinished(
            message_id,
            route.provider,
            route.model,
            message.status,
            message.finish_reason,
            message.usage,
            message.cost,
            message.ttft_s,
            message.total_s,
            store_error,
            message,
        )

    async def _prepare(self, provider: Provider, settings: ProviderSettings) -> None:
        if settings.name not in self._prepared:
            preload(settings)
            prepare = getattr(provider, "prepare", None)
            if prepare is not None:
                await prepare()
            self._prepared.add(settings.name)

    def _finalise(self, message: Message, started: float, status: str, error: str | None) -> None:
        """The reply's final status, time and cost; the caller hands it to its writer."""
        from agentchat.core.pricing import cost

        message.status = status  # type: ignore[assignment]
        message.error = error
        message.total_s = self.clock() - started
        pricing = self.config.pricing
        # The price table is for OpenAI's and Anthropic's own models; elsewhere a model name may be
        # anything (a local file called gpt-4o), so only a configured price counts.
        if message.provider in ("openai", "anthropic") or (message.model or "") in pricing:
            message.cost = cost(message.model or "", message.usage, pricing)


def _with_instructions(system: str | None, instructions: list[str]) -> str | None:
    """The request's system prompt: the conversation's own, then the servers' instructions (never
    stored with the conversation: they change with the servers and the tools offered)."""
    return "\n\n".join(part for part in (system, *instructions) if part) or None


class _NoTokens(Exception):
    """A provider failed before yielding anything: safe to retry or fail over."""

    def __init__(self, error: ProviderError) -> None:
        super().__init__(str(error))
        self.error = error


def total_usage(usages: list[Usage]) -> Usage:
    """Sum token counts over a turn's requests; a count unknown for every request stays unknown."""
    fields = ("input_tokens", "output_tokens", "cached_tokens", "reasoning_tokens")
    sums: dict[str, int | None] = {}
    for name in fields:
        known = [getattr(u, name) for u in usages if getattr(u, name) is not None]
        sums[name] = sum(known) if known else None
    return Usage(**sums)
