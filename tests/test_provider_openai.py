"""The OpenAI adapter driving the real openai SDK over HTTP against the loopback fake."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator

import pytest

from agentchat.core.errors import (
    AuthError,
    BadRequestError,
    NotListening,
    ProviderError,
    ProviderNetworkError,
    RateLimitError,
    StreamInterrupted,
    UnavailableError,
)
from agentchat.core.events import Finish, TextDelta, ThinkingDelta, ToolCall, UsageReport
from agentchat.core.messages import Message, TextPart, ThinkingPart, ToolCallPart, ToolResultPart, Usage
from agentchat.core.request import ChatRequest, ProviderSettings, ToolSpec
from agentchat.providers.openai import OpenAIProvider
from tests.fakes.base import Reply
from tests.fakes.openai_fake import (
    OpenAIFake,
    completion,
    error,
    midstream_error,
    refused_stream,
    text,
    tool_calls,
    usage,
)
from tests.streams import collect, collect_until_error, text_of

KEY = "sk-test-9f8e7d6c5b4a"
HINT = "OPENAI_API_KEY or providers.openai.api_key in config.toml"
WEATHER = ToolSpec(
    "get_weather",
    "Current weather for a city",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


@pytest.fixture
def fake() -> Iterator[OpenAIFake]:
    server = OpenAIFake()
    with server:
        yield server


@pytest.fixture
async def provider(fake: OpenAIFake) -> AsyncIterator[OpenAIProvider]:
    p = OpenAIProvider(settings(fake.base_url))
    yield p
    await p.aclose()


def settings(
    base_url: str, name: str = "openai", api_key: str | None = KEY, timeout_s: float = 30.0
) -> ProviderSettings:
    return ProviderSettings(
        name=name, type="openai", base_url=base_url, api_key=api_key, key_hint=HINT, timeout_s=timeout_s
    )


def ask(prompt: str = "hi", **kw: object) -> ChatRequest:
    return ChatRequest(model="gpt-4o", messages=[Message.user(prompt)], **kw)  # type: ignore[arg-type]


# --- streaming ------------------------------------------------------------------------------------


async def test_streams_text_then_usage_then_finish(fake: OpenAIFake, provider: OpenAIProvider) -> None:
    fake.queue(text(["Hel", "lo", " there"], usage=usage(prompt=120, completion=9, cached=64, reasoning=3)))
    events = await collect(provider, ask())
    assert events == [
        TextDelta("Hel"),
        TextDelta("lo"),
        TextDelta(" there"),
        UsageReport(Usage(input_tokens=120, output_tokens=9, cached_tokens=64, reasoning_tokens=3)),
        Finish("stop"),
    ]
    (req,) = fake.chat_requests()
    assert req.body["stream"] is True
    assert req.body["stream_options"] == {"include_usage": True}
    assert req.body["messages"] == [{"role": "user", "content": "hi"}]
    assert req.header("authorization") == f"Bearer {KEY}"


async def test_server_without_usage_reports_none(fake: OpenAIFake, provider: OpenAIProvider) -> None:
    """llama.cpp's server streams no usage: the usage stays unknown rather than a made-up zero."""
    fake.queue(text(["ok"], usage=None))
    events = await collect(provider, ask())
    assert events == [TextDelta("ok"), Finish("stop")]


async def test_thousands_of_small_chunks_arrive_intact(fake: OpenAIFake, provider: OpenAIProvider) -> None:
    pieces = [f"t{i} " for i in range(3000)]
    fake.queue(text(pieces))
    assert text_of(await collect(provider, ask())) == "".join(pieces)


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
async def test_reasoning_deltas_become_thinking(
    fake: OpenAIFake, provider: OpenAIProvider, field: str
) -> None:
    fake.queue(text(["42"], reasoning=["Let me ", "think."], reasoning_field=field))
    events = await collect(provider, ask())
    assert [e for e in events if isinstance(e, ThinkingDelta)] == [
        ThinkingDelta("Let me "),
        ThinkingDelta("think."),
    ]
    assert text_of(events) == "42"


async def test_one_tool_call_is_emitted_complete(fake: OpenAIFake, provider: OpenAIProvider) -> None:
    fake.queue(tool_calls([("call_4Xzl", "get_weather", {"city": "New York City"})]))
    events = await collect(provider, ask("weather?", tools=[WEATHER]))
    assert events[0] == ToolCall(ToolCallPart("call_4Xzl", "get_weather", {"city": "New York City"}))
    assert events[-1] == Finish("tool_calls")
    (req,) = fake.chat_requests()
    assert req.body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": WEATHER.description,
                "parameters": WEATHER.parameters,
            },
        }
    ]


async def test_parallel_tool_calls_after_text(fake: OpenAIFake, provider: OpenAIProvider) -> None:
    fake.queue(
        tool_calls(
            [
                ("call_a", "get_weather", {"city": "Paris"}),
                ("call_b", "get_stock_price", {"ticker": "AAPL", "n": 2}),
            ],
            text="Checking both.",
        )
    )
    events = await collect(provider, ask(tools=[WEATHER]))
    calls = [e.call for e in events if isinstance(e, ToolCall)]
    assert calls == [
        ToolCallPart("call_a", "get_weather", {"city": "Paris"}),
        ToolCallPart("call_b", "get_stock_price", {"ticker": "AAPL", "n": 2}),
    ]
    assert text_of(events) == "Checking both."
    assert events[-2:] == [UsageReport(Usage(14, 30, None, 0)), Finish("tool_calls")]


async def test_invalid_tool_arguments_are_kept_raw(fake: OpenAIFake, provider: OpenAIProvider) -> None:
    fake.queue(tool_calls([("call_x", "get_weather", '{"city": "Par')]))
    events = await collect(provider, ask(tools=[WEATHER]))
    assert events[0] == ToolCall(ToolCallPart("call_x", "get_weather", {"_raw": '{"city": "Par'}))


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (text(["x"], finish="length"), "length"),
        (text(["x"], finish="content_filter"), "content_filter"),
        (text(["x"], finish="eos"), "eos"),
        (tool_calls([("c", "get_weather", {})], finish="stop"), "tool_calls"),  # some local servers
    ],
)
async def test_finish_reason_is_normalised(
    fake: OpenAIFake, provider: OpenAIProvider, reply: Reply, expected: str
) -> None:
    fake.queue(reply)
    assert (await collect(provider, ask()))[-1] == Finish(expected)


# --- non-streaming --------------------------------------------------------------------------------


async def test_non_streaming_text_gives_the_same_events(fake: OpenAIFake, provider: OpenAIProvider) -> None:
    fake.queue(text(["Hello", "!"], reasoning=["hmm"], usage=usage(prompt=19, completion=10, cached=0)))
    events = await collect(provider, ask(stream=False))
    assert events == [
        ThinkingDelta("hmm"),
        TextDelta("Hello!"),
        UsageReport(Usage(input_tokens=19, output_tokens=10, cached_tokens=0, reasoning_tokens=0)),
        Finish("stop"),
    ]
    (req,) = fake.chat_requests()
    assert req.body["stream"] is False
    assert "stream_options" not in req.body


async def test_non_streaming_completion_without_usage(fake: OpenAIFake, provider: OpenAIProvider) -> None:
    fake.queue(completion("Short answer.", usage=None, finish="length"))
    assert await collect(provider, ask(stream=False)) == [TextDelta("Short answer."), Finish("length")]


async def test_non_streaming_tool_calls(fake: OpenAIFake, provider: OpenAIProvider) -> None:
    fake.queue(
        tool_calls([("call_1", "get_weather", {"city": "Oslo"}), ("call_2", "get_weather", "not json")])
    )
    events = await collect(provider, ask(stream=False, tools=[WEATHER]))
    assert [e for e in events if isinstance(e, ToolCall)] == [
        ToolCall(ToolCallPart("call_1", "get_weather", {"city": "Oslo"})),
        ToolCall(ToolCallPart("call_2", "get_weather", {"_raw": "not json"})),
    ]
    assert events[-1] == Finish("tool_calls")


# --- request conversion ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "limit_key"), [("openai", "max_completion_tokens"), ("lmstudio", "max_tokens")]
)
async def test_cross_provider_history_is_converted(fake: OpenAIFake, name: str, limit_key: str) -> None:
    history = [
        Message.system("Answer in French."),
        Message.user("Weather in Paris and Rome?"),
        Message(  # from Anthropic: signed thinking, toolu_ ids
            role="assistant",
            parts=[
                ThinkingPart("The user wants two cities.", signature="EqQBCgIYAhIM"),
                TextPart("Checking."),
                ToolCallPart("toolu_01A", "get_weather", {"city": "Paris"}),
                ToolCallPart("toolu_01B", "get_weather", {"city": "Rome"}),
            ],
        ),
        Message(
            role="tool",
            parts=[
                ToolResultPart("toolu_01A", "18C sunny", name="get_weather"),
                ToolResultPart("toolu_01B", "city not found", is_error=True, name="get_weather"),
            ],
        ),
        Message(role="assistant", parts=[ThinkingPart("only thoughts, interrupted")]),
        Message(role="assistant", parts=[ToolCallPart("call_ollama_1", "read_file", {"path": "a.txt"})]),
        Message(role="tool", parts=[ToolResultPart("call_ollama_1", "Error: no such file", is_error=True)]),
        Message.user("Merci"),
    ]
    p = OpenAIProvider(settings(fake.base_url, name=name))
    fake.queue(text(["De rien"]))
    request = ChatRequest(
        model="gpt-4o", messages=history, system="Be terse.", tools=[WEATHER], temperature=0.2, max_tokens=256
    )
    await collect(p, request)
    await p.aclose()
    body = fake.chat_requests()[0].body
    assert body["messages"] == [
        {"role": "system", "content": "Be terse.\n\nAnswer in French."},
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [
                {
                    "id": "toolu_01A",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                },
                {
                    "id": "toolu_01B",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "toolu_01A", "content": "18C sunny"},
        {"role": "tool", "tool_call_id": "toolu_01B", "content": "Error: city not found"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "call_ollama_1",
                    "type": "function",
                    "function": {"name": "read_file", "arguments": '{"path": "a.txt"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_ollama_1", "content": "Error: no such file"},
        {"role": "user", "content": "Merci"},
    ]
    assert body["temperature"] == 0.2
    assert body[limit_key] == 256
    assert {"max_tokens", "max_completion_tokens"} & body.keys() == {limit_key}


# --- keys -----------------------------------------------------------------------------------------


async def test_official_openai_without_key_fails_before_sending(fake: OpenAIFake) -> None:
    p = OpenAIProvider(settings(fake.base_url, api_key=None))
    with pytest.raises(AuthError) as info:
        await collect(p, ask())
    assert str(info.value) == f"no API key for openai: set {HINT}"
    with pytest.raises(AuthError):
        await p.list_models()
    assert fake.requests == []


async def test_named_endpoint_works_without_key_and_never_sees_the_openai_key(
    fake: OpenAIFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-official-key")
    p = OpenAIProvider(settings(fake.base_url, name="vllm", api_key=None))
    fake.queue(text(["local"], usage=None))
    assert text_of(await collect(p, ask())) == "local"
    await p.aclose()
    assert "sk-env-official-key" not in (fake.chat_requests()[0].header("authorization") or "")


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
async def test_rejected_key_is_an_auth_error_that_never_shows_the_key(
    fake: OpenAIFake, provider: OpenAIProvider, status: int
) -> None:
    fake.queue(
        error(
            status,
            f"Incorrect API key provided: {KEY}. You can find your API key at https://platform.openai.com.",
        )
    )
    _, exc = await collect_until_error(provider, ask())
    assert isinstance(exc, AuthError)
    message = str(exc)
    assert KEY not in message
    assert message.startswith("openai: the API key was rejected")
    assert HINT in message
    assert "\n" not in message


async def test_unknown_model_is_a_bad_request(fake: OpenAIFake, provider: OpenAIProvider) -> None:
    fake.queue(
        error(
            404, "The model `gpt-9` does not exist or you do not have access to it.", code="model_not_found"
        )
    )
    _, exc = await collect_until_error(provider, ask())
    assert isinstance(exc, BadRequestError)
    assert exc.status == 404
    assert "The model `gpt-9` does not exist" in str(exc)


async def test_rate_limit_carries_retry_after_and_sdk_tries_once(
    fake: OpenAIFake, provider: OpenAIProvider
) -> None:
    fake.queue(
        error(
            429,
            "Rate limit reached for gpt-4o",
            code="rate_limit_exceeded",
            headers={"retry-after-ms": "250"},
        )
    )
    _, exc = await collect_until_error(provider, ask())
    assert isinstance(exc, RateLimitError)
    assert exc.retry_after == 0.25
    assert [r.header("x-stainless-retry-count") for r in fake.chat_requests()] == ["0"]


async def test_server_error_is_unavailable_and_sdk_tries_once(
    fake: OpenAIFake, provider: OpenAIProvider
) -> None:
    fake.queue(error(500, "The server had an error while processing your request."))
    _, exc = await collect_until_error(provider, ask())
    assert isinstance(exc, UnavailableError)
    assert exc.retryable
    assert len(fake.chat_requests()) == 1


async def test_midstream_error_after_text_is_interrupted(fake: OpenAIFake, provider: OpenAIProvider) -> None:
    fake.queue(midstream_error(["Hel", "lo"], "The server had an error while processing your request."))
    events, exc = await collect_until_error(provider, ask())
    assert isinstance(exc, StreamInterrupted)
    assert text_of(events) == "Hello"
    assert "The server had an error" in str(exc)


@pytest.mark.parametrize(
    ("kind", "cls"), [("server_error", UnavailableError), ("rate_limit_exceeded", RateLimitError)]
)
async def test_midstream_error_before_any_content_is_a_provider_error(
    fake: OpenAIFake, provider: OpenAIProvider, kind: str, cls: type[ProviderError]
) -> None:
    fake.queue(midstream_error([], "try again", type=kind))
    events, exc = await collect_until_error(provider, ask())
    assert events == []
    assert type(exc) is cls


async def test_dropped_stream_keeps_earlier_deltas(fake: OpenAIFake, provider: OpenAIProvider) -> None:
    fake.queue(text(["one ", "two ", "three"], drop_after=3))  # role chunk + two deltas, then cut
    events, exc = await collect_until_error(provider, ask())
    assert isinstance(exc, StreamInterrupted)
    assert text_of(events) == "one two "


async def test_stream_ending_without_finish_is_interrupted(
    fake: OpenAIFake, provider: OpenAIProvider
) -> None:
    reply = text(["partial"])
    reply.chunks = reply.chunks[:2]  # role + one delta, then a clean end of body: no finish, no [DONE]
    fake.queue(reply)
    events, exc = await collect_until_error(provider, ask())
    assert isinstance(exc, StreamInterrupted)
    assert text_of(events) == "partial"


async def test_empty_stream_is_an_error_not_an_empty_answer(
    fake: OpenAIFake, provider: OpenAIProvider
) -> None:
    """llama.cpp's server refuses an over-long prompt this way: 200, then an empty stream."""
    fake.queue(Reply(content_type="text/event-stream"))
    events, exc = await collect_until_error(provider, ask())
    assert events == []
    assert not exc.retryable
    assert "without a reply" in str(exc)


LLAMA_OVERFLOW = (
    "This model's maximum context length is 2048 tokens. However, you requested 3162 tokens "
    "(3146 in the messages, 16 in the completion). Please reduce the length of the messages or completion."
)


async def test_empty_stream_from_a_compatible_server_is_asked_again_without_streaming(
    fake: OpenAIFake,
) -> None:
    """llama.cpp's server streams nothing for a prompt beyond its window but, asked without
    streaming, names the window and the size: the error is the same (a bad request, exit 2)
    streamed or not."""
    p = OpenAIProvider(settings(fake.base_url, name="llamacpp", api_key=None))
    fake.queue(refused_stream(), error(400, LLAMA_OVERFLOW))
    events, exc = await collect_until_error(p, ask())
    await p.aclose()
    assert events == []
    assert isinstance(exc, BadRequestError) and not exc.retryable
    assert "maximum context length is 2048 tokens" in str(exc) and "3162 tokens" in str(exc)
    first, second = (r.body for r in fake.chat_requests())
    assert first["stream"] is True and second["stream"] is False and "stream_options" not in second


async def test_empty_stream_then_an_answer_without_streaming_is_the_answer(fake: OpenAIFake) -> None:
    p = OpenAIProvider(settings(fake.base_url, name="llamacpp", api_key=None))
    fake.queue(refused_stream(), text(["Hello"]))
    events = await collect(p, ask())
    await p.aclose()
    assert text_of(events) == "Hello" and events[-1] == Finish("stop")


LLAMA_VALIDATION = (
    "7 validation errors:\n"
    "  {'type': 'literal_error', 'loc': ('body', 'messages', 1, 'ChatCompletionRequestSystemMessage', 'role'), "
    "'msg': \"Input should be 'system'\", 'input': 'assistant', 'ctx': {'expected': \"'system'\"}}\n"
    "  {'type': 'string_type', 'loc': ('body', 'messages', 1, 'ChatCompletionRequestAssistantMessage', "
    "'content'), 'msg': 'Input should be a valid string', 'input': None}\n"
    "  {'type': 'missing', 'loc': ('body', 'messages', 1, 'ChatCompletionRequestToolMessage', 'tool_call_id'), "
    "'msg': 'Field required', 'input': {'role': 'assistant', 'content': None}}\n"
    '\n  File "/srv/llama_cpp/server/app.py", line 376, in create_chat_completion\n'
    "    POST /v1/chat/completions"
)


async def test_a_validation_dump_is_one_readable_line_and_not_retried(fake: OpenAIFake) -> None:
    """llama.cpp's server rejects a request its schema refuses with HTTP 500 and a ~2 KB pydantic
    dump plus a traceback line; sending it again cannot help."""
    p = OpenAIProvider(settings(fake.base_url, name="llamacpp", api_key=None))
    fake.queue(error(500, LLAMA_VALIDATION, type="internal_server_error"))
    _, exc = await collect_until_error(p, ask())
    await p.aclose()
    assert isinstance(exc, BadRequestError) and not exc.retryable and exc.status == 500
    assert str(exc) == (
        "llamacpp: HTTP 500: invalid request: messages[1].content: Input should be a valid string "
        "(and 6 more validation errors)"
    )


async def test_a_model_that_refuses_temperature_says_which_setting(fake: OpenAIFake) -> None:
    """OpenAI's reasoning models refuse a temperature; the line says what to drop, and only when
    one was sent."""
    message = "Unsupported value: 'temperature' does not support 0.2 with this model."
    for temperature, hinted in ((0.2, True), (None, False)):
        p = OpenAIProvider(settings(fake.base_url))
        fake.queue(error(400, message, code="unsupported_value"))
        _, exc = await collect_until_error(p, ask(temperature=temperature))
        await p.aclose()
        assert isinstance(exc, BadRequestError) and message in str(exc)
        assert ("leave out -t/--temperature" in str(exc)) is hinted


async def test_a_long_error_body_is_cut_to_one_line(fake: OpenAIFake, provider: OpenAIProvider) -> None:
    fake.queue(error(400, "bad\n" + "x" * 5000))
    _, exc = await collect_until_error(provider, ask())
    assert "\n" not in str(exc) and len(str(exc)) < 400


async def test_connection_refused_on_this_machine_is_not_retried() -> None:
    """Nothing listening on a loopback port (llama.cpp or LM Studio not started) is reported at
    once: retrying within seconds cannot start the server."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    p = OpenAIProvider(settings(f"http://localhost:{port}/v1", name="lmstudio", api_key=None))
    _, exc = await collect_until_error(p, ask())
    await p.aclose()
    assert isinstance(exc, NotListening) and not exc.retryable and exc.exit_code == 5


async def test_connection_refused_is_a_network_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    p = OpenAIProvider(settings(f"http://127.0.0.1:{port}/v1", name="lmstudio", api_key=None))
    _, exc = await collect_until_error(p, ask())
    await p.aclose()
    assert isinstance(exc, ProviderNetworkError)
    assert str(exc).startswith("lmstudio: cannot connect to")


async def test_read_timeout_is_a_network_error(fake: OpenAIFake) -> None:
    p = OpenAIProvider(settings(fake.base_url, timeout_s=0.2))
    reply = text(["late"])
    reply.hang_s = 0.6
    fake.queue(reply)
    _, exc = await collect_until_error(p, ask())
    await p.aclose()
    assert isinstance(exc, ProviderNetworkError)
    assert "timed out" in str(exc)


# --- cancellation and models ----------------------------------------------------------------------


@pytest.mark.exclusive  # measures time
async def test_cancelling_mid_stream_closes_it_promptly(fake: OpenAIFake, provider: OpenAIProvider) -> None:
    fake.queue(text(["tick "] * 100, delay_s=0.05), text(["next"]))  # the first would take 5 s
    first = asyncio.Event()

    async def consume() -> None:
        async for _ in provider.stream(ask()):
            first.set()

    task = asyncio.create_task(consume())
    await first.wait()
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 1.0
    assert text_of(await collect(provider, ask())) == "next"  # the client is still usable


@pytest.mark.exclusive  # measures time
async def test_aclose_mid_stream_hangs_up_on_the_server() -> None:
    server = OpenAIFake().start()
    server.queue(text(["tick "] * 100, delay_s=0.05))  # 5 s of stream if nobody hangs up
    p = OpenAIProvider(settings(server.base_url))
    events = p.stream(ask())
    assert await anext(events) == TextDelta("tick ")
    await events.aclose()
    started = time.monotonic()
    server.stop()  # waits for the handler, which ends early only if the client closed the connection
    assert time.monotonic() - started < 1.0
    await p.aclose()


async def test_list_models(fake: OpenAIFake, provider: OpenAIProvider) -> None:
    fake.models = ["qwen3-8b", "llama-3.2-3b"]
    assert await provider.list_models() == ["llama-3.2-3b", "qwen3-8b"]


async def test_list_models_maps_errors(fake: OpenAIFake) -> None:
    fake.models_reply = error(401, f"bad key {KEY}")
    p = OpenAIProvider(settings(fake.base_url))
    with pytest.raises(AuthError) as info:
        await p.list_models()
    await p.aclose()
    assert KEY not in str(info.value)
