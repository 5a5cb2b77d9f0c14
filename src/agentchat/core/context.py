"""The context window: every request is fitted into its model's window before it is sent.

The engine hands each request here (`Fitting`) right before sending it, so `ask`, the TUI and a
gateway share one behaviour. The window and the model's largest reply come from its capabilities
(core/capabilities.py: the model table, Ollama, the GGUF, `[models."MODEL"]`); the request is
counted by core/tokens.py. When history + prompt exceed the window less the reply's reserve,
`[context] strategy` decides:

- `compact` (default): older turns are summarised by `[context] compact_model` (default the
  conversation's model) into a summary that roots a NEW branch holding the newest turns
  (core/compact.py); the original branch stays in the store, searchable and exportable;
- `truncate`: the oldest whole turns are left out of this request (a tool call never loses its
  result: a turn runs from one typed prompt to the next); the system prompt is always kept;
- `error`: nothing is sent; exit 2 with the sizes.

A prompt that does not fit alone is an error whatever the strategy. Each fitting is announced.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

from agentchat.core.errors import ProviderError, UsageError
from agentchat.core.events import ContextMeasured, Event, Notice
from agentchat.core.messages import Message
from agentchat.core.output_limit import limit_output
from agentchat.core.request import ChatRequest
from agentchat.core.tokens import message_tokens, request_tokens

if TYPE_CHECKING:
    from agentchat.core.capabilities import Capabilities
    from agentchat.core.engine import Engine
    from agentchat.core.routing import Route

DEFAULT_RESERVE = 4_096  # a reply's room when the model's largest output is unknown
MAX_DEFAULT_RESERVE = 8_192  # without --max-tokens, a reply rarely needs more: the rest is history
MIN_RESERVE = 256
SAFETY = 1.1  # turns are sized by estimate scaled to the exact count: allow for uneven text


class ContextError(UsageError):
    """A request that cannot fit its model's window (exit 2, as any usage error)."""


def reply_reserve(window: int, max_output: int | None, max_tokens: int | None) -> int:
    """Tokens kept free for the reply: the request's own limit, else the model's largest reply
    within an eighth of the window (a small window still leaves room for history)."""
    if max_tokens:
        return max_tokens
    return max(MIN_RESERVE, min(max_output or DEFAULT_RESERVE, window // 8, MAX_DEFAULT_RESERVE))


def split_turns(messages: list[Message]) -> tuple[list[Message], list[list[Message]]]:
    """(system messages, turns). A turn starts at a typed user prompt and holds the replies, tool
    calls and tool results up to the next one, so dropping whole turns never splits a call from
    its result. System messages (an earlier compaction's summary) stay with the system prompt."""
    pinned = [m for m in messages if m.role == "system"]
    turns: list[list[Message]] = []
    for message in messages:
        if message.role == "system":
            continue
        if not turns or (message.role == "user" and not message.tool_results):
            turns.append([message])
        else:
            turns[-1].append(message)
    return pinned, turns


def newest_fitting(turns: list[list[Message]], room: float, size: Any) -> int:
    """How many of the newest turns fit in `room` tokens, sized by `size(turn)`."""
    used, kept = 0.0, 0
    for turn in reversed(turns):
        used += size(turn)
        if used > room:
            break
        kept += 1
    return kept


def too_big(model: str, tokens: int, window: int, reserve: int, what: str = "the prompt") -> ContextError:
    return ContextError(
        f"{what} is {tokens:,} tokens but {model}'s context window is {window:,} tokens "
        f"({reserve:,} kept for the reply): choose a model with a larger window with -m, "
        "or send less (a smaller diff, fewer files)"
    )


class Fitting:
    """Fits one request to one route's window: run `run()`, then read `request` and `parent`
    (a new branch's tip after a compaction). Yields notices and the meter's `ContextMeasured`."""

    def __init__(self, engine: Engine, conv_id: int, parent: int | None, route: Route, request: ChatRequest):
        self.engine, self.conv_id, self.parent, self.route = engine, conv_id, parent, route
        self.request = request
        self.window: int | None = None
        self.reserve = 0
        self.scale = 1.0  # exact count / estimate, for sizing turns

    @property
    def budget(self) -> int:
        return (self.window or 0) - self.reserve

    async def capabilities(self, route: Route) -> Capabilities | None:
        try:
            return await self.engine.capabilities(route)
        except ProviderError:  # Ollama unreachable: the request itself will say so
            return None

    async def count(self, request: ChatRequest, route: Route | None = None) -> int:
        """The provider's exact count when the estimate is over budget (exactness only matters
        there; it may cost a request), else the estimate, which is never too low."""
        estimate = request_tokens(request)
        if estimate <= self.budget:
            return estimate
        provider = self.engine.provider_for((route or self.route).settings)
        counter = getattr(provider, "count_tokens", None)
        try:
            exact = await counter(request) if counter is not None else None
        except ProviderError:
            exact = None
        return exact if exact is not None else estimate

    async def run(self) -> AsyncGenerator[Event, None]:
        _ = self.engine.config.context  # a mistake in [context] is named on the first request, fitting or not
        caps = await self.capabilities(self.route)
        lowered = limit_output(self.request, caps, self.engine.config)  # the reply's limit: output_limit.py
        if lowered:
            yield Notice(lowered, kind="warning")
        self.window = caps.context_window if caps is not None else None
        if self.window is None:  # unknown window: sent as it is, the meter shows the size alone
            yield ContextMeasured(request_tokens(self.request), None, self.parent)
            return
        self.reserve = reply_reserve(
            self.window, caps.max_output_tokens if caps else None, self.request.max_tokens
        )
        tokens, asked_on = await self.count(self.request), self.parent
        if tokens > self.budget:
            self.scale = min(1.0, tokens / max(request_tokens(self.request), 1) * SAFETY)
            async for event in self._fit(tokens):
                yield event
            tokens = await self.count(self.request)
            if tokens > self.budget:  # the scaled sizes were optimistic: by estimate, which is safe
                self.scale = 1.0
                yield Notice(self._truncate(self._split(), f"still {tokens:,} tokens", "fitted"))
                tokens = request_tokens(self.request)
        yield ContextMeasured(tokens, self.window, self.parent, new_branch=self.parent != asked_on)

    # --- fitting --------------------------------------------------------------------------------
    def _size(self, messages: list[Message]) -> float:
        return sum(message_tokens(m) for m in messages) * self.scale

    def _split(self) -> tuple[list[Message], list[list[Message]], float]:
        """(pinned, turns, room for turns): the system prompt, tools and pinned messages come first."""
        pinned, turns = split_turns(self.request.messages)
        fixed = request_tokens(dataclasses.replace(self.request, messages=pinned)) * self.scale
        return pinned, turns, self.budget - fixed

    async def _fit(self, tokens: int) -> AsyncGenerator[Event, None]:
        pinned, turns, room = self._split()
        current = turns[-1] if turns else []
        if self._size(current) > room:
            what = "the prompt" if len(current) == 1 else "this turn (its prompt, replies and tool results)"
            raise too_big(self.route.model, round(self._size(current) + self.budget - room), self.window or 0,
                          self.reserve, what)  # fmt: skip
        strategy = self.engine.config.context.strategy
        if strategy == "error":
            raise ContextError(
                f"the conversation is {tokens:,} tokens but {self.route.model}'s context window is "
                f"{self.window:,} tokens ({self.reserve:,} kept for the reply) and [context] strategy "
                '= "error": compact it (ask -c --compact), start a new conversation, or choose a '
                "model with a larger window with -m"
            )
        if strategy == "compact":
            from agentchat.core.compact import CompactionFailed, compact_for_request

            try:
                async for event in compact_for_request(self, pinned, turns, room):
                    yield event
                return
            except CompactionFailed as failed:
                yield Notice(f"context: compaction failed ({failed}); truncating instead", kind="warning")
        yield Notice(self._truncate((pinned, turns, room), f"{tokens:,} tokens", strategy))

    def _truncate(
        self, split: tuple[list[Message], list[list[Message]], float], size: str, strategy: str = "truncate"
    ) -> str:
        pinned, turns, room = split
        kept = max(newest_fitting(turns, room, self._size), 1)
        dropped = turns[:-kept]
        self.request = dataclasses.replace(
            self.request, messages=pinned + [m for t in turns[-kept:] for m in t]
        )
        return (
            f"context: the conversation ({size}) exceeds {self.route.model}'s {self.window:,}-token window "
            f"less {self.reserve:,} for the reply; left out its {len(dropped)} oldest turn(s) "
            f"from this request ([context] strategy = {strategy}; the stored conversation is unchanged)"
        )
