"""The tool loop on every provider: real SDKs against the fakes, real built-in tools in a temp workspace."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agentchat.config import Config
from agentchat.core.engine import Engine
from agentchat.core.events import Notice, ToolFinished
from agentchat.core.routing import ModelCache, Router
from agentchat.core.store import Store
from agentchat.core.turn import TurnRequest
from agentchat.tools.approval import ApprovalGate, resolve_policies
from agentchat.tools.registry import build_registry
from tests.fakes import anthropic_fake as anth
from tests.fakes import ollama_fake as oll
from tests.fakes import openai_fake as oai
from tests.streams import text_of


@dataclass
class Side:
    """One provider as the tests drive it: its fake, model, and reply builders."""

    name: str
    fake: Any
    model: str

    def calls(self, *calls: tuple[str, str, dict]) -> Any:
        if self.name == "openai":
            return oai.tool_calls(list(calls))
        if self.name == "anthropic":
            return anth.tool_use(list(calls), thinking="I should use a tool.", signature="sig-tool")
        return oll.tool_calls([(name, args) for _, name, args in calls])

    def text(self, text: str) -> Any:
        return {"openai": oai.text, "anthropic": anth.text, "ollama": oll.text}[self.name]([text])

    def tool_results(self, body: dict) -> list[tuple[str, bool]]:
        """(content, is_error) of the tool results in a recorded request, in wire order."""
        out = []
        for m in body["messages"]:
            if self.name == "anthropic" and isinstance(m.get("content"), list):
                for block in m["content"]:
                    if block.get("type") == "tool_result":
                        content = block["content"]
                        text = content if isinstance(content, str) else "".join(b["text"] for b in content)
                        out.append((text, bool(block.get("is_error"))))
            elif m.get("role") == "tool":
                out.append((m["content"], m["content"].startswith("error")))
        return out


@pytest.fixture(params=["openai", "anthropic", "ollama"])
def side(request, openai_fake, anthropic_fake, ollama_fake) -> Side:
    fake = {"openai": openai_fake, "anthropic": anthropic_fake, "ollama": ollama_fake}[request.param]
    model = {"openai": "gpt-4o-mini", "anthropic": "claude-sonnet-4-6", "ollama": "llama3.2"}[request.param]
    return Side(request.param, fake, model)


@pytest.fixture(autouse=True)
async def close_engines():
    """Every engine a test builds is closed, so no client socket outlives its test."""
    yield
    while ENGINES:
        await ENGINES.pop().aclose()


ENGINES: list[Engine] = []


def setup(
    tmp_path: Path, fakes: dict, *, approver=None, allow=(), agent_tools=None, **extra
) -> tuple[Engine, Store, ApprovalGate]:
    workspace = tmp_path / "ws"
    workspace.mkdir(exist_ok=True)
    (workspace / "notes.txt").write_text("the secret word is pelican\n")
    providers: dict = {"local": {"enabled": False}}
    if "openai" in fakes:
        providers["openai"] = {"api_key": "k", "base_url": fakes["openai"].base_url}
    if "anthropic" in fakes:
        providers["anthropic"] = {"api_key": "k", "base_url": fakes["anthropic"].root}
    if "ollama" in fakes:
        providers["ollama"] = {"host": fakes["ollama"].root, "models": ["llama3.2"]}
    config = Config(tmp_path / "c.toml", {"providers": providers, "workspace": str(workspace), **extra})
    store = Store(tmp_path / "h.db")
    registry = build_registry(config, workspace, plugins=False)

    async def deny(call, tool):
        return "deny"

    gate = ApprovalGate(
        resolve_policies(config, agent_tools=agent_tools, allow_tools=allow), approver or deny
    )
    router = Router(config, cache=ModelCache(tmp_path / "m.json"), local_available=lambda: False)
    engine = Engine(config, store, router=router, registry=registry, gate=gate)
    ENGINES.append(engine)
    return engine, store, gate


async def run(engine: Engine, **kw) -> list:
    return [e async for e in engine.run_turn(TurnRequest(**kw))]


async def test_single_tool_call(tmp_path: Path, side: Side) -> None:
    engine, store, _ = setup(tmp_path, {side.name: side.fake})
    side.fake.queue(side.calls(("call_1", "read_file", {"path": "notes.txt"})), side.text("Pelican."))
    events = await run(engine, prompt="What is the secret word?", model=side.model, provider=side.name)
    assert text_of(events).endswith("Pelican.")
    finished = [e for e in events if isinstance(e, ToolFinished)]
    assert [(f.call.name, f.status) for f in finished] == [("read_file", "done")]
    second = side.fake.chat_requests()[1].body
    assert [c for c, _ in side.tool_results(second)] == [finished[0].result.content]
    assert "pelican" in finished[0].result.content
    assert {t.get("name") or t.get("function", {}).get("name") for t in second["tools"]} >= {
        "read_file",
        "now",
    }
    # the whole exchange is stored as parts and survives a reload
    thread = store.thread(store.leaf(events[0].conversation_id))
    assert [m.role for m in thread] == ["user", "assistant", "tool", "assistant"]
    assert thread[1].tool_calls[0].arguments == {"path": "notes.txt"}
    stored = thread[2].tool_results[0]
    assert "pelican" in stored.content and stored.status == "done"
    assert stored.duration_s == finished[0].duration_s  # the tool pane shows it for stored calls
    await engine.aclose()


async def test_two_parallel_calls_in_one_turn(tmp_path: Path, side: Side) -> None:
    engine, _, _ = setup(tmp_path, {side.name: side.fake})
    (tmp_path / "ws" / "b.txt").write_text("bee\n")
    side.fake.queue(
        side.calls(
            ("call_a", "read_file", {"path": "notes.txt"}), ("call_b", "read_file", {"path": "b.txt"})
        ),
        side.text("done"),
    )
    events = await run(engine, prompt="read both", model=side.model, provider=side.name)
    contents = [c for c, _ in side.tool_results(side.fake.chat_requests()[1].body)]
    assert len(contents) == 2 and "pelican" in contents[0] and "bee" in contents[1]  # in call order
    assert text_of(events) == "done"


async def test_multi_step_chain(tmp_path: Path, side: Side) -> None:
    engine, _, _ = setup(tmp_path, {side.name: side.fake})
    side.fake.queue(
        side.calls(("c1", "list_dir", {"path": "."})),
        side.calls(("c2", "read_file", {"path": "notes.txt"})),
        side.text("pelican"),
    )
    events = await run(engine, prompt="find the word", model=side.model, provider=side.name)
    assert [e.call.name for e in events if isinstance(e, ToolFinished)] == ["list_dir", "read_file"]
    assert len(side.fake.chat_requests()) == 3
    assert "notes.txt" in side.tool_results(side.fake.chat_requests()[2].body)[0][0]


async def test_failing_tool_goes_back_to_the_model(tmp_path: Path, side: Side) -> None:
    engine, _, _ = setup(tmp_path, {side.name: side.fake})
    side.fake.queue(side.calls(("c1", "read_file", {"path": "../../etc/passwd"})), side.text("cannot"))
    events = await run(engine, prompt="read it", model=side.model, provider=side.name)
    (finished,) = [e for e in events if isinstance(e, ToolFinished)]
    assert finished.status == "failed" and "escapes the workspace" in finished.result.content
    ((content, is_error),) = side.tool_results(side.fake.chat_requests()[1].body)
    assert is_error and "escapes the workspace" in content
    assert text_of(events) == "cannot"


async def test_denied_tool_is_reported_and_the_turn_goes_on(tmp_path: Path, side: Side) -> None:
    engine, _, gate = setup(tmp_path, {side.name: side.fake})
    side.fake.queue(
        side.calls(("c1", "write_file", {"path": "x.txt", "content": "hi"})), side.text("ok, not written")
    )
    events = await run(engine, prompt="write", model=side.model, provider=side.name)
    (finished,) = [e for e in events if isinstance(e, ToolFinished)]
    assert finished.status == "denied"
    assert gate.denied == ["write_file"]
    assert not (tmp_path / "ws" / "x.txt").exists()
    ((content, is_error),) = side.tool_results(side.fake.chat_requests()[1].body)
    assert is_error and "did not allow" in content
    assert text_of(events) == "ok, not written"


async def test_approved_write_runs(tmp_path: Path, side: Side) -> None:
    asked = []

    async def approve(call, tool):
        asked.append(call.name)
        return "allow_once"

    engine, _, _ = setup(tmp_path, {side.name: side.fake}, approver=approve)
    side.fake.queue(
        side.calls(("c1", "write_file", {"path": "x.txt", "content": "hi"})), side.text("written")
    )
    await run(engine, prompt="write", model=side.model, provider=side.name)
    assert asked == ["write_file"]
    assert (tmp_path / "ws" / "x.txt").read_text() == "hi"


async def test_max_steps_reached(tmp_path: Path, side: Side) -> None:
    engine, store, _ = setup(tmp_path, {side.name: side.fake})
    side.fake.queue(*[side.calls((f"c{i}", "now", {})) for i in range(3)])
    events = await run(engine, prompt="loop forever", model=side.model, provider=side.name, max_steps=2)
    assert len(side.fake.chat_requests()) == 2
    assert any(isinstance(e, Notice) and "max_steps=2" in e.text for e in events)
    # the last calls got results saying why they did not run, so the history stays valid for any provider
    thread = store.thread(store.leaf(events[0].conversation_id))
    assert thread[-1].role == "tool" and "max_steps" in thread[-1].tool_results[0].content


async def test_provider_switch_after_tool_use(
    tmp_path: Path, openai_fake, anthropic_fake, ollama_fake
) -> None:
    fakes = {"openai": openai_fake, "anthropic": anthropic_fake, "ollama": ollama_fake}
    engine, _store, _ = setup(tmp_path, fakes)
    openai_fake.queue(
        oai.tool_calls([("call_Xy.9", "read_file", {"path": "notes.txt"})]), oai.text(["pelican"])
    )
    events = await run(engine, prompt="word?", model="gpt-4o-mini")
    conv = events[0].conversation_id
    anthropic_fake.queue(anth.text(["It was pelican."]))
    await run(engine, prompt="again?", conversation_id=conv, provider="anthropic")
    body = anthropic_fake.chat_requests()[0].body
    tool_use = [
        b
        for m in body["messages"]
        if isinstance(m["content"], list)
        for b in m["content"]
        if b["type"] == "tool_use"
    ]
    results = [
        b
        for m in body["messages"]
        if isinstance(m["content"], list)
        for b in m["content"]
        if b["type"] == "tool_result"
    ]
    assert tool_use[0]["name"] == "read_file" and tool_use[0]["input"] == {"path": "notes.txt"}
    assert results[0]["tool_use_id"] == tool_use[0]["id"]  # ids translated consistently
    ollama_fake.queue(oll.text(["Pelican!"]))
    await run(engine, prompt="once more", conversation_id=conv, provider="ollama", model="llama3.2")
    msgs = ollama_fake.chat_requests()[0].body["messages"]
    assert msgs[1]["tool_calls"][0]["function"] == {"name": "read_file", "arguments": {"path": "notes.txt"}}
    assert msgs[2]["role"] == "tool" and "pelican" in msgs[2]["content"]


async def test_agent_list_limits_the_offered_tools(tmp_path: Path, openai_fake) -> None:
    engine, _, _ = setup(tmp_path, {"openai": openai_fake}, agent_tools=["read_file"])
    openai_fake.queue(oai.text(["hi"]))
    await run(engine, prompt="hi", model="gpt-4o-mini")
    assert [t["function"]["name"] for t in openai_fake.chat_requests()[0].body["tools"]] == ["read_file"]


async def test_anthropic_thinking_is_passed_back_before_tool_use(tmp_path: Path, anthropic_fake) -> None:
    anthropic_fake.check_thinking = True  # the fake rejects a tool_use turn without its signed thinking
    engine, _, _ = setup(tmp_path, {"anthropic": anthropic_fake})
    anthropic_fake.queue(
        anth.tool_use(
            [("toolu_1", "read_file", {"path": "notes.txt"})], thinking="Need the file.", signature="sig-9"
        ),
        anth.text(["pelican"]),
    )
    events = await run(engine, prompt="word?", model="claude-sonnet-4-6")
    assert text_of(events) == "pelican"
    assistant = anthropic_fake.chat_requests()[1].body["messages"][1]["content"]
    assert assistant[0] == {"type": "thinking", "thinking": "Need the file.", "signature": "sig-9"}


async def test_stopping_during_a_tool_keeps_the_history_valid(tmp_path: Path, openai_fake) -> None:
    import asyncio

    engine, store, _ = setup(tmp_path, {"openai": openai_fake}, allow=["run_shell"])
    openai_fake.queue(
        oai.tool_calls([("call_s", "run_shell", {"command": "sleep 30; echo late > late.txt"})])
    )
    started = asyncio.Event()
    seen: list = []

    async def turn() -> None:
        async for event in engine.run_turn(TurnRequest(prompt="run it", model="gpt-4o-mini")):
            seen.append(event)
            if type(event).__name__ == "ToolStarted":
                started.set()

    task = asyncio.create_task(turn())
    await asyncio.wait_for(started.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    thread = store.thread(store.leaf(seen[0].conversation_id))
    assert [m.role for m in thread] == ["user", "assistant", "tool"]
    (result,) = thread[-1].tool_results
    assert result.call_id == "call_s" and result.is_error and "interrupted" in result.content
    assert not (tmp_path / "ws" / "late.txt").exists()


async def test_tool_history_continues_on_claude_without_tools(
    tmp_path: Path, openai_fake, anthropic_fake
) -> None:
    """The real API refuses tool blocks in a request that defines no tools: they travel as text."""
    engine, store, _ = setup(tmp_path, {"openai": openai_fake, "anthropic": anthropic_fake})
    openai_fake.queue(oai.tool_calls([("call_1", "read_file", {"path": "notes.txt"})]), oai.text(["pelican"]))
    events = await run(engine, prompt="word?", model="gpt-4o-mini")
    conv = events[0].conversation_id
    bare = Engine(engine.config, store, router=engine.router)  # a face that offers no tools
    ENGINES.append(bare)
    anthropic_fake.queue(anth.text(["It was pelican."]))
    events = await run(bare, prompt="again?", conversation_id=conv, provider="anthropic")
    assert text_of(events) == "It was pelican."
    body = anthropic_fake.chat_requests()[0].body
    texts = [b["text"] for m in body["messages"] for b in m["content"] if b["type"] == "text"]
    assert any("[tool call read_file" in t for t in texts) and any("pelican" in t for t in texts)


async def test_tool_the_model_was_not_offered_does_not_run(tmp_path: Path, openai_fake) -> None:
    engine, _, _ = setup(tmp_path, {"openai": openai_fake}, allow=["write_file"])
    openai_fake.queue(
        oai.tool_calls([("c1", "write_file", {"path": "x.txt", "content": "no"})]), oai.text(["ok"])
    )
    events = await run(engine, prompt="hi", model="gpt-4o-mini", tool_names=["read_file"])
    (finished,) = [e for e in events if isinstance(e, ToolFinished)]
    assert finished.status == "failed" and "no tool named write_file" in finished.result.content
    assert not (tmp_path / "ws" / "x.txt").exists()
