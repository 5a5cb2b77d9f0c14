"""The gateway's engine side: a client's request becomes one turn of the same engine the CLI and
the TUI drive (assembled by `assemble_turn`), placed in the history by gateway/threads.py.

One engine per history for the server's lifetime, so provider clients (and their connection pools)
are reused across requests. With `--no-log` (or a request's `X-Agentchat-No-Log: 1`) the turn runs
against an in-memory store and its conversation is deleted when the request ends; past spending
and the shared rate limits still count, read from the real history as `ask --no-log` does.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from agentchat import gc_policy
from agentchat.core.agents import assemble_turn, load_agent
from agentchat.core.events import (
    AssistantFinished,
    AssistantStarted,
    ContextMeasured,
    Event,
    Notice,
    Retrying,
    TurnStarted,
)
from agentchat.core.messages import Message
from agentchat.core.structured import StructuredReply, run_structured
from agentchat.core.text import clean
from agentchat.gateway.errors import InvalidReply
from agentchat.gateway.threads import Placement, named_key, opening_key, place, remember

if TYPE_CHECKING:
    from agentchat.config import Config
    from agentchat.core.engine import Engine
    from agentchat.core.store import Store
    from agentchat.gateway.requests import ClientTurn

DISCOVERY_TIMEOUT_S = 5.0


@dataclass(slots=True, kw_only=True)
class Routing:
    """Who the request is from and where it goes, from headers and body."""

    conversation: str | None = None  # a name: X-Agentchat-Conversation, else `user`
    agent: str | None = None  # X-Agentchat-Agent
    no_log: bool = False


@dataclass(slots=True)
class Outcome:
    """What a turn produced, gathered from its events (non-streaming replies, the extension fields)."""

    conversation_id: int | None = None
    provider: str | None = None
    model: str | None = None
    finished: AssistantFinished | None = None
    text: list[str] = field(default_factory=list)
    structured: StructuredReply | None = None  # with a response_format: the validated reply
    measured: ContextMeasured | None = None  # the last request's size and the model's window

    def see(self, event: Event | StructuredReply) -> None:
        if isinstance(event, StructuredReply):
            self.structured = event
        elif isinstance(event, ContextMeasured):
            self.measured = event
        elif isinstance(event, TurnStarted):
            self.conversation_id, self.provider, self.model = (
                event.conversation_id,
                event.provider,
                event.model,
            )
        elif isinstance(event, AssistantStarted):  # the model that answers (after a failover)
            self.provider, self.model = event.provider, event.model
        elif isinstance(event, AssistantFinished):
            self.finished = event

    @property
    def content(self) -> str:
        """The reply's text; under a response_format, the JSON as validated (fences removed)."""
        structured = self.structured
        return structured.text if structured is not None and structured.valid else self.reply.text

    @property
    def reply(self) -> Message:
        finished = self.finished
        return (
            finished.message
            if finished is not None and finished.message is not None
            else Message("assistant")
        )

    def extension(self, logged: bool) -> dict[str, object]:
        """agentchat's own fields beside the wire format (`agentchat ask --via` reads them)."""
        f = self.finished
        return {
            "conversation_id": self.conversation_id if logged else None,
            "message_id": f.message_id if f is not None and logged else None,
            "provider": self.provider,
            "model": self.model,
            "status": f.status if f is not None else None,
            "finish_reason": f.finish_reason if f is not None else None,
            "cost": f.cost if f is not None else None,
            "ttft_s": f.ttft_s if f is not None else None,
            "total_s": f.total_s if f is not None else None,
            "input_tokens": f.usage.input_tokens if f is not None else None,
            "output_tokens": f.usage.output_tokens if f is not None else None,
            "context_tokens": self.context_tokens(),
            "context_window": self.measured.window if self.measured is not None else None,
        }

    def context_tokens(self) -> int | None:
        """The conversation's size after this turn, as `ask -u` shows it: the last request (the
        provider's count, else agentchat's estimate) plus its reply."""
        f, measured = self.finished, self.measured
        sent = f.usage.input_tokens if f is not None else None
        if sent is None:
            sent = measured.tokens if measured is not None else None
        if sent is None:
            return None
        return sent + ((f.usage.output_tokens or 0) if f is not None else 0)


def _to_stderr(text: str) -> None:
    sys.stderr.write(f"agentchat serve: {clean(text)}\n")
    sys.stderr.flush()


class Gateway:
    def __init__(
        self, config: Config, *, no_log: bool = False, notify: Callable[[str], None] = _to_stderr
    ) -> None:
        self.config = config
        self.no_log = no_log
        self.notify = notify  # what the operator should see: retries, failover, internal errors
        self._engines: dict[bool, Engine] = {}
        self._reported: set[str] = set()  # notices said once per server, whichever engine said them
        self._frozen: set[str] = set()  # providers whose SDK is frozen out of GC (see `_settle`)

    def engine(self, no_log: bool) -> Engine:
        """The engine over the real history, or over an in-memory one (made on first use)."""
        no_log = no_log or self.no_log
        engine = self._engines.get(no_log)
        if engine is None:
            from agentchat.core.engine import Engine
            from agentchat.core.store import Store

            if no_log:
                limits = self.config.monthly_budget is not None or self.config.has_rate_limits
                records = Store.open_default() if limits else None
                engine = Engine(
                    self.config, Store(Path(":memory:")), records=records, reported=self._reported
                )
            else:
                engine = Engine(self.config, Store.open_default(), reported=self._reported)
            self._engines[no_log] = engine
        return engine

    async def aclose(self) -> None:
        engines, self._engines = list(self._engines.values()), {}
        for engine in engines:
            await engine.aclose()
            engine.store.close()
            if engine.records is not engine.store:
                engine.records.close()

    def split_model(self, name: str | None) -> tuple[str | None, str | None]:
        """(model, provider). `PROVIDER/MODEL` names the provider when PROVIDER is one agentchat
        knows (`PROVIDER/` alone: its default model); any other name is routed as a model (it may
        hold a slash itself, as OpenRouter's do)."""
        if name is None:
            return None, None
        head, sep, tail = name.partition("/")
        if sep and head in [*self.config.provider_names(), "local"]:
            return tail or None, head
        return name, None

    async def models(self) -> list[tuple[str, str]]:
        """(model, provider) for every model agentchat can route: configured, discovered (stale
        lists of usable providers are refreshed first, best effort), the built-in defaults of
        providers with a key, and the embedded model when it can run."""
        from agentchat.core.request import has_key
        from agentchat.core.routing import DEFAULT_MODELS

        router = self.engine(False).router

        async def refresh(name: str) -> None:
            settings = router.settings(name)
            if router.cache.fresh(name) or not await asyncio.to_thread(router.usable, settings):
                return
            try:
                await asyncio.wait_for(router.refresh(settings), DISCOVERY_TIMEOUT_S)
            except Exception:  # discovery is best effort: the list shows what is known
                pass

        await asyncio.gather(*(refresh(name) for name in self.config.provider_names()))
        seen: set[str] = set()
        out: list[tuple[str, str]] = []
        for provider, rows in router.known_models().items():
            names = [m for m, _ in rows]
            if not names and provider in ("openai", "anthropic") and has_key(router.settings(provider)):
                names = [DEFAULT_MODELS[provider]]
            elif not names and provider == "local":  # the embedded model, when installed and enabled
                local = router.settings(provider)
                names = router.local_models(local) if await asyncio.to_thread(router.usable, local) else []
            for model in names:
                if model not in seen:
                    seen.add(model)
                    out.append((model, provider))
        return out

    async def run(self, turn: ClientTurn, routing: Routing, outcome: Outcome) -> AsyncGenerator[Event, None]:
        """The request as one engine turn; `outcome` gathers what it produced."""
        no_log = routing.no_log or self.no_log
        engine = self.engine(no_log)
        store = engine.store
        if no_log:
            placement = Placement(None, None, False, list(turn.messages))
        else:
            placement = place(
                store, routing.conversation, turn.choices.system, turn.messages
            )  # on the loop, as the engine's
        model, provider = self.split_model(turn.model)
        agent = load_agent(self.config, routing.agent)
        request = assemble_turn(
            self.config,
            agent,
            None,  # the client's new messages are the turn's history; the last is the prompt
            conversation_id=placement.conversation_id,
            parent_id=placement.parent_id,
            from_root=placement.from_root,
            choices=replace(turn.choices, model=model, provider=provider, history=placement.new),
        )
        new_conversation = placement.conversation_id is None
        try:
            async for event in run_structured(engine, request):  # the engine's turn without a schema
                outcome.see(event)
                if isinstance(event, StructuredReply):
                    if not event.valid:
                        raise InvalidReply(
                            "the reply did not match response_format's schema, also when asked again: "
                            + "; ".join(event.errors)
                        )
                    continue
                if isinstance(event, Notice):
                    self.notify(event.text)
                elif isinstance(event, Retrying):
                    self.notify(
                        f"retrying in {event.delay_s:.1f}s (attempt {event.attempt + 1}): {event.reason}"
                    )
                if new_conversation and not no_log:
                    self._remember(store, routing, turn, event)
                yield event
        finally:
            if no_log and outcome.conversation_id is not None:
                store.delete_conversation(outcome.conversation_id)
            self._settle(outcome.provider)

    def _settle(self, provider: str | None) -> None:
        """After a provider's first request its SDK (hundreds of thousands of objects, alive as
        long as the server) is imported: freeze what is alive out of later collections, so a full
        collection no longer walks it all again (pauses of ~50 ms, ~0.3 ms of CPU per request)."""
        if provider is not None and provider not in self._frozen:
            self._frozen.add(provider)
            gc_policy.startup_done()

    @staticmethod
    def _remember(store: Store, routing: Routing, turn: ClientTurn, event: Event) -> None:
        """Name a new conversation: by the client's name at once; unnamed, by its opening exchange
        (the first two messages sent, else the first message and the reply once it is stored)."""
        if isinstance(event, TurnStarted):
            if routing.conversation is not None:
                remember(store, named_key(routing.conversation), event.conversation_id)
            elif len(turn.messages) >= 2:
                remember(store, opening_key(turn.choices.system, *turn.messages[:2]), event.conversation_id)
        elif (
            isinstance(event, AssistantFinished)
            and routing.conversation is None
            and len(turn.messages) == 1
            and event.message is not None
            and event.store_error is None
            and event.message.conversation_id is not None
        ):
            key = opening_key(turn.choices.system, turn.messages[0], event.message)
            remember(store, key, event.message.conversation_id)
