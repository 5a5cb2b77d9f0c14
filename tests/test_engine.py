"""The engine in-process: real SDKs, fake servers, a real SQLite file."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from agentchat.config import Config
from agentchat.core.engine import Engine
from agentchat.core.errors import BudgetError, RateLimitError, UnavailableError
from agentchat.core.events import AssistantFinished, Notice, Retrying
from agentchat.core.routing import ModelCache, Router
from agentchat.core.store import Store
from agentchat.core.turn import TurnRequest
from tests.branches import children
from tests.fakes import anthropic_fake as anth
from tests.fakes import ollama_fake as oll
from tests.fakes import openai_fake as oai
from tests.streams import text_of

KEY = "sk-engine-test-key"


def make_config(
    tmp_path: Path, openai=None, anthropic=None, ollama=None, extra: dict | None = None
) -> Config:
    providers: dict = {"local": {"enabled": False}}
    if openai is not None:
        providers["openai"] = {"api_key": KEY, "base_url": openai.base_url}
    if anthropic is not None:
        providers["anthropic"] = {"api_key": KEY, "base_url": anthropic.root}
    if ollama is not None:
        providers["ollama"] = {"host": ollama.root, "models": ["llama3.2"]}
    data = {"providers": providers, "retry": {"max_attempts": 2, "base_delay": 0.001, "max_delay": 0.002}}
    data.update(extra or {})
    return Config(tmp_path / "config.toml", data)


ENGINES: list[Engine] = []


@pytest.fixture(autouse=True)
async def close_engines():
    """Every engine a test builds is closed, so no client socket outlives its test."""
    yield
    while ENGINES:
        await ENGINES.pop().aclose()


def make_engine(tmp_path: Path, config: Config) -> tuple[Engine, Store]:
    store = Store(tmp_path / "history.db")
    router = Router(config, cache=ModelCache(tmp_path / "models.json"), local_available=lambda: False)
    engine = Engine(config, store, router=router)
    ENGINES.append(engine)
    return engine, store


async def run(engine: Engine, **kwargs) -> list:
    return [event async for event in engine.run_turn(TurnRequest(**kwargs))]


async def test_conversation_moves_openai_to_claude_to_ollama_with_full_history(
    tmp_path: Path, openai_fake, anthropic_fake, ollama_fake
) -> None:
    config = make_config(tmp_path, openai_fake, anthropic_fake, ollama_fake)
    engine, store = make_engine(tmp_path, config)
    openai_fake.queue(oai.text(["Paris", " is the capital."]))
    events = await run(engine, prompt="Capital of France?", model="gpt-4o-mini", system="Be brief.")
    conv = events[0].conversation_id
    assert text_of(events) == "Paris is the capital."

    anthropic_fake.queue(
        anth.text(["About 2.1 million."], thinking="Population of Paris.", signature="sig-A")
    )
    events = await run(
        engine, prompt="Population?", conversation_id=conv, provider="anthropic", system="Be brief."
    )
    sent = anthropic_fake.chat_requests()[0].body
    assert sent["system"][0]["text"] == "Be brief."  # a block: it carries a cache breakpoint
    assert [(m["role"], _anth_text(m)) for m in sent["messages"]] == [
        ("user", "Capital of France?"),
        ("assistant", "Paris is the capital."),
        ("user", "Population?"),
    ]

    ollama_fake.queue(oll.text(["Seine."]))
    events = await run(engine, prompt="River?", conversation_id=conv, provider="ollama", model="llama3.2")
    sent = ollama_fake.chat_requests()[0].body
    assert [(m["role"], m.get("content")) for m in sent["messages"]] == [
        ("system", "Be brief."),  # the conversation keeps its system prompt
        ("user", "Capital of France?"),
        ("assistant", "Paris is the capital."),
        ("user", "Population?"),
        ("assistant", "About 2.1 million."),
        ("user", "River?"),
    ]
    assert sent["messages"][4].get("thinking") == "Population of Paris."  # thinking travels where it can
    thread = store.thread(store.leaf(conv))
    assert [(m.provider, m.model) for m in thread if m.role == "assistant"] == [
        ("openai", "gpt-4o-mini"),
        ("anthropic", "claude-sonnet-4-6"),
        ("ollama", "llama3.2"),
    ]
    signed = thread[3].parts[0]
    assert signed.signature == "sig-A"  # the signature is stored for the next Claude request
    await engine.aclose()


def _anth_text(message: dict) -> str:
    content = message["content"]
    if isinstance(content, str):
        return content
    return "".join(b.get("text", "") for b in content if b["type"] == "text")


async def test_retry_after_is_honoured_then_success(tmp_path: Path, openai_fake) -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    config = make_config(tmp_path, openai_fake)
    engine, _store = make_engine(tmp_path, config)
    engine.sleep = fake_sleep
    openai_fake.queue(oai.error(429, "slow down", headers={"retry-after": "1.5"}), oai.text(["ok"]))
    events = await run(engine, prompt="hi", model="gpt-4o-mini")
    assert text_of(events) == "ok"
    assert slept == [1.5]
    assert any(isinstance(e, Retrying) and e.delay_s == 1.5 for e in events)
    assert [r.header("x-stainless-retry-count") for r in openai_fake.chat_requests()] == [
        "0",
        "0",
    ]  # SDK retries off


async def test_server_errors_fail_over_to_the_next_provider(
    tmp_path: Path, openai_fake, anthropic_fake
) -> None:
    config = make_config(tmp_path, openai_fake, anthropic_fake)
    engine, store = make_engine(tmp_path, config)
    openai_fake.queue(oai.error(500, "down"), oai.error(500, "down"))
    anthropic_fake.queue(anth.text(["rescued"]))
    events = await run(engine, prompt="hi", model="gpt-4o-mini", fallbacks=["claude-haiku-4-5"])
    assert text_of(events) == "rescued"
    notices = [e.text for e in events if isinstance(e, Notice)]
    assert any("falling back to anthropic/claude-haiku-4-5" in n for n in notices)
    finished = [e for e in events if isinstance(e, AssistantFinished)][-1]
    stored = store.get_message(finished.message_id)
    assert (stored.provider, stored.model) == ("anthropic", "claude-haiku-4-5")
    assert len(openai_fake.chat_requests()) == 2


async def test_missing_key_fails_over_from_the_config_chain(
    tmp_path: Path, anthropic_fake, ollama_fake
) -> None:
    config = make_config(
        tmp_path,
        anthropic=anthropic_fake,
        ollama=ollama_fake,
        extra={"failover": {"chain": [{"provider": "ollama", "model": "llama3.2"}]}},
    )
    config.data["providers"]["anthropic"].pop("api_key")
    engine, _store = make_engine(tmp_path, config)
    ollama_fake.queue(oll.text(["from ollama"]))
    events = await run(engine, prompt="hi", model="claude-haiku-4-5")
    assert text_of(events) == "from ollama"
    assert anthropic_fake.chat_requests() == []


async def test_all_attempts_fail_stores_prompt_and_error(tmp_path: Path, openai_fake) -> None:
    config = make_config(tmp_path, openai_fake)
    engine, store = make_engine(tmp_path, config)
    openai_fake.queue(oai.error(503, "overloaded"), oai.error(503, "overloaded"))
    with pytest.raises(UnavailableError):
        await run(engine, prompt="remember me", model="gpt-4o-mini")
    conv = store.most_recent_conversation()
    thread = store.thread(store.leaf(conv))
    assert thread[0].text == "remember me"
    assert thread[1].status == "error" and "overloaded" in thread[1].error


async def test_rate_limited_error_class_after_retries(tmp_path: Path, openai_fake) -> None:
    config = make_config(tmp_path, openai_fake)
    engine, _ = make_engine(tmp_path, config)
    limited = oai.error(429, "limit", headers={"retry-after-ms": "1"})
    openai_fake.queue(limited, limited)
    with pytest.raises(RateLimitError):
        await run(engine, prompt="x", model="gpt-4o-mini")


async def test_regenerate_makes_a_sibling_branch(tmp_path: Path, openai_fake) -> None:
    config = make_config(tmp_path, openai_fake)
    engine, store = make_engine(tmp_path, config)
    openai_fake.queue(oai.text(["first"]), oai.text(["second"]))
    events = await run(engine, prompt="q", model="gpt-4o-mini")
    conv, user_id = events[0].conversation_id, events[0].user_message_id
    await run(engine, prompt=None, conversation_id=conv, parent_id=user_id, model="gpt-4o-mini")
    replies = children(store, user_id)
    assert sorted(m.text for m in replies) == ["first", "second"]
    assert store.get_message(store.leaf(conv)).text == "second"
    assert len(openai_fake.chat_requests()[1].body["messages"]) == 1  # the old reply is not sent again


async def test_max_cost_stops_before_the_request(tmp_path: Path, openai_fake) -> None:
    config = make_config(tmp_path, openai_fake)
    engine, store = make_engine(tmp_path, config)
    with pytest.raises(BudgetError, match="exceeds --max-cost"):
        await run(engine, prompt="x" * 40_000, model="gpt-4o", max_cost=0.001)
    assert openai_fake.chat_requests() == []
    assert store.thread(store.leaf(store.most_recent_conversation()))[0].text.startswith("xxx")  # prompt kept


async def test_monthly_budget_reached_stops_before_the_request(tmp_path: Path, openai_fake) -> None:
    config = make_config(tmp_path, openai_fake, extra={"budget": {"monthly_usd": 0.00001}})
    engine, _store = make_engine(tmp_path, config)
    openai_fake.queue(oai.text(["costly"], usage=oai.usage(prompt=1000, completion=1000)))
    await run(engine, prompt="first", model="gpt-4o")  # spends about $0.0125
    with pytest.raises(BudgetError, match="monthly budget reached"):
        await run(engine, prompt="second", model="gpt-4o")
    assert len(openai_fake.chat_requests()) == 1


@pytest.mark.parametrize("side", ["openai", "anthropic"])
async def test_provider_rate_limit_headers_hold_the_next_request(
    tmp_path: Path, side, openai_fake, anthropic_fake
) -> None:
    from agentchat.core.ledger import Ledger

    config = make_config(tmp_path, openai_fake, anthropic_fake)
    engine, _ = make_engine(tmp_path, config)
    if side == "openai":
        reply = oai.text(["ok"])
        reply.headers = {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "30s"}
        openai_fake.queue(reply)
        model = "gpt-4o-mini"
    else:
        reply = anth.text(["ok"])
        reply.headers = {
            "anthropic-ratelimit-requests-remaining": "0",
            "anthropic-ratelimit-requests-reset": time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 30)
            ),
        }
        anthropic_fake.queue(reply)
        model = "claude-haiku-4-5"
    await run(engine, prompt="hi", model=model)
    # the next request waits for the reset, in this process and in every other (the block is in
    # this test's own history database, so later tests do not wait)
    with Store(tmp_path / "history.db") as other_process:
        assert 25 < Ledger(other_process).blocked_until(side) - time.time() <= 31
