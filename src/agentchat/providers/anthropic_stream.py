"""Anthropic replies into neutral events: the streamed events (`StreamDecoder`) and a whole
message (`message_events`) give the same events, with usage counted as OpenAI counts it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from agentchat.core.events import Finish, ProviderEvent, TextDelta, ThinkingDelta, ToolCall, UsageReport
from agentchat.core.messages import ToolCallPart, Usage
from agentchat.providers.base import parse_arguments

_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def finish_reason(stop_reason: str | None) -> str | None:
    return _FINISH.get(stop_reason, stop_reason) if stop_reason else None


_USAGE_FIELDS = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens")


def _read_usage(usage: Any, into: dict[str, int]) -> None:
    """Copy the counts a usage object reports; absent ones keep their earlier value."""
    for name in _USAGE_FIELDS:
        value = getattr(usage, name, None)
        if value is not None:
            into[name] = value
    thinking = getattr(getattr(usage, "output_tokens_details", None), "thinking_tokens", None)
    if thinking is not None:
        into["thinking_tokens"] = thinking


def _counts_prompt(usage: Any) -> bool:
    """Whether a message_start's usage holds real prompt counts. A LiteLLM proxy sends zeros there
    as placeholders (the real counts come in message_delta); no prompt is 0 tokens, so all-zero
    input counts mean "not known yet" and must not be stored as a count."""
    return any(getattr(usage, name, None) for name in _USAGE_FIELDS[:3])


def _usage(raw: dict[str, int], *, with_output: bool = True) -> Usage:
    """Counted like OpenAI's: `input_tokens` is every prompt token (uncached + cache writes + cache
    reads), `cached_tokens` the reads and `cache_write_tokens` the writes among them, so cost math
    is the same for every provider."""
    uncached = raw.get("input_tokens")
    total_in = None
    if uncached is not None:
        total_in = (
            uncached + raw.get("cache_creation_input_tokens", 0) + raw.get("cache_read_input_tokens", 0)
        )
    return Usage(
        input_tokens=total_in,
        output_tokens=raw.get("output_tokens") if with_output else None,
        cached_tokens=raw.get("cache_read_input_tokens"),
        reasoning_tokens=raw.get("thinking_tokens") if with_output else None,
        cache_write_tokens=raw.get("cache_creation_input_tokens"),
    )


def _tool_call(block_id: str, name: str, input_json: str, start_input: Any) -> ToolCall:
    """Arguments that are not a JSON object are kept raw: the model is told, the turn goes on."""
    args = parse_arguments(input_json) if input_json.strip() else dict(start_input or {})
    return ToolCall(ToolCallPart(id=block_id, name=name, arguments=args))


def message_events(message: Any) -> Iterator[ProviderEvent]:
    """A non-streaming `Message` -> the same events a stream would give."""
    for block in message.content:
        kind = getattr(block, "type", None)
        if kind == "text" and block.text:
            yield TextDelta(block.text)
        elif kind == "thinking":
            yield ThinkingDelta(text=block.thinking, signature=block.signature or None)
        elif kind == "redacted_thinking":
            yield ThinkingDelta(redacted=block.data)
        elif kind == "tool_use":
            yield ToolCall(ToolCallPart(id=block.id, name=block.name, arguments=dict(block.input or {})))
    raw: dict[str, int] = {}
    _read_usage(message.usage, raw)
    yield UsageReport(_usage(raw))
    yield Finish(finish_reason(message.stop_reason))


@dataclass
class _Block:
    kind: str
    id: str = ""
    name: str = ""
    input: Any = None
    json: list[str] = field(default_factory=list)
    signature: str | None = None


@dataclass
class StreamDecoder:
    """Raw stream events -> neutral events.

    Prompt usage from `message_start` is held back until the first content event, so a failure
    before any content leaves nothing yielded and stays retryable; it is then reported again,
    complete, just before Finish.
    """

    blocks: dict[int, _Block] = field(default_factory=dict)
    raw_usage: dict[str, int] = field(default_factory=dict)
    stop_reason: str | None = None
    started: bool = False
    finished: bool = False

    def feed(self, event: Any) -> list[ProviderEvent]:
        out = self._content(event)
        if out and not self.started:
            self.started = True
            out.insert(0, UsageReport(_usage(self.raw_usage, with_output=False)))
        return out

    def _content(self, event: Any) -> list[ProviderEvent]:
        kind = getattr(event, "type", None)
        if kind == "message_start":
            if _counts_prompt(event.message.usage):
                _read_usage(event.message.usage, self.raw_usage)
        elif kind == "content_block_start":
            return self._start(event.index, event.content_block)
        elif kind == "content_block_delta":
            return self._delta(self.blocks.get(event.index), event.delta)
        elif kind == "content_block_stop":
            return self._stop(self.blocks.pop(event.index, None))
        elif kind == "message_delta":
            _read_usage(event.usage, self.raw_usage)
            self.stop_reason = event.delta.stop_reason or self.stop_reason
        elif kind == "message_stop":
            self.finished = True
            return [UsageReport(_usage(self.raw_usage)), Finish(finish_reason(self.stop_reason))]
        return []

    def _start(self, index: int, block: Any) -> list[ProviderEvent]:
        kind = getattr(block, "type", "")
        self.blocks[index] = _Block(
            kind,
            id=getattr(block, "id", ""),
            name=getattr(block, "name", ""),
            input=getattr(block, "input", None),
        )
        if kind == "text" and block.text:
            return [TextDelta(block.text)]
        if kind == "thinking" and block.thinking:
            return [ThinkingDelta(block.thinking)]
        if kind == "redacted_thinking":
            return [ThinkingDelta(redacted=block.data)]
        return []

    @staticmethod
    def _delta(block: _Block | None, delta: Any) -> list[ProviderEvent]:
        kind = getattr(delta, "type", None)
        if kind == "text_delta" and delta.text:
            return [TextDelta(delta.text)]
        if kind == "thinking_delta" and delta.thinking:
            return [ThinkingDelta(delta.thinking)]
        if block is not None and kind == "signature_delta":
            block.signature = delta.signature  # overwrites: the last one is the block's signature
        elif block is not None and kind == "input_json_delta":
            block.json.append(delta.partial_json)
        return []

    @staticmethod
    def _stop(block: _Block | None) -> list[ProviderEvent]:
        if block is None:
            return []
        if block.kind == "thinking" and block.signature:
            return [ThinkingDelta(signature=block.signature)]
        if block.kind == "tool_use":
            return [_tool_call(block.id, block.name, "".join(block.json), block.input)]
        return []
