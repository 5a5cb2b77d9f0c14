"""Ollama `/api/chat` adapter (a local server by default; also Ollama-protocol remote hosts).

What the Ollama wire format cannot carry is dropped on the way out: thinking signatures and
redacted thinking, tool-call ids (Ollama pairs results with calls by `tool_name` and order) and the
error flag of a tool result (its text says "Error:" instead). The 0.6.3 client also strips tool
parameter keywords other than type/items/description/enum (e.g. `minimum`, `default`).

Attachments: text fragments join the user's text in `content`; images go in the message's
`images` (raw bytes, which the client base64-encodes), as PNG or JPEG. Ollama takes no PDFs: a PDF
goes as its extracted text. Whether a model sees is asked of the server (`/api/show`).

Tool-call arguments that are not a JSON object (an Ollama-protocol server that sends them as a
string, as the OpenAI protocol does, with invalid JSON in it; a list; null) would fail the 0.6.3
client's validation of the whole line and abort the turn. They are mended before that validation
(`lenient_chat_response`): the tool layer then tells the model its arguments were not valid JSON
and the turn goes on, as on every provider.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from agentchat.core.attachments import fragment, not_sent, user_segments
from agentchat.core.capabilities import Capabilities, ollama_capabilities
from agentchat.core.errors import (
    ProviderError,
    StreamInterrupted,
    error_for_status,
    parse_retry_after,
)
from agentchat.core.events import Finish, ProviderEvent, TextDelta, ThinkingDelta, ToolCall, UsageReport
from agentchat.core.images import ImageLimits, fit
from agentchat.core.messages import Message, ToolCallPart, ToolResultPart, Usage
from agentchat.core.request import ChatRequest, ProviderSettings
from agentchat.providers.base import (
    CONNECT_TIMEOUT_S,
    auth_message,
    error_line,
    flagged_result_text,
    function_tools,
    network_error,
    parse_arguments,
    rate_limit_hook,
    resolve_key,
    server_detail,
    tool_finish,
)

if TYPE_CHECKING:
    import httpx
    from ollama import AsyncClient

DEFAULT_HOST = "http://127.0.0.1:11434"
REACHABLE_TIMEOUT_S = 1.0
# Ollama decodes png and jpeg on every engine; the vision models it runs see a few hundred pixels,
# so a photo is sent at most 2048 px on its long edge.
IMAGE_LIMITS = ImageLimits(max_edge=2048, max_bytes=20 * 1024 * 1024, media_types=("image/png", "image/jpeg"))


# --- request conversion ---------------------------------------------------------------------------


def to_wire_messages(system: str | None, messages: list[Message]) -> list[dict[str, Any]]:
    """Neutral history -> Ollama chat messages.

    System messages are merged into one leading system message. Each tool result becomes its own
    `tool` message named after its tool; a result without a name borrows it from the call it answers.
    """
    prompts = [system] if system else []
    prompts += [m.text for m in messages if m.role == "system" and m.text]
    wire: list[dict[str, Any]] = [{"role": "system", "content": "\n\n".join(prompts)}] if prompts else []
    names: dict[str, str] = {}
    for msg in messages:
        if msg.role == "system":
            continue
        wire.extend(_wire_result(r, names) for r in msg.tool_results)
        if msg.role == "assistant":
            names.update((c.id, c.name) for c in msg.tool_calls)
            entry = _wire_assistant(msg)
            if len(entry) > 1:
                wire.append(entry)
        elif msg.attachments or (msg.role == "tool" and msg.text):  # a tool's images go as the user's
            wire.append(_wire_user(msg))
        elif msg.role == "user" and (msg.text or not msg.tool_results):
            wire.append({"role": "user", "content": msg.text})
    return wire


def _wire_user(msg: Message) -> dict[str, Any]:
    texts: list[str] = []
    images: list[bytes] = []
    for segment in user_segments(msg):
        if isinstance(segment, str):
            texts.append(segment)
        elif segment.kind == "image":
            assert segment.data is not None  # user_segments renders a missing blob as text
            images.append(fit(segment.hash, segment.data, segment.media_type, IMAGE_LIMITS)[0])
        elif segment.extracted:  # a PDF the config said this model reads: Ollama has no field for it
            texts.append(fragment(_as_text(segment, segment.extracted)))
        else:
            texts.append(not_sent(segment, "Ollama takes no PDFs"))
    entry: dict[str, Any] = {"role": "user", "content": "\n\n".join(texts)}
    if images:
        entry["images"] = images
    return entry


def _as_text(part: Any, text: str) -> Any:
    import dataclasses

    return dataclasses.replace(part, kind="text", data=text.encode("utf-8"))


def _wire_assistant(msg: Message) -> dict[str, Any]:
    entry: dict[str, Any] = {"role": "assistant"}
    if msg.text:
        entry["content"] = msg.text
    if msg.thinking:
        entry["thinking"] = msg.thinking
    if msg.tool_calls:
        entry["tool_calls"] = [
            {"function": {"name": c.name, "arguments": c.arguments}} for c in msg.tool_calls
        ]
    return entry


def _wire_result(result: ToolResultPart, names: dict[str, str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"role": "tool", "content": flagged_result_text(result.content, result.is_error)}
    name = result.name or names.get(result.call_id)
    if name:
        entry["tool_name"] = name
    return entry


def chat_params(request: ChatRequest) -> dict[str, Any]:
    """Keyword arguments for `AsyncClient.chat`; `think` only when asked, since some models 400 on it."""
    options = {"temperature": request.temperature, "num_predict": request.max_tokens}
    return {
        "model": request.model,
        "messages": to_wire_messages(request.system, request.messages),
        "tools": function_tools(request.tools),
        "think": True if request.thinking_budget is not None else None,
        "options": {k: v for k, v in options.items() if v is not None} or None,
        "format": request.schema,  # structured output: Ollama constrains the reply to the schema
    }


# --- reply conversion -----------------------------------------------------------------------------


def mend_arguments(value: Any) -> dict[str, Any]:
    """Tool-call arguments as the object the tools take; anything else is kept as `{"_raw": text}`
    (as the OpenAI adapter does) so the registry can tell the model what was wrong with them."""
    if isinstance(value, dict):
        return value
    if value is None:
        return {}
    if isinstance(value, str):
        return parse_arguments(value)
    return {"_raw": json.dumps(value, ensure_ascii=False)}


def lenient_chat_response(**part: Any) -> Any:
    """`ChatResponse(**part)` after mending each tool call's arguments (see the module docstring)."""
    from ollama import ChatResponse

    message = part.get("message")
    calls = message.get("tool_calls") if isinstance(message, dict) else None
    for call in calls if isinstance(calls, list) else []:
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict):
            function["arguments"] = mend_arguments(function.get("arguments"))
    return ChatResponse(**part)


@functools.cache
def _client_class() -> type[AsyncClient]:
    """The SDK client whose chat replies are parsed by `lenient_chat_response`.

    The 0.6.3 client builds each reply line with `cls(**part)` inside its private `_request`, with
    no hook before the validation; passing our callable there is the narrowest change.
    """
    import ollama

    class LenientClient(ollama.AsyncClient):
        async def _request(self, cls: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            if cls is ollama.ChatResponse:
                cls = lenient_chat_response
            return await super()._request(cls, *args, **kwargs)

    return LenientClient


def new_call_id() -> str:
    """Ollama sends no call id the 0.6.3 client keeps; the engine and other providers need one."""
    return f"call_{uuid.uuid4().hex[:8]}"


@dataclass
class ReplyParser:
    """Turns ChatResponse lines (or the one non-streamed reply) into events; tool calls arrive whole."""

    had_tool_calls: bool = False
    done: bool = False

    def feed(self, part: Any) -> Iterator[ProviderEvent]:
        message = part.message
        if message.thinking:
            yield ThinkingDelta(message.thinking)
        if message.content:
            yield TextDelta(message.content)
        for call in message.tool_calls or []:
            self.had_tool_calls = True
            fn = call.function
            yield ToolCall(ToolCallPart(new_call_id(), fn.name, dict(fn.arguments)))
        if part.done:
            self.done = True
            usage = Usage(input_tokens=part.prompt_eval_count, output_tokens=part.eval_count)
            if usage != Usage():
                yield UsageReport(usage)
            yield Finish(tool_finish(part.done_reason, self.had_tool_calls))


async def _once(item: Any) -> AsyncGenerator[Any, None]:
    yield item


# --- the provider ---------------------------------------------------------------------------------


class OllamaProvider:
    """One SDK client per provider, built on first use. The ollama client never retries and would
    wait forever by default, so the timeout is set here."""

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self.host = settings.base_url or DEFAULT_HOST
        self._client: AsyncClient | None = None
        self._capabilities: dict[str, Capabilities] = {}

    def _new_client(self, timeout_s: float) -> AsyncClient:
        import httpx

        # An explicit header wins over OLLAMA_API_KEY, which the client would otherwise read itself.
        key = resolve_key(self.settings)
        return _client_class()(
            host=self.host,
            timeout=httpx.Timeout(timeout_s, connect=min(CONNECT_TIMEOUT_S, timeout_s)),
            headers={"authorization": f"Bearer {key}"} if key else None,
            event_hooks={"response": [rate_limit_hook(self.settings.name), self._raise_for_status]},
        )

    def _sdk(self) -> AsyncClient:
        if self._client is None:
            self._client = self._new_client(self.settings.timeout_s)
        return self._client

    async def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        import httpx
        from ollama import ResponseError

        client = self._sdk()
        params = chat_params(request)
        parser = ReplyParser()
        started = False
        try:
            parts: AsyncGenerator[Any, None]
            if request.stream:
                # The client types its stream as an AsyncIterator; it is an async generator (it has
                # aclose), which is what closes the HTTP response on cancellation.
                parts = cast("AsyncGenerator[Any, None]", await client.chat(**params, stream=True))
            else:
                parts = _once(await client.chat(**params, stream=False))
            async with aclosing(parts):  # closes the HTTP stream on cancellation and aclose() too
                async for part in parts:
                    for event in parser.feed(part):
                        started = True
                        yield event
        except (ResponseError, ValueError, ConnectionError, httpx.HTTPError) as exc:
            raise self._translate(exc, started=started) from None
        if not parser.done:
            cls = StreamInterrupted if started else ProviderError
            raise cls(self._line("the reply ended before Ollama finished it"), provider=self.settings.name)

    async def capabilities(self, model: str) -> Capabilities | None:
        """Asked of the server (`/api/show`), once per model and process."""
        import httpx
        from ollama import ResponseError

        if model not in self._capabilities:
            try:
                shown = await self._sdk().show(model)
            except (ResponseError, ValueError, ConnectionError, httpx.HTTPError) as exc:
                raise self._translate(exc, started=False) from None
            self._capabilities[model] = ollama_capabilities(
                {"capabilities": shown.capabilities or [], "model_info": shown.modelinfo or {}}
            )
        return self._capabilities[model]

    async def list_models(self) -> list[str]:
        """Installed models as the server names them (e.g. "llama3.2:latest")."""
        import httpx
        from ollama import ResponseError

        try:
            listing = await self._sdk().list()
        except (ResponseError, ValueError, ConnectionError, httpx.HTTPError) as exc:
            raise self._translate(exc, started=False) from None
        return [m.model for m in listing.models if m.model]

    async def reachable(self) -> bool:
        """Whether Ollama answers at all, within about a second; routing asks before using it."""
        client = self._new_client(REACHABLE_TIMEOUT_S)
        try:
            await client.list()
        except Exception:  # any failure means "not usable now"; this probe must never raise
            return False
        finally:
            await client.close()
        return True

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    # --- errors -----------------------------------------------------------------------------------
    async def _raise_for_status(self, response: httpx.Response) -> None:
        """httpx response hook: the SDK's ResponseError drops the headers (Retry-After), so HTTP
        errors are translated here, where the response is still at hand."""
        if not response.is_error:
            return
        await response.aread()
        try:
            body = response.json()
        except ValueError:
            body = None
        detail = (
            body["error"] if isinstance(body, dict) and isinstance(body.get("error"), str) else response.text
        )
        status = response.status_code
        detail = server_detail(detail)
        if status in (401, 403):
            message = auth_message(self.settings, status, detail)
        else:
            message = self._line(f"HTTP {status}: {detail}")
        raise error_for_status(
            status, message, provider=self.settings.name, retry_after=parse_retry_after(response.headers)
        )

    def _line(self, text: str) -> str:
        return error_line(self.settings, text)

    def _translate(self, exc: Exception, *, started: bool) -> ProviderError:
        import httpx
        from ollama import ResponseError

        name = self.settings.name
        if isinstance(exc, ResponseError):  # HTTP errors are raised by the hook: this is an error line
            detail = str(exc.error)
        elif isinstance(exc, ValueError):
            detail = f"the server sent an invalid reply: {exc}"
        elif isinstance(exc, ConnectionError | httpx.ConnectError | httpx.ConnectTimeout):
            detail = f"cannot connect to Ollama at {self.host}: start it (`ollama serve`) or set OLLAMA_HOST"
        elif isinstance(exc, httpx.TimeoutException):
            detail = (
                f"no answer from Ollama at {self.host} within {self.settings.timeout_s:g} s"
                f" (a large model may still be loading; raise providers.{name}.timeout)"
            )
        else:
            detail = f"the connection to Ollama at {self.host} failed: {str(exc) or type(exc).__name__}"
        if started:
            return StreamInterrupted(self._line(f"the stream broke off: {detail}"), provider=name)
        if isinstance(exc, httpx.HTTPError | ConnectionError):
            return network_error(self.settings, detail, exc, self.host)
        return ProviderError(self._line(detail), provider=name)
