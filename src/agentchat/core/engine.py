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
from typing import TYPE_CHECKING, Any

from agentchat.core.attachments import check_new, fit_history, has_attachments
from agentchat.core.budget import check_request, estimate_input_tokens, estimated_cost
from agentchat.core.caching import price_reply
from agentchat.core.context import Fitting
from agentchat.core.errors import ProviderError, StreamInterrupted, UsageError
from agentchat.core.events import (
    AssistantFinished,
    AssistantStarted,
    Event,
    Notice,
    ProviderEvent,
    Retrying,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolFinished,
    TurnStarted,
)
from agentchat.core.ledger import Ledger, hold_budget
from agentchat.core.messages import Message
from agentchat.core.output_limit import applied_limit
from agentchat.core.persist import FINAL_WAIT_S, ReplyWriter
from agentchat.core.provider_clients import ProviderClients
from agentchat.core.ratelimit import limiter_for
from agentchat.core.request import ChatRequest, ToolSpec
from agentchat.core.retry import next_delay
from agentchat.core.routing import Route, Router, refuse_keyless
from agentchat.core.thinking import ignored_budget
from agentchat.core.turn import ReplyBuilder, TurnRequest, store_prompt
from agentchat.core.turn_tools import (
    offered_tools,
    run_tools,
    server_instructions,
    tool_message,
    with_instructions,
)

if TYPE_CHECKING:
    from agentchat.config import Config
    from agentchat.core.store import Store
    from agentchat.tools.approval import ApprovalGate
    from agentchat.tools.registry import ToolRegistry

CONTENT_EVENTS = (TextDelta, ThinkingDelta, ToolCall)


class Engine(ProviderClients):
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
        reported: set[str] | None = None,
    ) -> None:
        super().__init__()
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
        self.caching = config.caching  # read now: a bad [caching] fails before anything is stored
        # What was already shown to the user once (tool loading problems, the embedded-model
        # fallback); engines of one process (the gateway's two) may share it.
        self._reported: set[str] = set() if reported is None else reported

    # --- providers (the clients themselves: core/provider_clients.py) ---------------------------
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
        refuse_keyless([route, *fallbacks])  # a prompt nothing could be sent with is not stored
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
        parent, user = store_prompt(store, conv_id, parent, turn)
        yield TurnStarted(conv_id, user.id if user else None, route.provider, route.model, user)
        fallback = f"no API key or Ollama found: using the embedded local model {route.model}"
        if route.reason == "nothing else usable" and fallback not in self._reported:
            self._reported.add(fallback)  # said once per session (each ask is one)
            yield Notice(fallback)
        if thinking := ignored_budget(route, turn.thinking_budget):
            yield Notice(thinking, kind="warning")

        routes = [route, *fallbacks]
        for step in range(1, turn.max_steps + 1):  # tools offered anew per request: an MCP list may change
            tools, problems = await offered_tools(self.registry, self.gate, turn.tool_names, self._reported)
            tools = [*tools, *turn.client_tools]
            for problem in problems:
                yield Notice(problem, kind="warning")
            offered = {t.name for t in tools}
            told = with_instructions(system, server_instructions(self.registry, offered))
            reply: Message | None = None
            async with aclosing(self._one_request(conv_id, parent, routes, turn, tools, told)) as events:
                async for event in events:
                    if isinstance(event, AssistantFinished) and event.store_error is None:
                        reply = event.message
                    yield event
            if reply is None or reply.status != "complete" or not reply.tool_calls or turn.client_tools:
                return  # the client runs its own tools' calls (the gateway's)
            routes = [r for r in routes if r.provider == reply.provider and r.model == reply.model] or routes
            finished: dict[str, ToolFinished] = {}
            allowed = step < turn.max_steps
            try:
                async with aclosing(
                    run_tools(self.registry, self.gate, reply, offered, allowed=allowed, clock=self.clock)
                ) as events:
                    async for event in events:
                        if isinstance(event, ToolFinished):
                            finished[event.call.id] = event
                        yield event
            finally:  # every call gets a result, even when the user stops mid-way
                parent = store.add_message(conv_id, tool_message(reply, finished))
            if step == turn.max_steps:
                yield Notice(
                    f"stopped after max_steps={turn.max_steps} model requests; raise it with --max-steps"
                )
                return

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
                schema=turn.schema,
                cache=self.caching,
            )
            fitting = Fitting(self, conv_id, parent, route, request)  # into the window: core/context.py
            async for event in fitting.run():
                yield event
            request, parent = fitting.request, fitting.parent
            pricing = self.config.pricing
            estimate = estimated_cost(
                route.model, prompt_tokens, turn.max_tokens, pricing, route.settings.type
            )
            warning = check_request(route.model, estimate, turn.max_cost)
            if warning:
                yield Notice(warning, kind="warning")
            limiter = limiter_for(route.provider, *self.config.rate_limit(route.provider), self.ledger)
            attempt, began = 0, self.clock()
            while True:
                hold = hold_budget(self.config, self.ledger, self.records, self.wall_clock(), estimate)
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
                    if self.ledger is not None:  # the cost is stored now, or nothing was spent
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
            applied_limit(request.max_tokens, route.settings.type, route.settings.extra),
        )

    def _finalise(self, message: Message, started: float, status: str, error: str | None) -> None:
        """The reply's final status, time and cost; the caller hands it to its writer."""
        message.status = status  # type: ignore[assignment]
        message.error = error
        message.total_s = self.clock() - started
        price_reply(message, self.config)  # its cost, and what prompt caching saved


class _NoTokens(Exception):
    """A provider failed before yielding anything: safe to retry or fail over."""

    def __init__(self, error: ProviderError) -> None:
        super().__init__(str(error))
        self.error = error
