"""Chat Completions replies into neutral events: streamed chunks (`ChunkParser`) and a whole
completion (`events_from_completion`) give the same events. Reasoning that compatible servers
stream (`reasoning_content` / `reasoning`) arrives as ThinkingDelta."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from agentchat.core.events import Finish, ProviderEvent, TextDelta, ThinkingDelta, ToolCall, UsageReport
from agentchat.core.messages import ToolCallPart, Usage
from agentchat.providers.base import parse_arguments, tool_finish


def usage_from_wire(usage: dict[str, Any]) -> Usage:
    prompt = usage.get("prompt_tokens_details") or {}
    completion = usage.get("completion_tokens_details") or {}
    return Usage(
        input_tokens=usage.get("prompt_tokens"),
        output_tokens=usage.get("completion_tokens"),
        cached_tokens=prompt.get("cached_tokens"),
        reasoning_tokens=completion.get("reasoning_tokens"),
    )


def _texts(delta: dict[str, Any]) -> Iterator[ProviderEvent]:
    """Reasoning (vLLM, DeepSeek and llama.cpp send `reasoning_content`; OpenRouter and newer vLLM
    `reasoning`), then the text and a refusal, of a streamed delta or a whole message."""
    reasoning = delta.get("reasoning_content") or delta.get("reasoning")
    if isinstance(reasoning, str) and reasoning:
        yield ThinkingDelta(reasoning)
    for key in ("content", "refusal"):
        text = delta.get(key)
        if isinstance(text, str) and text:
            yield TextDelta(text)


@dataclass
class _PendingCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)

    def part(self) -> ToolCallPart:
        return ToolCallPart(self.id, self.name, parse_arguments("".join(self.arguments)))


@dataclass
class ChunkParser:
    """Turns chat.completion.chunk objects (decoded JSON) into events; tool-call fragments are
    buffered by `index` because a call is only usable once its arguments are complete."""

    calls: dict[int, _PendingCall] = field(default_factory=dict)
    usage: Usage | None = None
    finish: str | None = None

    def feed(self, chunk: dict[str, Any]) -> Iterator[ProviderEvent]:
        if chunk.get("usage"):
            self.usage = usage_from_wire(chunk["usage"])
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta")
            if delta:
                yield from _texts(delta)
                if delta.get("tool_calls"):
                    self._tool_calls(delta["tool_calls"])
            if choice.get("finish_reason"):
                self.finish = choice["finish_reason"]

    def _tool_calls(self, fragments: list[dict[str, Any]]) -> None:
        for tc in fragments:
            index = tc.get("index")
            if index is None:  # some servers leave it out: a new id starts a new call
                index = len(self.calls) if tc.get("id") else max(self.calls, default=0)
            pending = self.calls.setdefault(index, _PendingCall())
            pending.id = tc.get("id") or pending.id
            function = tc.get("function") or {}
            pending.name = function.get("name") or pending.name
            if function.get("arguments"):
                pending.arguments.append(function["arguments"])

    def close(self) -> Iterator[ProviderEvent]:
        for index in sorted(self.calls):
            yield ToolCall(self.calls[index].part())
        if self.usage is not None:
            yield UsageReport(self.usage)
        yield Finish(tool_finish(self.finish, bool(self.calls)))


def events_from_completion(completion: dict[str, Any]) -> Iterator[ProviderEvent]:
    """A non-streamed chat.completion (decoded JSON) as the same events a stream would give."""
    choices = completion.get("choices") or [{}]
    message = choices[0].get("message") or {}
    yield from _texts(message)
    calls = [c for c in message.get("tool_calls") or () if c.get("function")]
    for c in calls:
        function = c["function"]
        yield ToolCall(
            ToolCallPart(
                c.get("id") or "",
                function.get("name") or "",
                parse_arguments(function.get("arguments") or ""),
            )
        )
    if completion.get("usage"):
        yield UsageReport(usage_from_wire(completion["usage"]))
    yield Finish(tool_finish(choices[0].get("finish_reason"), bool(calls)))
