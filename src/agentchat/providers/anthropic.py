"""Anthropic Messages adapter (`POST /v1/messages`), for api.anthropic.com and compatible endpoints.

Server-side tool blocks (web search, code execution) and citations in replies are not represented
in the neutral model and are ignored. The request's messages and attachments: anthropic_wire.py;
usage: anthropic_stream.py; caching: anthropic_cache.py; --schema: anthropic_schema.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from agentchat.core.capabilities import Capabilities, table_capabilities
from agentchat.core.errors import (
    ProviderError,
    ProviderNetworkError,
    StreamInterrupted,
    error_for_status,
    parse_retry_after,
)
from agentchat.core.events import ProviderEvent
from agentchat.core.output_limit import applied_limit
from agentchat.core.request import ChatRequest, ProviderSettings
from agentchat.providers.anthropic_cache import mark_breakpoints
from agentchat.providers.anthropic_schema import output_config, with_fallback
from agentchat.providers.anthropic_stream import StreamDecoder, message_events
from agentchat.providers.anthropic_wire import (
    open_cycle_unsigned,
    to_wire_messages,
    to_wire_tools,
    tool_blocks_as_text,
)
from agentchat.providers.base import (
    CONNECT_TIMEOUT_S,
    auth_message,
    error_line,
    network_error,
    rate_limit_hook,
    require_key,
    sampling_hint,
    server_detail,
)

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic

COUNT_TIMEOUT_S = 3.0  # a token count must not hold up a request for long
# A mid-stream `event: error` arrives inside an HTTP 200; its error type names the status it
# would have had (the docs: overloaded_error "would normally correspond to an HTTP 529").
_STREAM_ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}


# --- request conversion (the messages themselves: anthropic_wire.py) ------------------------------


def build_params(request: ChatRequest, settings: ProviderSettings) -> dict[str, Any]:
    """The keyword arguments for `messages.create` (without `stream`).

    With a thinking budget, max_tokens is raised above the budget (the API requires it, and the
    answer still needs room); temperature is left out because thinking does not allow it.
    Sampling parameters go in `extra_body`: the installed SDK no longer accepts them as arguments.
    """
    system, messages = to_wire_messages(request.system, request.messages)
    if not request.tools:
        messages = tool_blocks_as_text(messages)
    max_tokens = applied_limit(request.max_tokens, "anthropic", settings.extra)
    assert max_tokens is not None  # the Messages API requires one: the adapter has a default
    params: dict[str, Any] = {"model": request.model, "messages": messages, "max_tokens": max_tokens}
    if system:
        params["system"] = system
    if request.tools:
        params["tools"] = to_wire_tools(request.tools)
    budget = request.thinking_budget
    if budget and not open_cycle_unsigned(messages):
        params["thinking"] = {"type": "enabled", "budget_tokens": budget}
        if max_tokens <= budget:
            params["max_tokens"] = budget + max_tokens
    elif request.temperature is not None:
        # anthropic 2.x dropped `temperature` from `messages.create`'s arguments (a TypeError);
        # the API still takes it, so it travels in the body, where every SDK version puts it.
        params["extra_body"] = {"temperature": request.temperature}
    if request.schema is not None:
        params["output_config"] = output_config(request.schema)  # providers/anthropic_schema.py
    mark_breakpoints(params, request.cache)
    return params


# --- the adapter ----------------------------------------------------------------------------------


def _sdk_errors() -> tuple[type[Exception], ...]:
    """What a call may raise besides our own errors: SDK errors, transport errors the SDK lets
    through mid-stream, and ValueError for undecodable data (imported lazily, like the SDK)."""
    import anthropic
    import httpx2

    return (anthropic.APIError, httpx2.HTTPError, ValueError)


class AnthropicProvider:
    """Streams Anthropic Messages; SDK retries are off because the engine owns retries."""

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self._sdk: AsyncAnthropic | None = None

    def _client(self) -> AsyncAnthropic:
        if self._sdk is None:
            name = self.settings.name
            require_key(self.settings)
            import anthropic

            base_url = self.settings.base_url
            if base_url:
                # The SDK's paths already start with /v1; a configured ".../v1" would double it.
                base_url = base_url.rstrip("/").removesuffix("/v1")
            timeout = self.settings.timeout_s
            limits = anthropic.Timeout(timeout, connect=min(CONNECT_TIMEOUT_S, timeout))
            self._sdk = anthropic.AsyncAnthropic(
                api_key=self.settings.api_key,  # explicit, so the 2.x SDK never looks for profiles
                base_url=base_url,
                max_retries=0,
                timeout=limits,
                http_client=anthropic.DefaultAsyncHttpxClient(
                    timeout=limits, event_hooks={"response": [rate_limit_hook(name)]}
                ),
            )
        return self._sdk

    async def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        params = build_params(request, self.settings)
        async for event in with_fallback(self._stream, request, params):  # anthropic_schema.py
            yield event

    async def _stream(self, request: ChatRequest, params: dict[str, Any]) -> AsyncIterator[ProviderEvent]:
        client = self._client()
        yielded = False
        try:
            if not request.stream:
                # An explicit timeout also skips the SDK's "streaming is required" guard.
                message = await client.messages.create(**params, timeout=client.timeout)
                for event in message_events(message):
                    yielded = True
                    yield event
                return
            decoder = StreamDecoder()
            async with await client.messages.create(**params, stream=True) as raw:
                async for chunk in raw:
                    for event in decoder.feed(chunk):
                        yielded = True
                        yield event
        except _sdk_errors() as exc:
            sampled = "temperature" in params.get("extra_body", {})
            raise self._translate(exc, yielded, sampled=sampled) from exc
        if not decoder.finished:
            raise self._broken("the stream ended before message_stop", yielded)

    async def capabilities(self, model: str) -> Capabilities | None:
        return table_capabilities(model)

    async def count_tokens(self, request: ChatRequest) -> int | None:
        """The count-tokens endpoint's answer within COUNT_TIMEOUT_S; None when it cannot say
        (unreachable, slow, an old proxy without it): the caller then estimates."""
        params = build_params(request, self.settings)
        body = {k: params[k] for k in ("model", "messages", "system", "tools", "thinking") if k in params}
        try:
            counted = await self._client().messages.count_tokens(**body, timeout=COUNT_TIMEOUT_S)
        except (_sdk_errors(), ProviderError):  # type: ignore[misc]  # a tuple built at run time
            return None
        return int(counted.input_tokens)

    async def list_models(self) -> list[str]:
        client = self._client()
        try:
            return [model.id async for model in client.models.list()]
        except _sdk_errors() as exc:
            raise self._translate(exc, False) from exc

    async def aclose(self) -> None:
        if self._sdk is not None:
            await self._sdk.close()
            self._sdk = None

    # --- errors -------------------------------------------------------------------------------

    def _msg(self, text: str) -> str:
        return error_line(self.settings, text, limit=300)

    def _broken(self, what: str, yielded: bool) -> ProviderError:
        cls = StreamInterrupted if yielded else ProviderError
        return cls(self._msg(what), provider=self.settings.name)

    def _translate(self, exc: Exception, yielded: bool, *, sampled: bool = False) -> ProviderError:
        """SDK/transport error -> ours. `sampled`: the request carried a temperature, so a 4xx that
        names temperature is about it and the line says which setting to drop."""
        import anthropic
        import httpx2

        name = self.settings.name
        if isinstance(exc, anthropic.APIStatusError) and exc.status_code == 200:  # `event: error`
            detail = f"{exc.type or 'error'}: {exc.api_message or exc.message}"
            status = _STREAM_ERROR_STATUS.get(exc.type or "")
            if yielded:
                return self._broken(f"the stream broke off ({detail})", yielded)
            if status is None:
                return ProviderError(self._msg(f"{detail} (in the stream)"), provider=name)
            return error_for_status(status, self._msg(f"{detail} (in the stream)"), provider=name)
        if isinstance(exc, anthropic.APIStatusError):
            status = exc.status_code
            detail = server_detail(exc.api_message or str(exc.body or exc.message))
            if status in (401, 403):
                message = auth_message(self.settings, status, detail)
            else:
                text = f"HTTP {status} {exc.type}: {detail}" if exc.type else f"HTTP {status}: {detail}"
                message = self._msg(text) + (sampling_hint(status, detail) if sampled else "")
            retry_after = parse_retry_after(exc.response.headers)
            return error_for_status(status, message, provider=name, retry_after=retry_after)
        if yielded:
            return self._broken(f"the stream broke off ({type(exc).__name__}: {exc})", yielded)
        if isinstance(exc, anthropic.APITimeoutError | httpx2.TimeoutException):
            return ProviderNetworkError(self._msg(f"timed out talking to {self._where()}"), provider=name)
        if isinstance(exc, anthropic.APIConnectionError | httpx2.TransportError):
            cause = exc.__cause__ or exc
            where = self._where()
            return network_error(self.settings, f"cannot reach {where}: {cause}", exc, where)
        return self._broken(f"invalid reply ({type(exc).__name__}: {exc})", yielded)

    def _where(self) -> str:
        return str(self._client().base_url)
