"""A loopback Anthropic Messages server (PROTOCOLS.md §3) for the real `anthropic` SDK.

Usage::

    with AnthropicFake() as fake:                   # base_url=fake.root (no /v1: the SDK adds it)
        fake.queue(text(["Hel", "lo"]), tool_use([("toolu_1", "get_weather", {"city": "Paris"})]))
        fake.models = ["claude-sonnet-4-5-20250929"]  # what GET /v1/models lists (paginated)
        fake.api_key = "sk-ant-..."                 # optional: any other key gets a 401
        fake.check_thinking = True                  # optional: enforce the thinking pass-back rule

Builders return `Reply` objects. `text` and `tool_use` answer a streaming request with SSE (every
frame has an `event:` line; the SDK drops frames without one) and a `stream: false` request with
the equivalent JSON message, so one script serves both. Pass `delay_s=` to pace frames and
`drop_after=` to cut the connection after that many frames.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.base import FakeServer, Recorded, Reply, sse, wire_tokens
from tests.fakes.prompt_cache import AnthropicCache, anthropic_problem

MODEL = "claude-sonnet-4-6"
SSE_TYPE = "text/event-stream; charset=utf-8"
_INPUT_KEYS = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
# What a LiteLLM proxy (1.106.12) puts in message_start: zeros standing for "not known yet"; the
# real counts come in message_delta. Pass as `start_usage=` to stream like it.
LITELLM_START_USAGE = {
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 0,
    "input_tokens": 0,
    "output_tokens": 0,
}
_ids = itertools.count(1)


@dataclass
class _Block:
    """One content block: how it starts in a stream, its deltas, and its whole (JSON) form."""

    start: dict[str, Any]
    deltas: list[dict[str, Any]]
    final: dict[str, Any]


@dataclass
class TurnReply(Reply):
    """An SSE reply that also knows its non-streaming form (`message`)."""

    message: dict[str, Any] | None = None

    def as_message(self) -> Reply:
        return Reply.json(self.message, status=self.status, headers=self.headers)


def signature_for(thinking: str) -> str:
    """The signature the builders attach when none is given (the real API always signs)."""
    return base64.b64encode(hashlib.sha256(thinking.encode()).digest()).decode()


def _text_block(chunks: list[str]) -> _Block:
    deltas = [{"type": "text_delta", "text": c} for c in chunks]
    return _Block({"type": "text", "text": ""}, deltas, {"type": "text", "text": "".join(chunks)})


def _thinking_block(thinking: str | list[str], signature: str | None) -> _Block:
    chunks = [thinking] if isinstance(thinking, str) else thinking
    whole = "".join(chunks)
    sig = signature or signature_for(whole)
    deltas = [{"type": "thinking_delta", "thinking": c} for c in chunks]
    deltas.append({"type": "signature_delta", "signature": sig})
    start = {"type": "thinking", "thinking": "", "signature": ""}
    return _Block(start, deltas, {"type": "thinking", "thinking": whole, "signature": sig})


def _redacted_block(data: str) -> _Block:
    """Redacted thinking arrives whole in content_block_start, with no deltas."""
    block = {"type": "redacted_thinking", "data": data}
    return _Block(block, [], block)


def _tool_block(call_id: str, name: str, arguments: dict[str, Any] | str) -> _Block:
    """Arguments stream as JSON fragments; the first one is empty, as in the live API. A string is
    streamed as is: a model can emit arguments that are not valid JSON (fine-grained streaming)."""
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    step = max(1, len(raw) // 3)
    fragments = ["", *(raw[i : i + step] for i in range(0, len(raw), step))]
    deltas = [{"type": "input_json_delta", "partial_json": f} for f in fragments]
    start = {"type": "tool_use", "id": call_id, "name": name, "input": {}}
    return _Block(start, deltas, {**start, "input": arguments if isinstance(arguments, dict) else {}})


def _event(data: dict[str, Any]) -> bytes:
    return sse(data, data["type"])


def _message(blocks: list[_Block], usage: dict[str, Any], stop_reason: str | None) -> dict[str, Any]:
    return {
        "id": f"msg_fake{next(_ids):06d}",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [b.final for b in blocks],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage,
    }


def _turn(
    blocks: list[_Block],
    usage: dict[str, Any] | None,
    stop_reason: str,
    delay_s: float,
    drop_after: int | None,
    start_usage: dict[str, Any] | None = None,
) -> TurnReply:
    """Frames as the live API sends them: prompt usage in message_start, the cumulative output
    count (and thinking-token detail) in message_delta, a ping after the first block starts.

    `start_usage` replaces what message_start carries, and message_delta then carries every
    count: LiteLLM's /v1/messages sends all-zero placeholders first and the real counts at the end.
    """
    if usage is None:
        usage = {"input_tokens": 12, "output_tokens": max(1, sum(len(b.deltas) for b in blocks))}
    message = _message(blocks, usage, stop_reason)
    if start_usage is None:
        start_usage = {k: usage[k] for k in _INPUT_KEYS if k in usage} | {"output_tokens": 1}
        delta_usage = {k: v for k, v in usage.items() if k not in _INPUT_KEYS}
    else:
        delta_usage = dict(usage)
    skeleton = {**message, "content": [], "stop_reason": None, "usage": start_usage}
    frames = [_event({"type": "message_start", "message": skeleton})]
    for index, block in enumerate(blocks):
        frames.append(_event({"type": "content_block_start", "index": index, "content_block": block.start}))
        if index == 0:
            frames.append(sse({"type": "ping"}, "ping"))
        frames.extend(
            _event({"type": "content_block_delta", "index": index, "delta": d}) for d in block.deltas
        )
        frames.append(_event({"type": "content_block_stop", "index": index}))
    frames.append(
        _event(
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": delta_usage,
            }
        )
    )
    frames.append(_event({"type": "message_stop"}))
    return TurnReply(
        chunks=frames, content_type=SSE_TYPE, delay_s=delay_s, drop_after=drop_after, message=message
    )


def _thinking_blocks(
    redacted: str | None, thinking: str | list[str] | None, signature: str | None
) -> list[_Block]:
    blocks = [_redacted_block(redacted)] if redacted else []
    if thinking is not None:
        blocks.append(_thinking_block(thinking, signature))
    return blocks


# --- builders ------------------------------------------------------------------------------------


def text(
    chunks: list[str],
    usage: dict[str, Any] | None = None,
    stop_reason: str = "end_turn",
    thinking: str | list[str] | None = None,
    signature: str | None = None,
    *,
    redacted: str | None = None,
    delay_s: float = 0.0,
    drop_after: int | None = None,
    start_usage: dict[str, Any] | None = None,
) -> TurnReply:
    """A text answer, optionally after a redacted and/or a signed thinking block.

    `usage` is the wire usage object (input_tokens, output_tokens, cache_*_input_tokens,
    output_tokens_details); the default counts one output token per delta. `start_usage`: see
    `LITELLM_START_USAGE`.
    """
    blocks = [*_thinking_blocks(redacted, thinking, signature), _text_block(chunks)]
    return _turn(blocks, usage, stop_reason, delay_s, drop_after, start_usage)


def tool_use(
    calls: list[tuple[str, str, dict[str, Any] | str]],
    text: str | None = None,
    thinking: str | list[str] | None = None,
    signature: str | None = None,
    *,
    redacted: str | None = None,
    usage: dict[str, Any] | None = None,
    delay_s: float = 0.0,
    drop_after: int | None = None,
) -> TurnReply:
    """One tool_use block per (id, name, input), after optional thinking and text; stop_reason tool_use."""
    blocks = _thinking_blocks(redacted, thinking, signature)
    if text:
        blocks.append(_text_block([text]))
    blocks.extend(_tool_block(*call) for call in calls)
    return _turn(blocks, usage, "tool_use", delay_s, drop_after)


def message(text: str, usage: dict[str, Any] | None = None, stop_reason: str = "end_turn") -> Reply:
    """A non-streaming JSON message, whatever the request asked for."""
    usage = usage or {"input_tokens": 12, "output_tokens": 5}
    return Reply.json(_message([_text_block([text])], usage, stop_reason))


def error(status: int, type: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    """An HTTP error in the API's shape; 529 + overloaded_error is Anthropic's "overloaded"."""
    request_id = f"req_fake{next(_ids):06d}"
    body = {"type": "error", "error": {"type": type, "message": message}, "request_id": request_id}
    return Reply.json(body, status=status, headers={"request-id": request_id, **(headers or {})})


def midstream_error(chunks_before: list[str], type: str = "overloaded_error") -> Reply:
    """A 200 stream that sends `chunks_before` as text, then an `event: error` frame."""
    reply = text(chunks_before)
    frames = reply.chunks[:1]
    if chunks_before:
        frames = reply.chunks[: 3 + len(chunks_before)]  # start, block start, ping, the deltas
    detail = "Overloaded" if type == "overloaded_error" else "Internal server error"
    frames.append(_event({"type": "error", "error": {"type": type, "message": detail}}))
    return Reply(chunks=frames, content_type=SSE_TYPE)


# --- the server ----------------------------------------------------------------------------------

_VALID_ID = re.compile(r"^[a-zA-Z0-9_-]+$")
_THINKING_RULE = (
    "messages.{i}.content.0.type: Expected `thinking` or `redacted_thinking`, but found `{found}`. "
    "When `thinking` is enabled, a final `assistant` message must start with a thinking block "
    "(preceeding the lastmost set of `tool_use` and `tool_result` blocks). To avoid this "
    "requirement, disable `thinking`."
)


def _signed(block: dict[str, Any]) -> bool:
    kind = block.get("type")
    return bool(
        (kind == "thinking" and block.get("signature")) or (kind == "redacted_thinking" and block.get("data"))
    )


class AnthropicFake(FakeServer):
    """POST /v1/messages and GET /v1/models. Accepts `x-api-key` (SDK ≤1.x) or `Authorization:
    Bearer` (SDK 2.x). Requests breaking rules the real API enforces get its 400.

    `check_thinking` enforces the pass-back rule on every assistant turn holding tool_use (the
    real API checks only the open tool cycle, so this is stricter). `disconnected` is set when a
    client hangs up on a stream.
    """

    def __init__(self) -> None:
        super().__init__()
        self.models: list[str] = [MODEL, "claude-haiku-4-5-20251001", "claude-opus-4-8"]
        self.api_key: str | None = None
        self.check_thinking = False
        self.counted = 0  # POST /v1/messages/count_tokens calls answered
        self.prompt_cache: AnthropicCache | None = None  # set: usage counts cache reads and writes
        self.disconnected = threading.Event()
        # Models that refuse `output_config.format` (no structured outputs; the wording is ours).
        self.without_structured_outputs: set[str] = set()

    def is_chat(self, path: str) -> bool:
        return urlsplit(path).path == "/v1/messages"

    def route(self, req: Recorded) -> Reply:
        if self.api_key is not None and _key_of(req) != self.api_key:
            return error(401, "authentication_error", "invalid x-api-key")
        path = urlsplit(req.path).path
        if req.method == "POST" and path == "/v1/messages":
            body = req.body if isinstance(req.body, dict) else {}
            problem = self._invalid(body)
            if problem:
                return error(400, "invalid_request_error", problem)
            over = self.over_window(body)
            if over:  # the live API's words
                return error(
                    400, "invalid_request_error", f"prompt is too long: {over[0]} tokens > {over[1]} maximum"
                )
            reply = self.next_reply()
            if self.prompt_cache is not None:
                reply = self.prompt_cache.answer(body, reply)
            if isinstance(reply, TurnReply) and not body.get("stream"):
                return reply.as_message()
            return reply
        if req.method == "POST" and path == "/v1/messages/count_tokens":
            self.counted += 1
            return Reply.json({"input_tokens": wire_tokens(req.body if isinstance(req.body, dict) else {})})
        if req.method == "GET" and path == "/v1/models":
            return self._models_page(parse_qs(urlsplit(req.path).query))
        return error(404, "not_found_error", f"no route for {req.method} {path}")

    def unscripted(self) -> Reply:
        return error(500, "api_error", "the fake server has no scripted reply left")

    def _models_page(self, query: dict[str, list[str]]) -> Reply:
        """Real cursor pagination (`limit`, `after_id`, `has_more`), so paging is exercised."""
        limit = int(query.get("limit", ["20"])[0])
        after = query.get("after_id", [None])[0]
        start = self.models.index(after) + 1 if after in self.models else 0
        page = self.models[start : start + limit]
        data = [
            {"type": "model", "id": m, "display_name": m, "created_at": "2026-02-17T00:00:00Z"} for m in page
        ]
        return Reply.json(
            {
                "data": data,
                "has_more": start + limit < len(self.models),
                "first_id": page[0] if page else None,
                "last_id": page[-1] if page else None,
            }
        )

    def _invalid(self, body: dict[str, Any]) -> str | None:
        """The subset of the real API's request validation that an adapter can get wrong."""
        messages = body.get("messages") or []
        thinking = body.get("thinking") or {}
        if cache_problem := anthropic_problem(body):
            return cache_problem
        schema = ((body.get("output_config") or {}).get("format") or {}).get("schema")
        if schema is not None and body.get("model") in self.without_structured_outputs:
            return f"output_config.format: structured outputs are not supported by {body['model']}"
        if thinking.get("type") == "enabled" and (body.get("tool_choice") or {}).get("type") in (
            "tool",
            "any",
        ):
            return "Thinking may not be enabled when tool_choice forces tool use."
        if schema is not None and '"type": "object"' in json.dumps(schema):
            if '"additionalProperties": false' not in json.dumps(schema):
                return "output_config.format.schema: For 'object' type, 'additionalProperties' must be explicitly set to false"
        if thinking.get("type") == "enabled" and thinking.get("budget_tokens", 0) >= body.get(
            "max_tokens", 0
        ):
            return "`max_tokens` must be greater than `thinking.budget_tokens`"
        for i, msg in enumerate(messages):
            if i and msg.get("role") == messages[i - 1].get("role"):
                return f'messages: roles must alternate between "user" and "assistant" (messages.{i})'
            content = msg.get("content")
            blocks = content if isinstance(content, list) else [{"type": "text", "text": content}]
            for j, block in enumerate(blocks):
                if block.get("type") == "text" and not str(block.get("text", "")).strip():
                    return f"messages.{i}.content.{j}: text content blocks must contain non-whitespace text"
                ident = block.get("id") if block.get("type") == "tool_use" else block.get("tool_use_id")
                if ident is not None and not _VALID_ID.match(ident):
                    return f"messages.{i}.content.{j}: String should match pattern '^[a-zA-Z0-9_-]+$'"
                if block.get("type") in ("tool_use", "tool_result") and not body.get("tools"):
                    return "Requests which include `tool_use` or `tool_result` blocks must define tools."
            if i == len(messages) - 1 and msg.get("role") == "assistant":
                last = blocks[-1] if blocks else {}
                if (
                    last.get("type") == "text"
                    and str(last.get("text", "")) != str(last.get("text", "")).rstrip()
                ):
                    return "messages: final assistant content cannot end with trailing whitespace"
            if self.check_thinking and thinking.get("type") == "enabled" and msg.get("role") == "assistant":
                kinds = [b.get("type") for b in blocks]
                if "tool_use" in kinds and not any(_signed(b) for b in blocks[: kinds.index("tool_use")]):
                    return _THINKING_RULE.format(i=i, found=kinds[0])
        return None

    def _send(self, handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        """Notes a client that hung up (what cancellation and timeouts cause)."""
        try:
            FakeServer._send(handler, reply)
        except (BrokenPipeError, ConnectionResetError):  # gave up before a plain reply was written
            handler.close_connection = True
            self.disconnected.set()
        if len(reply.chunks) > 1 and reply.drop_after is None and handler.close_connection:
            self.disconnected.set()


def _key_of(req: Recorded) -> str | None:
    bearer = req.header("authorization") or ""
    return req.header("x-api-key") or (bearer[7:] if bearer.lower().startswith("bearer ") else None)
