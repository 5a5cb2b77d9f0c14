"""OpenAI Chat Completions adapter; it also serves every OpenAI-compatible endpoint (LM Studio, vLLM,
llama.cpp's server, OpenRouter) configured as `[providers.NAME] type = "openai"`.

What the request format cannot carry is dropped on the way out: ThinkingParts (text, signatures and
redacted data: Chat Completions has no field for them) and ToolResultPart.name (a `tool` message
names only its call id); a failed result says so with an "Error: " prefix instead of a flag.
Reasoning that compatible servers stream (`reasoning_content` / `reasoning`) arrives as ThinkingDelta.

Attachments: text fragments join the user's text in one string (so a text-only compatible server
never sees a content array); images are `image_url` parts with a base64 data URL, PDFs `file` parts
with a base64 data URL and the file's name. Only OpenAI's own endpoint has capabilities from the
model table; a compatible server's models are text-only unless `[models."MODEL"]` says otherwise.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from agentchat.core.attachments import user_segments
from agentchat.core.caching import conversation_key
from agentchat.core.capabilities import Capabilities, table_capabilities
from agentchat.core.errors import (
    BadRequestError,
    ProviderError,
    ProviderNetworkError,
    StreamInterrupted,
    error_for_status,
    parse_retry_after,
)
from agentchat.core.events import ProviderEvent
from agentchat.core.images import ImageLimits, fit
from agentchat.core.messages import AttachmentPart, Message, ToolCallPart
from agentchat.core.request import ChatRequest, ProviderSettings, key_needed
from agentchat.providers.base import (
    CONNECT_TIMEOUT_S,
    auth_message,
    error_line,
    flagged_result_text,
    function_tools,
    is_validation_failure,
    network_error,
    rate_limit_hook,
    require_key,
    resolve_key,
    sampling_hint,
    server_detail,
)
from agentchat.providers.openai_stream import ChunkParser, events_from_completion

if TYPE_CHECKING:
    from openai import AsyncOpenAI

_PATH = "/chat/completions"
NO_KEY = "not-needed"  # the SDK insists on a key; keyless local servers ignore this one
# Mid-stream error bodies carry no HTTP status; guess one from their type/code so the engine can
# decide whether to retry (vLLM puts the status itself in `code`).
_STREAM_ERROR_STATUS = {"rate_limit": 429, "server_error": 500, "overloaded": 503, "invalid_request": 400}
# OpenAI's vision guide: png, jpeg, webp, non-animated gif; up to 50 MB per request; "high" detail
# scales an image to fit 2048 x 2048 first, so larger ones are sent at that size.
IMAGE_LIMITS = ImageLimits(max_edge=2048, max_bytes=20 * 1024 * 1024)


# --- request conversion ---------------------------------------------------------------------------


def to_wire_messages(system: str | None, messages: list[Message]) -> list[dict[str, Any]]:
    """Neutral history -> Chat Completions messages.

    System messages are merged into one leading system message; thinking is dropped (no field
    for it); each tool result becomes its own `tool` message; empty assistant turns are skipped
    because the API rejects an assistant message with neither content nor tool calls.
    """
    prompts = [system] if system else []
    prompts += [m.text for m in messages if m.role == "system" and m.text]
    wire: list[dict[str, Any]] = [{"role": "system", "content": "\n\n".join(prompts)}] if prompts else []
    for msg in messages:
        if msg.role == "system":
            continue
        wire.extend(
            {"role": "tool", "tool_call_id": r.call_id, "content": flagged_result_text(r.content, r.is_error)}
            for r in msg.tool_results
        )
        if msg.role == "assistant":
            # Never `content: null`: OpenAI allows it beside tool calls, but llama.cpp's server
            # (and other strict compatible servers) reject it with HTTP 500; "" is accepted by all.
            entry: dict[str, Any] = {"role": "assistant", "content": msg.text}
            if msg.tool_calls:
                entry["tool_calls"] = [_wire_tool_call(c) for c in msg.tool_calls]
            if msg.text or msg.tool_calls:
                wire.append(entry)
        elif msg.attachments or (msg.role == "tool" and msg.text):  # a tool's images go as the user's
            wire.append({"role": "user", "content": user_content(msg)})
        elif msg.role == "user" and (msg.text or not msg.tool_results):
            wire.append({"role": "user", "content": msg.text})
    return wire


def user_content(msg: Message) -> str | list[dict[str, Any]]:
    """A user message with attachments: one string while everything is text, else content parts."""
    segments = user_segments(msg)
    if all(isinstance(s, str) for s in segments):
        return "\n\n".join(s for s in segments if isinstance(s, str))
    return [_content_part(s) for s in segments]


def _content_part(segment: str | AttachmentPart) -> dict[str, Any]:
    if isinstance(segment, str):
        return {"type": "text", "text": segment}
    assert segment.data is not None  # user_segments renders a missing blob as text
    if segment.kind == "image":
        data, media_type = fit(segment.hash, segment.data, segment.media_type, IMAGE_LIMITS)
        return {"type": "image_url", "image_url": {"url": data_url(media_type, data)}}
    filename = segment.name.split("?")[0].rstrip("/").rsplit("/", 1)[-1] or "document"
    if not filename.lower().endswith(".pdf"):  # stdin, a URL without one: the API goes by the name
        filename += ".pdf"
    return {
        "type": "file",
        "file": {"filename": filename, "file_data": data_url(segment.media_type, segment.data)},
    }


def data_url(media_type: str, data: bytes) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def response_format(schema: dict[str, Any]) -> dict[str, Any]:
    """Structured output as OpenAI and compatible servers (llama.cpp, vLLM, LiteLLM) take it; strict
    only where the schema already meets strict mode's rules (core.structured.strict_compatible)."""
    from agentchat.core.structured import strict_compatible

    spec = {"name": "reply", "schema": schema, "strict": strict_compatible(schema)}
    return {"type": "json_schema", "json_schema": spec}


def _wire_tool_call(call: ToolCallPart) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
    }


# --- the provider ---------------------------------------------------------------------------------


class OpenAIProvider:
    """One SDK client per provider, built on first use; the engine owns retries, so SDK retries are off."""

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self._client: AsyncOpenAI | None = None
        # OpenAI itself (needs a key, takes max_completion_tokens): the built-in provider, or a
        # second account on it ([providers.openai-work] type = "openai"); core.request's one rule.
        self._official = key_needed(settings)

    def _sdk(self) -> AsyncOpenAI:
        if self._client is None:
            name = self.settings.name
            if self._official:
                require_key(self.settings)
            import openai

            # An explicit key (even the dummy) stops the SDK sending OPENAI_API_KEY to a third party.
            timeout = openai.Timeout(
                self.settings.timeout_s, connect=min(CONNECT_TIMEOUT_S, self.settings.timeout_s)
            )
            self._client = openai.AsyncOpenAI(
                api_key=resolve_key(self.settings) or NO_KEY,
                base_url=self.settings.base_url,
                max_retries=0,
                timeout=timeout,
                http_client=openai.DefaultAsyncHttpxClient(
                    timeout=timeout, event_hooks={"response": [rate_limit_hook(name)]}
                ),
            )
        return self._client

    def _params(self, request: ChatRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": request.model,
            "messages": to_wire_messages(request.system, request.messages),
        }
        if request.tools:
            params["tools"] = function_tools(request.tools)
        if request.temperature is not None:
            params["temperature"] = request.temperature
        if request.max_tokens is not None:
            # OpenAI's reasoning models reject the deprecated `max_tokens`; many compatible servers
            # only know `max_tokens`.
            key = "max_completion_tokens" if self._official else "max_tokens"
            params[key] = request.max_tokens
        if request.schema is not None:
            params["response_format"] = response_format(request.schema)
        cache_key = conversation_key(request.messages) if request.cache and request.cache.enabled else None
        if cache_key and self._official:  # OpenAI caches by itself; the key keeps a conversation on one cache
            params["prompt_cache_key"] = cache_key
        return params

    async def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        body = self._params(request) | {"stream": request.stream}
        try:
            async for event in self._stream(request, body):
                yield event
        except BadRequestError as exc:
            if request.schema is None or self._official or "response_format" not in str(exc):
                raise
            # A compatible server that knows only JSON mode's form (llama-cpp-python's server:
            # {"type": "json_object", "schema": ...}) refused json_schema before any token.
            body["response_format"] = {"type": "json_object", "schema": request.schema}
            async for event in self._stream(request, body):
                yield event

    async def _stream(self, request: ChatRequest, body: dict[str, Any]) -> AsyncIterator[ProviderEvent]:
        import openai

        client = self._sdk()
        started = False
        # Through the SDK's generic `post` with JSON objects in and out: the typed
        # `chat.completions.create` builds a pydantic object per streamed chunk, which at a couple
        # of thousand tokens a second was the biggest CPU cost of a reply after drawing it.
        options: Any = {"security": {"bearer_auth": True}}  # the API key only, as `create` sends
        try:
            if not request.stream:
                for event in await self._complete(body, options):
                    yield event
                return
            body["stream_options"] = {"include_usage": True}
            chunks = await client.post(
                _PATH, body=body, cast_to=object, options=options, stream=True,
                stream_cls=openai.AsyncStream[object],
            )  # fmt: skip
            parser = ChunkParser()
            try:
                async for chunk in chunks:
                    if not isinstance(chunk, dict):
                        raise ValueError(f"a stream event that is not a JSON object: {str(chunk)[:100]}")
                    for event in parser.feed(chunk):
                        started = True
                        yield event
            finally:
                await chunks.close()  # prompt on cancellation and aclose() too
            if parser.finish is None:  # ended cleanly but unfinished (a proxy cut it, or llama.cpp refused)
                if started or self._official:
                    raise self._unfinished(started)
                # llama.cpp's server answers a request it cannot serve (a prompt beyond the context
                # window, a template error) with 200 and an empty stream; asked without streaming it
                # says why (the window and the size), or simply answers. It leaves that connection
                # half-closed in the pool, so the question goes on a fresh client.
                await self.aclose()
                for event in await self._complete(body | {"stream": False}, options):
                    yield event
                return
            for event in parser.close():
                yield event
        except (openai.APIError, ValueError) as exc:
            raise self._translate(exc, started=started, sampled="temperature" in body) from None

    async def _complete(self, body: dict[str, Any], options: Any) -> list[ProviderEvent]:
        """One request without streaming: its events, as a stream would have given them."""
        body = {k: v for k, v in body.items() if k != "stream_options"}
        completion = await self._sdk().post(_PATH, body=body, cast_to=object, options=options)
        if not isinstance(completion, dict):  # e.g. a text/plain body
            raise ProviderError(self._line("the server sent a reply that is not JSON"))
        return list(events_from_completion(completion))

    async def capabilities(self, model: str) -> Capabilities | None:
        """The model table speaks for OpenAI's own models only: on a compatible server a name like
        gpt-4o may be anything (a local GGUF), so there it is text-only unless configured."""
        return table_capabilities(model) if self._official else None

    async def count_tokens(self, request: ChatRequest) -> int | None:
        """OpenAI's own models with their BPE (core.tokens); another server's tokenizer is unknown."""
        from agentchat.core.tokens import openai_counter, request_tokens

        counter = openai_counter(request.model) if self._official else None
        return request_tokens(request, counter) if counter is not None else None

    async def list_models(self) -> list[str]:
        import openai

        try:
            page = await self._sdk().models.list()
        except openai.APIError as exc:
            raise self._translate(exc, started=False) from None
        return sorted(m.id for m in page.data)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    # --- errors -----------------------------------------------------------------------------------
    def _line(self, text: str) -> str:
        return error_line(self.settings, text)

    def _translate(self, exc: Exception, *, started: bool, sampled: bool = False) -> ProviderError:
        """SDK/transport error -> ours. `sampled`: the request carried a temperature, so a 4xx that
        names temperature is about it and the line says which setting to drop."""
        import openai

        name = self.settings.name
        detail = _detail(exc)
        if started:
            return StreamInterrupted(self._line(f"the stream broke off: {detail}"), provider=name)
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            retry_after = parse_retry_after(exc.response.headers)
            if status in (401, 403):
                return error_for_status(status, auth_message(self.settings, status, detail), provider=name)
            message = self._line(f"HTTP {status}: {detail}") + (
                sampling_hint(status, detail) if sampled else ""
            )
            if status >= 500 and is_validation_failure(_server_message(exc)):
                return BadRequestError(message, provider=name, status=status)
            return error_for_status(status, message, provider=name, retry_after=retry_after)
        if isinstance(exc, openai.APITimeoutError):
            return ProviderNetworkError(
                self._line(f"timed out talking to {self.settings.base_url}"), provider=name
            )
        if isinstance(exc, openai.APIConnectionError):
            where = self.settings.base_url
            return network_error(self.settings, f"cannot connect to {where}: {detail}", exc, where)
        if isinstance(exc, openai.APIError):
            guessed = _stream_error_status(exc)
            if guessed is None:
                return ProviderError(self._line(detail), provider=name)
            return error_for_status(guessed, self._line(detail), provider=name)
        return ProviderError(self._line(f"the server sent an invalid reply: {detail}"), provider=name)

    def _unfinished(self, started: bool) -> ProviderError:
        name = self.settings.name
        if started:
            return StreamInterrupted(self._line("the stream ended before the reply finished"), provider=name)
        # llama.cpp's server answers a prompt beyond the context window with 200 and an empty stream.
        hint = "the server ended the stream without a reply (is the prompt longer than the context window?)"
        return ProviderError(self._line(hint), provider=name)


def _server_message(exc: Exception) -> str:
    """The error text the server sent, as it sent it ("" when it sent none)."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return body if isinstance(body, str) else ""


def _detail(exc: Exception) -> str:
    """The server's own message as one readable line when there is one, else the SDK's or the
    transport's."""
    message = _server_message(exc)
    if message.strip():
        return server_detail(message)
    cause = exc.__cause__
    if cause is not None and str(cause):
        return str(cause)
    return str(exc) or type(exc).__name__


def _stream_error_status(exc: Any) -> int | None:
    code = exc.code or ""
    if code.isdigit():
        return int(code)
    label = f"{exc.type or ''} {code}".lower()
    return next((status for key, status in _STREAM_ERROR_STATUS.items() if key in label), None)
