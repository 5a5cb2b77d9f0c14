"""A turn's events as Anthropic Messages: the SSE event sequence while it streams (message_start,
content blocks, message_delta, message_stop), or one message.

Thinking goes back as thinking blocks only when the request enabled thinking (a client that did
not ask for them may not expect them); tool calls as tool_use blocks, for the client to run.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from typing import Any

from agentchat.core.errors import AgentchatError
from agentchat.core.events import AssistantFinished, Event, TextDelta, ThinkingDelta, ToolCall
from agentchat.core.messages import Message, TextPart, ThinkingPart, ToolCallPart, Usage
from agentchat.gateway.errors import anthropic_error, message_for, status_for
from agentchat.gateway.service import Outcome

STOP = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "content_filter": "refusal"}


def event(name: str, data: dict[str, Any]) -> bytes:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"event: {name}\ndata: {body}\n\n".encode()


def stop_reason(finished: AssistantFinished | None) -> str:
    return STOP.get(finished.finish_reason or "stop", "end_turn") if finished is not None else "end_turn"


def wire_usage(usage: Usage) -> dict[str, Any]:
    return {"input_tokens": usage.input_tokens or 0, "output_tokens": usage.output_tokens or 0}


def blocks(message: Message, thinking: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, TextPart) and part.text:
            out.append({"type": "text", "text": part.text})
        elif isinstance(part, ThinkingPart) and thinking:
            if part.redacted is not None:
                out.append({"type": "redacted_thinking", "data": part.redacted})
            else:
                out.append({"type": "thinking", "thinking": part.text, "signature": part.signature or ""})
        elif isinstance(part, ToolCallPart):
            out.append({"type": "tool_use", "id": part.id, "name": part.name, "input": part.arguments})
    return out


class AnthropicReply:
    def __init__(self, outcome: Outcome, *, logged: bool, thinking: bool) -> None:
        self.outcome = outcome
        self.logged = logged
        self.thinking = thinking
        self.id = f"msg_{secrets.token_hex(12)}"
        self._index = -1
        self._open: str | None = None  # the kind of the content block being streamed

    def _start(self, kind: str, block: dict[str, Any]) -> list[bytes]:
        frames = self._stop()
        self._index += 1
        self._open = kind
        frames.append(
            event(
                "content_block_start",
                {"type": "content_block_start", "index": self._index, "content_block": block},
            )
        )
        return frames

    def _stop(self) -> list[bytes]:
        if self._open is None:
            return []
        self._open = None
        return [event("content_block_stop", {"type": "content_block_stop", "index": self._index})]

    def _delta(self, delta: dict[str, Any]) -> bytes:
        return event(
            "content_block_delta", {"type": "content_block_delta", "index": self._index, "delta": delta}
        )

    def _frames(self, ev: Event) -> list[bytes]:
        frames: list[bytes] = []
        if isinstance(ev, TextDelta) and ev.text:
            if self._open != "text":
                frames += self._start("text", {"type": "text", "text": ""})
            frames.append(self._delta({"type": "text_delta", "text": ev.text}))
        elif isinstance(ev, ThinkingDelta) and self.thinking:
            if ev.redacted is not None:
                frames += self._start("redacted", {"type": "redacted_thinking", "data": ev.redacted})
                return frames + self._stop()
            if self._open != "thinking":
                frames += self._start("thinking", {"type": "thinking", "thinking": "", "signature": ""})
            if ev.text:
                frames.append(self._delta({"type": "thinking_delta", "thinking": ev.text}))
            if ev.signature:
                frames.append(self._delta({"type": "signature_delta", "signature": ev.signature}))
        elif isinstance(ev, ToolCall):
            call = ev.call
            frames += self._start("tool", {"type": "tool_use", "id": call.id, "name": call.name, "input": {}})
            partial = json.dumps(call.arguments, ensure_ascii=False)
            frames.append(self._delta({"type": "input_json_delta", "partial_json": partial}))
            frames += self._stop()
        return frames

    async def stream(self, events: AsyncIterator[Event]) -> AsyncIterator[bytes]:
        start = {**self._message([]), "usage": {"input_tokens": 0, "output_tokens": 0}}
        yield event("message_start", {"type": "message_start", "message": start})
        try:
            async for ev in events:
                for frame in self._frames(ev):
                    yield frame
        except AgentchatError as exc:
            status = status_for(exc)
            yield event("error", anthropic_error(status, message_for(exc)))
            return
        for frame in self._stop():
            yield frame
        finished = self.outcome.finished
        usage = wire_usage(finished.usage if finished is not None else Usage())
        delta = {"stop_reason": stop_reason(finished), "stop_sequence": None}
        extension = {"agentchat": self.outcome.extension(self.logged)}
        yield event("message_delta", {"type": "message_delta", "delta": delta, "usage": usage, **extension})
        yield event("message_stop", {"type": "message_stop"})

    def _message(self, content: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.outcome.model,
            "content": content,
            "stop_reason": None,
            "stop_sequence": None,
        }

    def message(self) -> dict[str, Any]:
        reply = self.outcome.reply
        body = self._message(blocks(reply, self.thinking))
        body["stop_reason"] = stop_reason(self.outcome.finished)
        body["usage"] = wire_usage(reply.usage)
        body["agentchat"] = self.outcome.extension(self.logged)
        return body
