"""The Ollama adapter driven through the real `ollama` client over HTTP against the loopback fake."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterator

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
from agentchat.core.events import Finish, TextDelta, ThinkingDelta, ToolCall, UsageReport
from agentchat.core.messages import Message, TextPart, ThinkingPart, ToolCallPart, ToolResultPart, Usage
from agentchat.core.request import ChatRequest, ProviderSettings, ToolSpec
from agentchat.providers.ollama import OllamaProvider
from tests.fakes.base import Reply
from tests.fakes.ollama_fake import (
    DEFAULT_MODELS,
    MODEL,
    OllamaFake,
    error,
    midstream_error,
    text,
    tool_calls,
)
from tests.loopback import free_port
from tests.streams import collect, collect_until_error

KEY = "olk-secret-test-key-123456"
CALL_ID = re.compile(r"^call_[0-9a-f]{8}$")


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OLLAMA_API_KEY", raising=False)


@pytest.fixture(scope="module")
def server() -> Iterator[OllamaFake]:
    """One server per module: stopping one waits out its 0.5 s poll interval."""
    with OllamaFake() as srv:
        yield srv


@pytest.fixture
def fake(server: OllamaFake) -> OllamaFake:
    server.replies.clear()
    server.requests.clear()
    server.models = list(DEFAULT_MODELS)
    server.client_closed.clear()
    return server


def settings(base_url: str, **kw: object) -> ProviderSettings:
    return ProviderSettings(
        name="ollama",
        type="ollama",
        base_url=base_url,
        key_hint="providers.ollama.api_key in config.toml",
        **kw,
    )


@pytest.fixture
async def provider(fake: OllamaFake) -> AsyncIterator[OllamaProvider]:
    p = OllamaProvider(settings(fake.root))
    yield p
    await p.aclose()


def ask(text_: str = "hi", **kw: object) -> ChatRequest:
    return ChatRequest(model=MODEL, messages=[Message.user(text_)], **kw)


# --- streaming ------------------------------------------------------------------------------------


async def test_streamed_text_and_usage(fake: OllamaFake, provider: OllamaProvider) -> None:
    fake.queue(text(["The", " sky", " is blue"], prompt_eval_count=26, eval_count=282))
    events = await collect(provider, ask(temperature=0.2, max_tokens=64))
    assert events == [
        TextDelta("The"),
        TextDelta(" sky"),
        TextDelta(" is blue"),
        UsageReport(Usage(input_tokens=26, output_tokens=282)),
        Finish("stop"),
    ]
    body = fake.chat_requests()[0].body
    assert body["stream"] is True
    assert body["options"] == {"temperature": 0.2, "num_predict": 64}
    assert "think" not in body  # only sent when thinking was asked for: some models reject it


async def test_missing_counts_stay_unknown_and_length_is_kept(
    fake: OllamaFake, provider: OllamaProvider
) -> None:
    fake.queue(text(["cut"], prompt_eval_count=None, eval_count=None, done_reason="length"))
    assert await collect(provider, ask()) == [TextDelta("cut"), Finish("length")]
    fake.queue(text(["x"], prompt_eval_count=5, eval_count=None))
    events = await collect(provider, ask())
    assert UsageReport(Usage(input_tokens=5, output_tokens=None)) in events


async def test_thinking_is_requested_and_streamed_first(fake: OllamaFake, provider: OllamaProvider) -> None:
    fake.queue(text(["42"], thinking=["Let me", " think."]))
    events = await collect(provider, ask(thinking_budget=1024))
    assert events[:3] == [ThinkingDelta("Let me"), ThinkingDelta(" think."), TextDelta("42")]
    assert fake.chat_requests()[0].body["think"] is True


async def test_one_tool_call(fake: OllamaFake, provider: OllamaProvider) -> None:
    fake.queue(tool_calls([("get_weather", {"city": "Tokyo", "days": 2})]))
    events = await collect(provider, ask())
    calls = [e.call for e in events if isinstance(e, ToolCall)]
    assert [(c.name, c.arguments) for c in calls] == [("get_weather", {"city": "Tokyo", "days": 2})]
    assert CALL_ID.match(calls[0].id)
    assert events[-2:] == [UsageReport(Usage(169, 15)), Finish("tool_calls")]


async def test_two_parallel_tool_calls_get_distinct_ids(fake: OllamaFake, provider: OllamaProvider) -> None:
    fake.queue(tool_calls([("read", {"path": "a.txt"}), ("read", {"path": "b.txt"})], chunks=["Reading."]))
    events = await collect(provider, ask())
    assert events[0] == TextDelta("Reading.")
    calls = [e.call for e in events if isinstance(e, ToolCall)]
    assert [c.arguments["path"] for c in calls] == ["a.txt", "b.txt"]
    assert len({c.id for c in calls}) == 2 and all(CALL_ID.match(c.id) for c in calls)
    assert events[-1] == Finish("tool_calls")


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ('{"city": "Par', {"_raw": '{"city": "Par'}),  # a string of broken JSON
        ('{"city": "Paris"}', {"city": "Paris"}),  # a string of valid JSON: parsed
        ('["Paris"]', {"_raw": '["Paris"]'}),  # valid JSON that is not an object
        ([1, 2], {"_raw": "[1, 2]"}),
        (None, {}),
        ("", {}),
    ],
)
async def test_tool_arguments_that_are_not_an_object_do_not_end_the_reply(
    fake: OllamaFake, provider: OllamaProvider, sent: object, kept: dict, stream: bool
) -> None:
    """The 0.6.3 client validates each line as a whole and raised (ProviderError, exit 4): the call
    arrives instead, with its arguments kept as `_raw` for the tool layer to explain to the model."""
    fake.queue(tool_calls([("get_weather", sent), ("now", {})], chunks=["Checking."]))
    events = await collect(provider, ask(stream=stream))
    calls = [e.call for e in events if isinstance(e, ToolCall)]
    assert [(c.name, c.arguments) for c in calls] == [("get_weather", kept), ("now", {})]
    assert events[-1] == Finish("tool_calls")


async def test_thousands_of_chunks(fake: OllamaFake, provider: OllamaProvider) -> None:
    fake.queue(text(["x"] * 3000))
    events = await collect(provider, ask())
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "x" * 3000


# --- non-streaming --------------------------------------------------------------------------------


async def test_non_streaming_gives_the_same_events(fake: OllamaFake, provider: OllamaProvider) -> None:
    fake.queue(text(["Hel", "lo"], thinking=["hm"], prompt_eval_count=3, eval_count=2))
    events = await collect(provider, ask(stream=False, thinking_budget=100))
    assert events == [ThinkingDelta("hm"), TextDelta("Hello"), UsageReport(Usage(3, 2)), Finish("stop")]
    assert fake.chat_requests()[0].body["stream"] is False

    fake.queue(tool_calls([("f", {"n": 1})]))
    events = await collect(provider, ask(stream=False))
    assert [(e.call.name, e.call.arguments) for e in events if isinstance(e, ToolCall)] == [("f", {"n": 1})]
    assert events[-1] == Finish("tool_calls")


# --- request conversion ---------------------------------------------------------------------------


async def test_mixed_cross_provider_history_is_converted(fake: OllamaFake, provider: OllamaProvider) -> None:
    history = [
        Message.system("Be terse."),
        Message.user("weather in Paris and Rome?"),
        Message(
            role="assistant",
            parts=[
                ThinkingPart("Two cities.", signature="sig-anthropic"),
                TextPart("Checking."),
                ToolCallPart("toolu_01ABC", "get_weather", {"city": "Paris"}),
                ToolCallPart("call_zZ9", "get_weather", {"city": "Rome"}),
            ],
            provider="anthropic",
        ),
        Message(
            role="tool",
            parts=[
                ToolResultPart("toolu_01ABC", "18C", name="get_weather"),
                ToolResultPart("call_zZ9", "service down", is_error=True),  # name recovered from the call
            ],
        ),
        Message(role="assistant", parts=[ThinkingPart("", redacted="opaque")]),  # nothing Ollama can carry
        Message(role="assistant", parts=[TextPart("Paris is 18C.")], provider="openai"),
        Message.user("thanks"),
    ]
    tool = ToolSpec(
        "get_weather",
        "Current weather",
        {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "name"}},
            "required": ["city"],
        },
    )
    fake.queue(text(["ok"]))
    await collect(provider, ChatRequest(model=MODEL, messages=history, system="You help.", tools=[tool]))
    body = fake.chat_requests()[0].body
    assert body["messages"] == [
        {"role": "system", "content": "You help.\n\nBe terse."},
        {"role": "user", "content": "weather in Paris and Rome?"},
        {
            "role": "assistant",
            "content": "Checking.",
            "thinking": "Two cities.",
            "tool_calls": [
                {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
                {"function": {"name": "get_weather", "arguments": {"city": "Rome"}}},
            ],
        },
        {"role": "tool", "content": "18C", "tool_name": "get_weather"},
        {"role": "tool", "content": "Error: service down", "tool_name": "get_weather"},
        {"role": "assistant", "content": "Paris is 18C."},
        {"role": "user", "content": "thanks"},
    ]
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Current weather",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string", "description": "name"}},
                    "required": ["city"],
                },
            },
        }
    ]


async def test_api_key_is_sent_as_bearer_only_when_set(fake: OllamaFake) -> None:
    keyed = OllamaProvider(settings(fake.root, api_key=KEY))
    plain = OllamaProvider(settings(fake.root))
    fake.queue(text(["a"]), text(["b"]))
    try:
        await collect(keyed, ask())
        await collect(plain, ask())
    finally:
        await keyed.aclose()
        await plain.aclose()
    first, second = fake.chat_requests()
    assert first.header("authorization") == f"Bearer {KEY}"
    assert second.header("authorization") is None


# --- errors ---------------------------------------------------------------------------------------


async def test_rejected_key_names_where_to_set_it_and_never_shows_it(fake: OllamaFake) -> None:
    p = OllamaProvider(settings(fake.root, api_key=KEY))
    fake.queue(error(401, f"invalid key {KEY}"))
    try:
        _, exc = await collect_until_error(p, ask())
    finally:
        await p.aclose()
    assert isinstance(exc, AuthError)
    assert "rejected" in str(exc) and "providers.ollama.api_key" in str(exc)
    assert KEY not in str(exc) and str(exc).startswith("ollama:")


async def test_unknown_model_is_a_bad_request(fake: OllamaFake, provider: OllamaProvider) -> None:
    fake.queue(error(404, "model 'llama9' not found"))
    _, exc = await collect_until_error(provider, ask())
    assert isinstance(exc, BadRequestError) and exc.status == 404
    assert "model 'llama9' not found" in str(exc)


async def test_rate_limit_carries_retry_after(fake: OllamaFake, provider: OllamaProvider) -> None:
    fake.queue(error(429, "too many requests", headers={"retry-after-ms": "1500"}))
    _, exc = await collect_until_error(provider, ask())
    assert isinstance(exc, RateLimitError) and exc.retry_after == 1.5


async def test_server_error_is_tried_exactly_once(fake: OllamaFake, provider: OllamaProvider) -> None:
    fake.queue(error(500, "llama runner process has terminated"))
    _, exc = await collect_until_error(provider, ask(stream=False))
    assert isinstance(exc, UnavailableError) and "llama runner" in str(exc)
    assert len(fake.chat_requests()) == 1


async def test_midstream_error_keeps_earlier_deltas(fake: OllamaFake, provider: OllamaProvider) -> None:
    fake.queue(midstream_error(["Once", " upon"], "an error was encountered while running the model"))
    events, exc = await collect_until_error(provider, ask())
    assert events == [TextDelta("Once"), TextDelta(" upon")]
    assert isinstance(exc, StreamInterrupted) and "error was encountered" in str(exc)


async def test_error_line_before_any_output_is_not_an_interruption(
    fake: OllamaFake, provider: OllamaProvider
) -> None:
    fake.queue(midstream_error([], "model failed to load"))
    events, exc = await collect_until_error(provider, ask())
    assert events == []
    assert type(exc) is ProviderError and "model failed to load" in str(exc)


async def test_dropped_stream_is_interrupted_after_the_deltas(
    fake: OllamaFake, provider: OllamaProvider
) -> None:
    fake.queue(text(["a", "b", "c", "d"], drop_after=2))
    events, exc = await collect_until_error(provider, ask())
    assert events == [TextDelta("a"), TextDelta("b")]
    assert isinstance(exc, StreamInterrupted)


async def test_stream_ending_without_done_is_interrupted(fake: OllamaFake, provider: OllamaProvider) -> None:
    reply = text(["a", "b"])
    fake.queue(Reply(chunks=reply.chunks[:-1], content_type=reply.content_type))
    events, exc = await collect_until_error(provider, ask())
    assert events == [TextDelta("a"), TextDelta("b")]
    assert isinstance(exc, StreamInterrupted)


async def test_garbled_line_is_interrupted_after_the_deltas(
    fake: OllamaFake, provider: OllamaProvider
) -> None:
    reply = text(["a", "b"])
    fake.queue(Reply(chunks=[reply.chunks[0], b"\n", *reply.chunks[1:]], content_type=reply.content_type))
    events, exc = await collect_until_error(provider, ask())
    assert events == [TextDelta("a")]
    assert isinstance(exc, StreamInterrupted) and "invalid reply" in str(exc)


@pytest.mark.parametrize("stream", [True, False])
async def test_connection_refused_says_how_to_fix_it(stream: bool) -> None:
    host = f"http://127.0.0.1:{free_port()}"
    p = OllamaProvider(settings(host))
    try:
        _, exc = await collect_until_error(p, ask(stream=stream))
    finally:
        await p.aclose()
    assert isinstance(exc, ProviderNetworkError)
    assert host in str(exc) and "OLLAMA_HOST" in str(exc) and "ollama serve" in str(exc)
    assert not exc.retryable  # Ollama not running: said at once, not after three retries


async def test_silent_server_times_out(fake: OllamaFake) -> None:
    p = OllamaProvider(settings(fake.root, timeout_s=0.3))
    fake.queue(Reply(hang_s=1.0, chunks=text(["late"]).chunks))
    try:
        _, exc = await collect_until_error(p, ask())
    finally:
        await p.aclose()
    assert isinstance(exc, ProviderNetworkError) and "0.3 s" in str(exc)


async def test_cancelling_closes_the_http_stream(fake: OllamaFake, provider: OllamaProvider) -> None:
    fake.queue(text(["tok"] * 500, delay_s=0.02))  # 10 s if it were read to the end
    started = time.monotonic()
    events = provider.stream(ask())
    assert await anext(events) == TextDelta("tok")
    await events.aclose()
    assert fake.client_closed.wait(5.0), "the server kept streaming to nobody"
    assert time.monotonic() - started < 5.0


# --- models ---------------------------------------------------------------------------------------


async def test_list_models_as_the_server_names_them(fake: OllamaFake, provider: OllamaProvider) -> None:
    fake.models = ["llama3.2:latest", "qwen3:8b", "gpt-oss:20b"]
    assert await provider.list_models() == ["llama3.2:latest", "qwen3:8b", "gpt-oss:20b"]


async def test_list_models_unreachable_is_a_network_error() -> None:
    p = OllamaProvider(settings(f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(ProviderNetworkError, match="OLLAMA_HOST"):
        await p.list_models()
    await p.aclose()


async def test_reachable(fake: OllamaFake) -> None:
    up = OllamaProvider(settings(fake.root))
    down = OllamaProvider(settings(f"http://127.0.0.1:{free_port()}"))
    assert await up.reachable() is True
    assert await down.reachable() is False
