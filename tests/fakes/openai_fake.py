"""A loopback OpenAI Chat Completions server (PROTOCOLS.md §2) for the real `openai` SDK.

Usage::

    with OpenAIFake() as fake:                       # point the SDK at fake.base_url (ends in /v1)
        fake.queue(text(["Hel", "lo"]), tool_calls([("call_1", "get_weather", {"city": "Paris"})]))
        fake.models = ["gpt-4o-mini"]                # what GET /v1/models lists

Builders return `Reply` objects; `text` and `tool_calls` replies answer a streaming request with SSE
and a `stream: false` request with the equivalent JSON completion, so one script serves both.
Pass `delay_s=` to pace chunks and `drop_after=` to cut the connection after that many SSE frames.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, replace
from typing import Any

from tests.fakes.base import FakeServer, Recorded, Reply, sse
from tests.fakes.prompt_cache import OpenAICache

MODEL = "gpt-4o-2024-08-06"
CREATED = 1727346168
SSE_TYPE = "text/event-stream; charset=utf-8"
_ids = itertools.count(1)


def usage(
    prompt: int = 14, completion: int = 30, cached: int | None = None, reasoning: int | None = 0
) -> dict[str, Any]:
    """A wire `usage` object; details appear only when given, as servers differ in what they send."""
    body: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    if cached is not None:
        body["prompt_tokens_details"] = {"cached_tokens": cached, "audio_tokens": 0}
    if reasoning is not None:
        body["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    return body


DEFAULT_USAGE = usage()


@dataclass
class ChatReply(Reply):
    """An SSE reply that also knows its non-streaming form (`completion`)."""

    completion: dict[str, Any] | None = None

    def as_completion(self) -> Reply:
        return replace(Reply.json(self.completion, self.status, self.headers), hang_s=self.hang_s)


class _Stream:
    """Builds chunks that share one id/created/model, as the live API's do (§2.4)."""

    def __init__(self, model: str) -> None:
        self.id = f"chatcmpl-fake{next(_ids):020d}"
        self.model = model
        self.frames: list[bytes] = []

    def chunk(self, delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> None:
        choices = (
            [] if delta is None else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
        )
        body = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": self.model,
            "system_fingerprint": "fp_5050236cbd",
            "choices": choices,
            **extra,
        }
        self.frames.append(sse(body))

    def end(self, finish: str, usage_body: dict[str, Any] | None) -> None:
        self.chunk({}, finish)
        if usage_body is not None:
            self.chunk(None, usage=usage_body)
        self.frames.append(sse("[DONE]"))

    def completion(
        self, message: dict[str, Any], finish: str, usage_body: dict[str, Any] | None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion",
            "created": CREATED,
            "model": self.model,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
            "service_tier": "default",
        }
        if usage_body is not None:
            body["usage"] = usage_body
        return body

    def reply(self, completion: dict[str, Any], delay_s: float, drop_after: int | None) -> ChatReply:
        return ChatReply(
            chunks=self.frames,
            content_type=SSE_TYPE,
            delay_s=delay_s,
            drop_after=drop_after,
            completion=completion,
        )


def text(
    chunks: list[str],
    usage: dict[str, Any] | None = DEFAULT_USAGE,
    finish: str = "stop",
    reasoning: list[str] | None = None,
    *,
    reasoning_field: str = "reasoning_content",
    model: str = MODEL,
    delay_s: float = 0.0,
    drop_after: int | None = None,
) -> ChatReply:
    """A text reply: role chunk, optional reasoning deltas (`reasoning_field` as vLLM/llama.cpp send
    it), one chunk per text fragment, finish chunk, usage chunk (None: none, like llama.cpp), [DONE]."""
    s = _Stream(model)
    s.chunk({"role": "assistant", "content": "", "refusal": None})
    for piece in reasoning or []:
        s.chunk({reasoning_field: piece})
    for piece in chunks:
        s.chunk({"content": piece})
    s.end(finish, usage)
    message: dict[str, Any] = {
        "role": "assistant",
        "content": "".join(chunks),
        "refusal": None,
        "annotations": [],
    }
    if reasoning:
        message[reasoning_field] = "".join(reasoning)
    return s.reply(s.completion(message, finish, usage), delay_s, drop_after)


def tool_calls(
    calls: list[tuple[str, str, dict[str, Any] | str]],
    text: str | None = None,
    usage: dict[str, Any] | None = DEFAULT_USAGE,
    *,
    finish: str = "tool_calls",
    model: str = MODEL,
    fragment: int = 4,
    delay_s: float = 0.0,
) -> ChatReply:
    """Parallel tool calls `(id, name, arguments)`; arguments (a dict, or a str sent verbatim) stream as
    JSON fragments of `fragment` characters after an intro delta with id, type and name (§2.5)."""
    s = _Stream(model)
    s.chunk({"role": "assistant", "content": None if text is None else "", "refusal": None})
    if text:
        s.chunk({"content": text})
    wire_calls = []
    for index, (call_id, name, args) in enumerate(calls):
        raw = args if isinstance(args, str) else json.dumps(args, separators=(",", ":"))
        s.chunk(
            {
                "tool_calls": [
                    {
                        "index": index,
                        "id": call_id,
                        "type": "function",
                        "function": {"name": name, "arguments": ""},
                    }
                ]
            }
        )
        for start in range(0, len(raw), fragment):
            s.chunk(
                {"tool_calls": [{"index": index, "function": {"arguments": raw[start : start + fragment]}}]}
            )
        wire_calls.append({"id": call_id, "type": "function", "function": {"name": name, "arguments": raw}})
    s.end(finish, usage)
    message = {
        "role": "assistant",
        "content": text,
        "refusal": None,
        "annotations": [],
        "tool_calls": wire_calls,
    }
    return s.reply(s.completion(message, finish, usage), delay_s, None)


def completion(
    text: str, usage: dict[str, Any] | None = DEFAULT_USAGE, finish: str = "stop", *, model: str = MODEL
) -> Reply:
    """A non-streaming `chat.completion` JSON body (§2.3)."""
    message = {"role": "assistant", "content": text, "refusal": None, "annotations": []}
    return Reply.json(_Stream(model).completion(message, finish, usage))


_ERROR_TYPES = {429: "requests", 500: "server_error", 502: "server_error", 503: "server_error"}


def error(
    status: int,
    message: str,
    type: str | None = None,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """An HTTP error with the `{"error": {message, type, param, code}}` body (§2.7)."""
    body = {
        "message": message,
        "type": type or _ERROR_TYPES.get(status, "invalid_request_error"),
        "param": None,
        "code": code,
    }
    return Reply.json({"error": body}, status=status, headers=headers)


def refused_stream() -> Reply:
    """How llama.cpp's server refuses a request it cannot serve while streaming (a prompt beyond
    its window): 200, an SSE body with no events, then the socket closed although the headers
    said keep-alive (measured on llama-cpp-python 0.3.36)."""
    return Reply(content_type=SSE_TYPE, headers={"connection": "keep-alive"}, chunked=True, close_after=True)


def midstream_error(
    chunks_before: list[str], message: str, type: str = "server_error", *, model: str = MODEL
) -> Reply:
    """A 200 stream that delivers some text, then a `data: {"error": ...}` event and ends (§2.7)."""
    s = _Stream(model)
    s.chunk({"role": "assistant", "content": "", "refusal": None})
    for piece in chunks_before:
        s.chunk({"content": piece})
    s.frames.append(sse({"error": {"message": message, "type": type, "param": None, "code": None}}))
    return Reply(chunks=s.frames, content_type=SSE_TYPE)


def strict_schema_problem(body: dict[str, Any]) -> str | None:
    """What the real API says of a strict `response_format` schema that leaves an object open or a
    property optional (strict mode's rules), so an adapter that asks for strict wrongly is caught."""
    spec = (body.get("response_format") or {}).get("json_schema") or {}
    if not spec.get("strict"):
        return None

    def walk(node: Any, where: str) -> str | None:
        if isinstance(node, dict):
            if node.get("type") == "object":
                if node.get("additionalProperties") is not False:
                    return f"Invalid schema for response_format '{spec.get('name')}': In context={where}, 'additionalProperties' is required to be supplied and to be false."
                if set(node.get("required") or []) != set(node.get("properties") or {}):
                    return f"Invalid schema for response_format '{spec.get('name')}': In context={where}, 'required' is required to be supplied and to be an array including every key in properties."
            for key, value in node.items():
                found = walk(value, f"{where}.{key}")
                if found:
                    return found
        return None

    return walk(spec.get("schema"), "()")


class OpenAIFake(FakeServer):
    """Routes POST /v1/chat/completions (queued replies) and GET /v1/models (`self.models`, or
    `self.models_reply` when set)."""

    def __init__(self, port: int = 0) -> None:
        super().__init__(port)
        self.models: list[str] = ["gpt-4o-mini", "gpt-4.1"]
        self.models_reply: Reply | None = None  # when set, GET /v1/models answers with it (an error)
        self.prompt_cache: OpenAICache | None = None  # set: usage counts cached prompt tokens

    @property
    def base_url(self) -> str:
        return f"{self.root}/v1"

    def is_chat(self, path: str) -> bool:
        return path.split("?")[0] == "/v1/chat/completions"

    def route(self, req: Recorded) -> Reply:
        path = req.path.split("?")[0]
        if req.method == "GET" and path == "/v1/models":
            if self.models_reply is not None:
                return self.models_reply
            data = [
                {"id": m, "object": "model", "created": CREATED, "owned_by": "system"} for m in self.models
            ]
            return Reply.json({"object": "list", "data": data})
        if req.method == "POST" and self.is_chat(path):
            problem = strict_schema_problem(req.body) if isinstance(req.body, dict) else None
            if problem:
                return error(400, problem)
            over = self.over_window(req.body)
            if over:  # the live API's words and code (§2.7)
                return error(
                    400,
                    f"This model's maximum context length is {over[1]} tokens. However, your messages "
                    f"resulted in {over[0]} tokens. Please reduce the length of the messages.",
                    code="context_length_exceeded",
                )
            reply = self.next_reply()
            if self.prompt_cache is not None and isinstance(req.body, dict):
                reply = self.prompt_cache.answer(req.body, reply)
            wants_stream = isinstance(req.body, dict) and bool(req.body.get("stream"))
            if isinstance(reply, ChatReply) and not wants_stream:
                return reply.as_completion()
            return reply
        return error(404, f"Invalid URL ({req.method} {path})")

    def unscripted(self) -> Reply:
        return error(500, "the fake server has no scripted reply left")
