"""Fitting the window inside the engine (core/context.py), which every face shares: tool calls
never lose their results, Ollama's window comes from /api/show, and the tokenizers count."""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path

from agentchat.core.events import ContextMeasured, Notice
from agentchat.core.messages import Message, TextPart, ToolCallPart, ToolResultPart
from agentchat.core.request import ChatRequest
from agentchat.core.tokens import estimate, openai_counter, request_tokens
from tests.fakes import ollama_fake as oll
from tests.fakes import openai_fake as oai
from tests.fakes.base import wire_tokens
from tests.test_engine import make_config, make_engine, run

WINDOW = 4096
TOOL = "read_file"


def long_text(n: int) -> str:
    return ("All work and no play makes Jack a dull boy. " * (n // 11 + 1))[: n * 4]


def tool_conversation(store, turns: int) -> int:
    """`turns` turns, each: a prompt, a tool call, its (large) result, and the answer."""
    conv = store.create_conversation()
    parent = None
    for i in range(turns):
        call = ToolCallPart(f"call_{i}", TOOL, {"path": f"f{i}.txt"})
        for message in (
            Message.user(f"turn {i}: read f{i}.txt"),
            Message(role="assistant", parts=[call], provider="openai", model="tiny"),
            Message(role="tool", parts=[ToolResultPart(call.id, long_text(400), name=TOOL)]),
            Message(role="assistant", parts=[TextPart(f"f{i} says: dull")], provider="openai", model="tiny"),
        ):
            message.parent_id = parent
            parent = store.add_message(conv, message)
    return conv


async def test_truncation_never_splits_a_tool_call_from_its_result(tmp_path: Path, openai_fake) -> None:
    openai_fake.models = ["tiny"]
    openai_fake.windows["tiny"] = WINDOW
    extra = {"models": {"tiny": {"context_window": WINDOW}}, "context": {"strategy": "truncate"}}
    engine, store = make_engine(tmp_path, make_config(tmp_path, openai=openai_fake, extra=extra))
    conv = tool_conversation(store, 12)
    openai_fake.queue(oai.text(["done"]))
    events = await run(engine, prompt="and now?", conversation_id=conv, model="tiny")
    assert any(isinstance(e, Notice) and "oldest turn(s)" in e.text for e in events)
    sent = openai_fake.chat_requests()[-1].body["messages"]
    assert wire_tokens(openai_fake.chat_requests()[-1].body) <= WINDOW
    assert sent[0]["role"] == "user" and sent[-1]["content"] == "and now?"
    called: set[str] = set()
    for message in sent:
        called |= {c["id"] for c in message.get("tool_calls") or []}
        if message["role"] == "tool":
            assert message["tool_call_id"] in called  # its call was sent before it
    assert sum(m["role"] == "tool" for m in sent) == sum(bool(m.get("tool_calls")) for m in sent) > 0
    measured = [e for e in events if isinstance(e, ContextMeasured)]
    assert (
        measured and measured[-1].window == WINDOW and measured[-1].tokens <= WINDOW - 512
    )  # an eighth kept for the reply


async def test_ollama_window_comes_from_api_show_and_a_long_conversation_fits(
    tmp_path: Path, ollama_fake
) -> None:
    """Ollama does not refuse a prompt over its window, it silently cuts it: we must fit first."""
    ollama_fake.windows["llama3.2"] = WINDOW
    engine, _ = make_engine(tmp_path, make_config(tmp_path, ollama=ollama_fake, extra={}))
    conv = None
    for i in range(12):
        ollama_fake.queue(oll.text([f"answer {i}"]), oll.text([f"answer {i}"]))
        events = await run(
            engine, prompt=f"turn {i}: {long_text(500)}", conversation_id=conv, model="llama3.2"
        )
        conv = events[0].conversation_id
    assert max(wire_tokens(r.body) for r in ollama_fake.chat_requests()) <= WINDOW
    assert len(ollama_fake.chat_requests()) > 12  # summaries were asked for: it was compacted


def test_estimate_is_never_below_the_openai_tokenizer() -> None:
    """The estimate stands in where no tokenizer is at hand: it must never count too few."""
    count, cl100k = openai_counter("gpt-4o"), openai_counter("gpt-4")
    assert (
        count is not None and cl100k is not None
    )  # bpe-openai (the [tokens] extra) is installed with the tests
    samples = [
        long_text(300),
        "".join(f"+    x{i} = compute({i}, '{i * 7}')\n" for i in range(200)),  # a diff
        Path(__file__).read_text(),  # code
        json.dumps([{"id": i, "value": i / 7} for i in range(300)]),
        "日本語のテキストと中文的文字。" * 50,
        "Съешь же ещё этих мягких французских булок, да выпей чаю. " * 40,
        "0123456789" * 100,
        "🙂🚀✨" * 100,
        base64.b64encode(random.Random(14).randbytes(3000)).decode(),
        "!@#$%^&*()_+-=[]{}|;':\",./<>?" * 50,
        "\n" * 500 + "\t" * 100,
    ]
    for text in samples:
        for counter in (count, cl100k):
            assert estimate(text) >= counter(text), text[:40]
    request = ChatRequest(model="gpt-4o", messages=[Message.user(samples[1])])
    assert request_tokens(request) >= request_tokens(request, count)
