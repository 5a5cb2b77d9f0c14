"""The Anthropic adapter driving the real `anthropic` SDK over HTTP against the loopback fake."""

from __future__ import annotations

import asyncio
import re
import socket
from typing import Any

import pytest

from agentchat.core.errors import (
    AuthError,
    BadRequestError,
    ProviderError,
    ProviderNetworkError,
    RateLimitError,
    StreamInterrupted,
    UnavailableError,
)
from agentchat.core.events import Finish, ProviderEvent, TextDelta, ThinkingDelta, ToolCall, UsageReport
from agentchat.core.messages import Message, TextPart, ThinkingPart, ToolCallPart, ToolResultPart, Usage
from agentchat.core.request import ChatRequest, ProviderSettings, ToolSpec
from agentchat.core.turn import ReplyBuilder
from agentchat.providers.anthropic import AnthropicProvider, build_params
from tests.fakes.anthropic_fake import (
    LITELLM_START_USAGE,
    MODEL,
    SSE_TYPE,
    AnthropicFake,
    error,
    message,
    midstream_error,
    text,
    tool_use,
)
from tests.fakes.base import Reply

KEY = "sk-ant-api03-secret-test-key-0123456789"
HINT = "ANTHROPIC_API_KEY or providers.anthropic.api_key in config.toml"
WEATHER = ToolSpec(
    "get_weather",
    "Get the current weather",
    {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
)


def settings(base_url: str, **overrides: Any) -> ProviderSettings:
    values: dict[str, Any] = {"base_url": base_url, "api_key": KEY, "key_hint": HINT, **overrides}
    return ProviderSettings(name="anthropic", type="anthropic", **values)


@pytest.fixture
def fake() -> Any:
    with AnthropicFake() as server:
        yield server


@pytest.fixture
async def provider(fake: AnthropicFake) -> Any:
    adapter = AnthropicProvider(settings(fake.root))
    yield adapter
    await adapter.aclose()


def ask(*messages: Message, **options: Any) -> ChatRequest:
    return ChatRequest(model=MODEL, messages=list(messages) or [Message.user("hi")], **options)


async def collect(provider: AnthropicProvider, request: ChatRequest, into: list[ProviderEvent] | None = None):
    events = [] if into is None else into
    async for event in provider.stream(request):
        events.append(event)
    return events


def texts(events: list[ProviderEvent]) -> list[str]:
    return [e.text for e in events if isinstance(e, TextDelta)]


def usage_of(events: list[ProviderEvent]) -> Usage:
    total = Usage()
    for e in events:
        if isinstance(e, UsageReport):
            total = total.merge(e.usage)
    return total


def assistant_from(events: list[ProviderEvent]) -> Message:
    """What the engine stores: the events folded into parts by the engine's own ReplyBuilder."""
    builder = ReplyBuilder(Message(role="assistant"))
    for event in events:
        builder.add(event)
    return builder.message


# --- streaming replies ----------------------------------------------------------------------------


async def test_streams_text_and_counts_cache_as_prompt_tokens(
    fake: AnthropicFake, provider: AnthropicProvider
):
    wire_usage = {
        "input_tokens": 20,
        "cache_creation_input_tokens": 100,
        "cache_read_input_tokens": 900,
        "output_tokens": 7,
    }
    fake.queue(text(["Hel", "lo", " world"], usage=wire_usage))

    events = await collect(provider, ask(Message.user("hi"), system="Be brief."))

    assert texts(events) == ["Hel", "lo", " world"]
    assert usage_of(events) == Usage(
        input_tokens=1020, output_tokens=7, cached_tokens=900, cache_write_tokens=100
    )
    assert events[-1] == Finish("stop")
    (req,) = fake.chat_requests()
    assert req.header("authorization") == f"Bearer {KEY}"
    assert req.body == {
        "model": MODEL,
        "max_tokens": 4096,
        "system": "Be brief.",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
        "stream": True,
    }


async def test_thinking_streams_with_its_signature_and_reasoning_tokens(
    fake: AnthropicFake, provider: AnthropicProvider
):
    wire_usage = {"input_tokens": 28, "output_tokens": 106, "output_tokens_details": {"thinking_tokens": 67}}
    fake.queue(text(["Hi"], usage=wire_usage, thinking=["Simple ", "question."], signature="sig-A"))

    events = await collect(provider, ask(thinking_budget=2048, max_tokens=1024, temperature=0.5))

    content = [e for e in events if not isinstance(e, UsageReport | Finish)]
    assert content == [
        ThinkingDelta("Simple "),
        ThinkingDelta("question."),
        ThinkingDelta(signature="sig-A"),
        TextDelta("Hi"),
    ]
    assert usage_of(events) == Usage(input_tokens=28, output_tokens=106, reasoning_tokens=67)
    body = fake.chat_requests()[0].body
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert body["max_tokens"] > 2048  # the API rejects a budget that leaves no room for the answer
    assert "temperature" not in body  # thinking does not allow it


async def test_placeholder_zeros_in_message_start_are_not_counts(
    fake: AnthropicFake, provider: AnthropicProvider
):
    """A LiteLLM proxy sends message_start with every count 0 and the real ones in message_delta
    (tests/test_peer_litellm.py): the zeros are "not known yet", never a 0-token prompt."""
    wire_usage = {"input_tokens": 14, "cache_read_input_tokens": 6, "output_tokens": 3}
    fake.queue(text(["Hel", "lo"], usage=wire_usage, start_usage=LITELLM_START_USAGE))

    events = await collect(provider, ask())

    reports = [e.usage for e in events if isinstance(e, UsageReport)]
    assert reports[0] == Usage()  # the first report (before any text) knows nothing yet
    assert usage_of(events) == Usage(input_tokens=20, output_tokens=3, cached_tokens=6)


async def test_a_stream_broken_before_litellm_reports_usage_stores_no_made_up_zeros(
    fake: AnthropicFake, provider: AnthropicProvider
):
    fake.queue(text(["Par", "tial", "!"], start_usage=LITELLM_START_USAGE, drop_after=5))
    events: list[ProviderEvent] = []

    with pytest.raises(StreamInterrupted):
        await collect(provider, ask(), into=events)

    assert texts(events) == ["Par", "tial"]
    assert usage_of(events) == Usage()


@pytest.mark.parametrize("stream", [True, False])
async def test_temperature_reaches_the_api_through_the_installed_sdk(
    fake: AnthropicFake, provider: AnthropicProvider, stream: bool
):
    """anthropic 2.17 took `temperature` out of `messages.create`'s arguments (a TypeError there);
    the API still takes it in the body."""
    fake.queue(text(["ok"]))

    events = await collect(provider, ask(temperature=0.2, stream=stream))

    assert texts(events) == ["ok"]
    assert fake.chat_requests()[0].body["temperature"] == 0.2


async def test_a_model_that_refuses_temperature_says_which_setting(
    fake: AnthropicFake, provider: AnthropicProvider
):
    fake.queue(error(400, "invalid_request_error", "`temperature` is deprecated for this model."))

    with pytest.raises(BadRequestError) as err:
        await collect(provider, ask(temperature=0.2))

    message = str(err.value)
    assert "\n" not in message and "temperature is deprecated" not in message  # the server's words, whole
    assert "`temperature` is deprecated for this model." in message
    assert "leave out -t/--temperature" in message


async def test_no_temperature_hint_when_none_was_sent(fake: AnthropicFake, provider: AnthropicProvider):
    """A server's words about temperature (a backend behind a LiteLLM proxy may say anything) are
    not advice to drop -t when no temperature was sent."""
    fake.queue(error(400, "invalid_request_error", "temperature sensor offline: max_tokens too large"))

    with pytest.raises(BadRequestError) as err:
        await collect(provider, ask())

    assert "temperature sensor offline" in str(err.value)
    assert "-t/--temperature" not in str(err.value)


@pytest.mark.parametrize(
    "options",
    [
        {"temperature": 0.3},
        {"thinking_budget": 2048, "max_tokens": 1024},
        {"tools": [WEATHER], "max_tokens": 100},
    ],
    ids=["temperature", "thinking", "tools"],
)
def test_every_argument_is_one_the_installed_sdk_accepts(options: dict[str, Any]):
    """The audit against the installed SDK, kept as a test: anthropic 2.17 took `temperature`
    (and top_p, top_k) out of messages.create, so an argument it drops fails here, not for users."""
    import inspect

    import anthropic

    params = build_params(ask(system="Be brief.", **options), settings("http://x"))
    signature = inspect.signature(anthropic.resources.messages.AsyncMessages.create)

    signature.bind(None, **params, stream=True, timeout=anthropic.Timeout(5.0))


async def test_redacted_thinking_arrives_whole(fake: AnthropicFake, provider: AnthropicProvider):
    fake.queue(text(["ok"], redacted="EmwKAhgBEgy3va3pzix/LafPsn4a"))

    events = await collect(provider, ask(thinking_budget=1024))

    assert [e for e in events if isinstance(e, ThinkingDelta)] == [
        ThinkingDelta(redacted="EmwKAhgBEgy3va3pzix/LafPsn4a")
    ]
    assert texts(events) == ["ok"]


async def test_one_tool_call_is_emitted_complete(fake: AnthropicFake, provider: AnthropicProvider):
    fake.queue(
        tool_use([("toolu_01NRLabs", "get_weather", {"location": "Paris", "units": "C"})], text="Checking.")
    )

    events = await collect(provider, ask(Message.user("weather?"), tools=[WEATHER]))

    assert texts(events) == ["Checking."]
    calls = [e.call for e in events if isinstance(e, ToolCall)]
    assert calls == [ToolCallPart("toolu_01NRLabs", "get_weather", {"location": "Paris", "units": "C"})]
    assert events[-1] == Finish("tool_calls")
    assert fake.chat_requests()[0].body["tools"] == [
        {"name": WEATHER.name, "description": WEATHER.description, "input_schema": WEATHER.parameters}
    ]


async def test_two_tool_calls_in_one_turn(fake: AnthropicFake, provider: AnthropicProvider):
    fake.queue(tool_use([("toolu_a", "get_weather", {"location": "Paris"}), ("toolu_b", "get_time", {})]))

    events = await collect(provider, ask(tools=[WEATHER]))

    assert [e.call for e in events if isinstance(e, ToolCall)] == [
        ToolCallPart("toolu_a", "get_weather", {"location": "Paris"}),
        ToolCallPart("toolu_b", "get_time", {}),
    ]


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("refusal", "content_filter"),
        ("pause_turn", "pause_turn"),
    ],
)
async def test_stop_reasons_are_normalised(
    fake: AnthropicFake, provider: AnthropicProvider, stop_reason: str, finish: str
):
    fake.queue(text(["x"], stop_reason=stop_reason))
    assert (await collect(provider, ask()))[-1] == Finish(finish)


async def test_thousands_of_small_chunks_arrive_intact(fake: AnthropicFake, provider: AnthropicProvider):
    fake.queue(text([f"{i % 10}" for i in range(5000)]))

    events = await collect(provider, ask())

    assert "".join(texts(events)) == "0123456789" * 500


# --- non-streaming --------------------------------------------------------------------------------


async def test_non_streaming_gives_the_same_events(fake: AnthropicFake, provider: AnthropicProvider):
    fake.queue(
        tool_use(
            [("toolu_1", "get_weather", {"location": "Oslo"})],
            text="On it.",
            thinking="Plan.",
            signature="sig-N",
        )
    )

    events = await collect(provider, ask(tools=[WEATHER], stream=False))

    assert events[:3] == [
        ThinkingDelta("Plan.", signature="sig-N"),
        TextDelta("On it."),
        ToolCall(ToolCallPart("toolu_1", "get_weather", {"location": "Oslo"})),
    ]
    assert events[-1] == Finish("tool_calls")
    assert usage_of(events).input_tokens == 12
    assert not fake.chat_requests()[0].body.get("stream")


async def test_non_streaming_plain_message(fake: AnthropicFake, provider: AnthropicProvider):
    fake.queue(message("Hello there.", usage={"input_tokens": 9, "output_tokens": 3}))

    events = await collect(provider, ask(stream=False))

    assert events == [TextDelta("Hello there."), UsageReport(Usage(9, 3)), Finish("stop")]


# --- request conversion ---------------------------------------------------------------------------


async def test_thinking_is_passed_back_before_the_tool_call(fake: AnthropicFake, provider: AnthropicProvider):
    fake.check_thinking = True  # the fake now rejects a tool turn without signed thinking, as the API does
    fake.queue(
        tool_use(
            [("toolu_01", "get_weather", {"location": "Paris"})],
            text="Checking.",
            thinking=["User wants ", "the weather."],
            signature="EqQBCgIYAhIM1gbcDa9G",
        ),
        text(["It is 18C."]),
    )
    question = Message.user("weather?")
    first = await collect(provider, ask(question, tools=[WEATHER], thinking_budget=1024))
    result = Message(role="tool", parts=[ToolResultPart("toolu_01", "18C sunny", name="get_weather")])

    second = await collect(
        provider, ask(question, assistant_from(first), result, tools=[WEATHER], thinking_budget=1024)
    )

    assert texts(second) == ["It is 18C."]
    body = fake.chat_requests()[1].body
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert body["messages"][1:] == [
        {
            "role": "assistant",
            "content": [
                {
                    "type": "thinking",
                    "thinking": "User wants the weather.",
                    "signature": "EqQBCgIYAhIM1gbcDa9G",
                },
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"location": "Paris"}},
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": "18C sunny"}],
        },
    ]


async def test_tool_cycle_begun_by_another_provider_goes_without_thinking(
    fake: AnthropicFake, provider: AnthropicProvider
):
    """Unsigned thinking cannot be sent, and with thinking on the API would refuse the cycle."""
    fake.check_thinking = True
    fake.queue(text(["Done."]))
    history = [
        Message.user("weather?"),
        Message(
            role="assistant",
            provider="openai",
            parts=[
                ThinkingPart("reasoning from o4"),
                ToolCallPart("call_9", "get_weather", {"location": "Rome"}),
            ],
        ),
        Message(role="tool", parts=[ToolResultPart("call_9", "21C", name="get_weather")]),
    ]

    events = await collect(provider, ask(*history, tools=[WEATHER], thinking_budget=1024))

    assert texts(events) == ["Done."]
    body = fake.chat_requests()[0].body
    assert "thinking" not in body
    assert body["messages"][1]["content"] == [
        {"type": "tool_use", "id": "call_9", "name": "get_weather", "input": {"location": "Rome"}}
    ]


async def test_mixed_cross_provider_history_becomes_valid_messages(
    fake: AnthropicFake, provider: AnthropicProvider
):
    fake.queue(text(["Bye!"]))
    history = [
        Message.system("Answer in French."),
        Message.user("Weather in Paris and Rome?"),
        Message(
            role="assistant",
            provider="openai",
            parts=[
                ThinkingPart("unsigned reasoning"),
                TextPart(""),
                ToolCallPart("call.abc/1", "get_weather", {"location": "Paris"}),
                ToolCallPart("call_ok-2", "get_weather", {"location": "Rome"}),
            ],
        ),
        Message(
            role="tool",
            parts=[
                ToolResultPart("call.abc/1", "18C", name="get_weather"),
                ToolResultPart("call_ok-2", "city not found", is_error=True, name="get_weather"),
            ],
        ),
        Message.user("And tomorrow?"),
        Message(
            role="assistant",
            provider="anthropic",
            parts=[
                ThinkingPart("signed", signature="sig-1"),
                ThinkingPart("", redacted="opaque-data"),
                TextPart("Sunny."),
                TextPart("  "),
            ],
        ),
        Message.user("thanks"),
        Message.user("bye"),
    ]

    await collect(provider, ask(*history, system="Be brief.", tools=[WEATHER]))

    body = fake.chat_requests()[0].body  # the fake's 200 also means it passed the API's rules
    wire_id = body["messages"][1]["content"][0]["id"]
    assert re.fullmatch(r"[a-zA-Z0-9_-]+", wire_id)
    assert body["system"] == "Be brief.\n\nAnswer in French."
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Weather in Paris and Rome?"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": wire_id, "name": "get_weather", "input": {"location": "Paris"}},
                {"type": "tool_use", "id": "call_ok-2", "name": "get_weather", "input": {"location": "Rome"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": wire_id, "content": "18C"},
                {
                    "type": "tool_result",
                    "tool_use_id": "call_ok-2",
                    "content": "city not found",
                    "is_error": True,
                },
                {"type": "text", "text": "And tomorrow?"},
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "signed", "signature": "sig-1"},
                {"type": "redacted_thinking", "data": "opaque-data"},
                {"type": "text", "text": "Sunny."},
            ],
        },
        {"role": "user", "content": [{"type": "text", "text": "thanks"}, {"type": "text", "text": "bye"}]},
    ]


async def test_tool_results_lead_a_merged_user_turn(fake: AnthropicFake, provider: AnthropicProvider):
    fake.queue(text(["ok"]))
    history = [
        Message.user("run it"),
        Message(role="assistant", parts=[ToolCallPart("toolu_1", "run", {})]),
        Message.user("(typed while the tool ran)"),
        Message(role="tool", parts=[ToolResultPart("toolu_1", "")]),
    ]

    await collect(provider, ask(*history, tools=[WEATHER]))

    assert fake.chat_requests()[0].body["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "toolu_1"},
        {"type": "text", "text": "(typed while the tool ran)"},
    ]


async def test_max_tokens_comes_from_the_request_then_the_config(fake: AnthropicFake):
    adapter = AnthropicProvider(settings(fake.root + "/v1/", extra={"max_tokens": 1000}))
    fake.queue(text(["a"]), text(["b"]))
    try:
        await collect(adapter, ask())
        await collect(adapter, ask(max_tokens=50))
    finally:
        await adapter.aclose()
    first, second = fake.chat_requests()
    assert (first.body["max_tokens"], second.body["max_tokens"]) == (1000, 50)
    assert first.path == "/v1/messages"  # a configured ".../v1" base URL is not doubled


# --- errors ---------------------------------------------------------------------------------------


async def test_missing_key_fails_before_sending(fake: AnthropicFake):
    adapter = AnthropicProvider(settings(fake.root, api_key=None))
    with pytest.raises(AuthError, match=re.escape(f"no API key for anthropic: set {HINT}")):
        await collect(adapter, ask())
    assert fake.requests == []


async def test_rejected_key_says_where_to_set_it(fake: AnthropicFake, provider: AnthropicProvider):
    fake.api_key = "sk-ant-the-right-one"

    with pytest.raises(AuthError) as chat_err:
        await collect(provider, ask())
    with pytest.raises(AuthError):
        await provider.list_models()

    message_text = str(chat_err.value)
    assert message_text.startswith("anthropic: the API key was rejected (HTTP 401")
    assert HINT in message_text and KEY not in message_text


async def test_a_key_echoed_by_the_server_is_redacted(fake: AnthropicFake, provider: AnthropicProvider):
    fake.queue(error(400, "invalid_request_error", f"malformed header near {KEY}"))

    with pytest.raises(BadRequestError) as err:
        await collect(provider, ask())

    assert KEY not in str(err.value) and "***" in str(err.value)


async def test_unknown_model_is_a_bad_request(fake: AnthropicFake, provider: AnthropicProvider):
    fake.queue(error(404, "not_found_error", "model: claude-nope"))

    with pytest.raises(BadRequestError) as err:
        await collect(provider, ask())

    assert err.value.status == 404 and "model: claude-nope" in str(err.value)


async def test_rate_limit_carries_retry_after_and_is_tried_once(
    fake: AnthropicFake, provider: AnthropicProvider
):
    fake.queue(error(429, "rate_limit_error", "slow down", headers={"retry-after-ms": "250"}))

    with pytest.raises(RateLimitError) as err:
        await collect(provider, ask())

    assert err.value.retry_after == 0.25
    assert [r.header("x-stainless-retry-count") for r in fake.chat_requests()] == ["0"]


@pytest.mark.parametrize(("status", "kind"), [(500, "api_error"), (529, "overloaded_error")])
async def test_server_trouble_is_unavailable_and_tried_once(
    fake: AnthropicFake, provider: AnthropicProvider, status: int, kind: str
):
    fake.queue(error(status, kind, "try later"))

    with pytest.raises(UnavailableError) as err:
        await collect(provider, ask())

    assert err.value.retryable and err.value.status == status
    assert len(fake.chat_requests()) == 1


async def test_midstream_error_keeps_the_earlier_deltas(fake: AnthropicFake, provider: AnthropicProvider):
    fake.queue(midstream_error(["Par", "tial"]))
    events: list[ProviderEvent] = []

    with pytest.raises(StreamInterrupted, match="overloaded_error"):
        await collect(provider, ask(), into=events)

    assert texts(events) == ["Par", "tial"]


async def test_overload_before_any_content_is_retryable(fake: AnthropicFake, provider: AnthropicProvider):
    fake.queue(midstream_error([]))
    events: list[ProviderEvent] = []

    with pytest.raises(UnavailableError):
        await collect(provider, ask(), into=events)

    assert events == []  # nothing to keep, so the engine may safely try again


async def test_unknown_midstream_error_is_not_retryable(fake: AnthropicFake, provider: AnthropicProvider):
    fake.queue(midstream_error([], type="mystery_error"))

    with pytest.raises(ProviderError) as err:
        await collect(provider, ask())

    assert not err.value.retryable


async def test_dropped_stream_is_interrupted_after_the_deltas(
    fake: AnthropicFake, provider: AnthropicProvider
):
    fake.queue(text(["a", "b", "c", "d"], drop_after=5))  # message_start, block start, ping, a, b
    events: list[ProviderEvent] = []

    with pytest.raises(StreamInterrupted):
        await collect(provider, ask(), into=events)

    assert texts(events) == ["a", "b"]


@pytest.mark.parametrize(
    "tail", [[b"event: content_block_delta\ndata: {not json\n\n"], []], ids=["garbage", "no-message_stop"]
)
async def test_broken_stream_content_is_interrupted(
    fake: AnthropicFake, provider: AnthropicProvider, tail: list[bytes]
):
    fake.queue(Reply(chunks=text(["a", "b"]).chunks[:4] + tail, content_type=SSE_TYPE))
    events: list[ProviderEvent] = []

    with pytest.raises(StreamInterrupted):
        await collect(provider, ask(), into=events)

    assert texts(events) == ["a"]


async def test_connection_refused_is_a_network_error():
    """On this machine (a local proxy not started) it is said at once, not after retries."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    adapter = AnthropicProvider(settings(f"http://127.0.0.1:{port}"))
    try:
        with pytest.raises(ProviderNetworkError, match=f"127.0.0.1:{port}") as err:
            await collect(adapter, ask())
    finally:
        await adapter.aclose()
    assert not err.value.retryable


async def test_tool_arguments_that_are_not_json_reach_the_tool_layer(
    fake: AnthropicFake, provider: AnthropicProvider
):
    """The model is told its arguments were invalid and the turn goes on (it aborted with exit 4)."""
    fake.queue(tool_use([("toolu_1", "get_weather", '{"city": "Par')]))

    events = await collect(provider, ask())

    (call,) = [e.call for e in events if isinstance(e, ToolCall)]
    assert call.arguments == {"_raw": '{"city": "Par'}
    assert events[-1] == Finish("tool_calls")


async def test_timeout_is_a_network_error(fake: AnthropicFake):
    adapter = AnthropicProvider(settings(fake.root, timeout_s=0.2))
    fake.queue(Reply(hang_s=1.0, chunks=[b"{}"]))
    try:
        with pytest.raises(ProviderNetworkError, match="timed out"):
            await collect(adapter, ask())
    finally:
        await adapter.aclose()


# --- cancellation and models ----------------------------------------------------------------------


async def test_closing_the_generator_hangs_up(fake: AnthropicFake, provider: AnthropicProvider):
    fake.queue(text([f"t{i} " for i in range(300)], delay_s=0.01))
    stream = provider.stream(ask())

    async for event in stream:
        if isinstance(event, TextDelta):
            break
    await stream.aclose()

    assert await asyncio.to_thread(fake.disconnected.wait, 2.0)  # the full stream would take 3 s


async def test_cancelling_the_task_hangs_up(fake: AnthropicFake, provider: AnthropicProvider):
    fake.queue(text([f"t{i} " for i in range(300)], delay_s=0.01))
    first = asyncio.Event()

    async def consume() -> None:
        async for event in provider.stream(ask()):
            if isinstance(event, TextDelta):
                first.set()

    task = asyncio.create_task(consume())
    await first.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert await asyncio.to_thread(fake.disconnected.wait, 2.0)


async def test_list_models_follows_pages(fake: AnthropicFake, provider: AnthropicProvider):
    fake.models = [f"claude-test-{i:02d}" for i in range(25)]  # the fake pages by 20

    assert await provider.list_models() == fake.models
    assert len([r for r in fake.requests if r.path.startswith("/v1/models")]) == 2
