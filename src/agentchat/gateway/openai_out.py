"""A turn's events as OpenAI Chat Completions: SSE chunks while it streams, or one completion.

Tool calls go back to the client as `tool_calls` (it runs them); reasoning, where the model
streams any, as `reasoning_content` (what vLLM and llama.cpp send). Under a `response_format` the
text streams only once validated (a reply asked again would otherwise follow the rejected one), as
one chunk of the JSON. The last chunk (or the
completion) carries an `agentchat` object: conversation and message ids, provider, cost, timings.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

from agentchat.core.errors import AgentchatError
from agentchat.core.events import AssistantFinished, Event, TextDelta, ThinkingDelta, ToolCall
from agentchat.core.messages import ToolCallPart, Usage
from agentchat.gateway.errors import message_for, openai_error, status_for
from agentchat.gateway.service import Outcome

FINISH = {"stop", "length", "tool_calls", "content_filter"}
_MARK = "\x00agentchat-delta\x00"  # stands for a delta's text while its chunk is encoded
_MARK_JSON = json.dumps(_MARK).encode()


def sse(data: Any) -> bytes:
    return b"data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"


def finish_reason(finished: AssistantFinished | None) -> str:
    reason = finished.finish_reason if finished is not None else None
    return reason if reason in FINISH else "stop"


def wire_usage(usage: Usage) -> dict[str, Any]:
    prompt, completion = usage.input_tokens or 0, usage.output_tokens or 0
    body: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    if usage.cached_tokens is not None:
        body["prompt_tokens_details"] = {"cached_tokens": usage.cached_tokens}
    if usage.reasoning_tokens is not None:
        body["completion_tokens_details"] = {"reasoning_tokens": usage.reasoning_tokens}
    return body


def wire_call(call: ToolCallPart) -> dict[str, Any]:
    arguments = json.dumps(call.arguments, ensure_ascii=False)
    return {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": arguments}}


class OpenAIReply:
    def __init__(
        self, outcome: Outcome, *, logged: bool, include_usage: bool = False, validated: bool = False
    ) -> None:
        self.outcome = outcome
        self.logged = logged
        self.include_usage = include_usage
        self.validated = validated  # a response_format: the text waits for its validation
        self.id = f"chatcmpl-{secrets.token_hex(12)}"
        self.created = int(time.time())
        self._frames: dict[tuple[str, str | None], tuple[bytes, bytes]] = {}

    def _delta(self, key: str, text: str) -> bytes:
        """A text or reasoning chunk: the chunk around the text is encoded once per reply, and
        each token encodes only its string (a whole chunk per token was a tenth of the
        gateway's CPU per streamed token)."""
        frame = self._frames.get((key, self.outcome.model))
        if frame is None:
            head, _, tail = self._chunk({key: _MARK}).partition(_MARK_JSON)
            frame = self._frames[(key, self.outcome.model)] = (head, tail)
        return frame[0] + json.dumps(text, ensure_ascii=False).encode() + frame[1]

    def _chunk(self, delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> bytes:
        choices = (
            [] if delta is None else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
        )
        body = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.outcome.model,
            "choices": choices,
            **extra,
        }
        return sse(body)

    async def stream(self, events: AsyncIterator[Event]) -> AsyncIterator[bytes]:
        yield self._chunk({"role": "assistant", "content": ""})
        index = 0
        try:
            async for event in events:
                if isinstance(event, TextDelta):
                    if event.text and not self.validated:
                        yield self._delta("content", event.text)
                elif isinstance(event, ThinkingDelta):
                    if event.text:
                        yield self._delta("reasoning_content", event.text)
                elif isinstance(event, ToolCall):
                    yield self._chunk({"tool_calls": [{"index": index, **wire_call(event.call)}]})
                    index += 1
        except AgentchatError as exc:  # after the first token: the stream says so and ends
            yield sse(openai_error(status_for(exc), message_for(exc)))
            return
        if self.validated and self.outcome.content:
            yield self._delta("content", self.outcome.content)
        finished = self.outcome.finished
        extension = self.outcome.extension(self.logged)
        if self.include_usage:
            yield self._chunk({}, finish_reason(finished))
            usage = finished.usage if finished is not None else Usage()
            yield self._chunk(None, usage=wire_usage(usage), agentchat=extension)
        else:
            yield self._chunk({}, finish_reason(finished), agentchat=extension)
        yield b"data: [DONE]\n\n"

    def completion(self) -> dict[str, Any]:
        reply = self.outcome.reply
        content = self.outcome.content or None
        message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
        if reply.thinking:
            message["reasoning_content"] = reply.thinking
        if reply.tool_calls:
            message["tool_calls"] = [wire_call(c) for c in reply.tool_calls]
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.outcome.model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": finish_reason(self.outcome.finished),
                }
            ],
            "usage": wire_usage(reply.usage),
            "agentchat": self.outcome.extension(self.logged),
        }
