"""Prompt caching, automatic: Anthropic's cache breakpoints on the wire (checked against the SDK's
own param types), OpenAI's prompt_cache_key, cache reads and writes reported by the fakes as the
real APIs report them, priced (writes above input, reads below), and shown by `ask -u`, `--json`
and `agentchat stats`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import TypeAdapter

from agentchat.core.caching import CachePolicy
from agentchat.core.messages import Message, TextPart, ToolCallPart, ToolResultPart, Usage
from agentchat.core.pricing import cost
from agentchat.core.request import ChatRequest, ProviderSettings, ToolSpec
from agentchat.providers.anthropic import build_params
from tests.conftest import UserEnv
from tests.fakes import anthropic_fake as anth
from tests.fakes import openai_fake as oai
from tests.fakes.prompt_cache import AnthropicCache, OpenAICache

KEY = "sk-ant-api03-caching-test-key"
MODEL = "claude-sonnet-4-5"  # $3 in, $15 out, reads $0.30, writes $3.75 (5 minutes) or $6 (1 hour)
LONG = "You review Python code for a small team and answer in short, plain sentences. " * 60
TOOLS = [ToolSpec("now", "The time"), ToolSpec("read_file", "Read a file")]
SETTINGS = ProviderSettings(name="anthropic", type="anthropic", api_key=KEY)


def history() -> list[Message]:
    """Two user turns around a tool round trip, then the newest prompt."""
    call = ToolCallPart("toolu_1", "now", {})
    return [
        Message.user("What time is it?"),
        Message(role="assistant", parts=[TextPart("Checking."), call]),
        Message(role="tool", parts=[ToolResultPart("toolu_1", "12:00", name="now")]),
        Message(role="assistant", parts=[TextPart("Noon.")]),
        Message.user("And in Tokyo?"),
    ]


def marked(params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every block that carries cache_control, in prompt order (tools, system, messages)."""
    system = params["system"] if isinstance(params.get("system"), list) else []
    blocks = [*params.get("tools", []), *system]
    blocks += [b for m in params["messages"] for b in m["content"]]
    return [b for b in blocks if "cache_control" in b]


def test_breakpoints_on_tools_system_and_the_last_two_user_turns() -> None:
    from anthropic.types import TextBlockParam, ToolParam, ToolResultBlockParam

    request = ChatRequest(MODEL, history(), system=LONG, tools=TOOLS, cache=CachePolicy())
    params = build_params(request, SETTINGS)

    control = {"type": "ephemeral"}
    assert "cache_control" not in params["tools"][0]
    assert params["tools"][-1]["cache_control"] == control
    assert params["system"] == [{"type": "text", "text": LONG, "cache_control": control}]
    first_user, tool_turn, last_user = [m["content"] for m in params["messages"] if m["role"] == "user"]
    assert all("cache_control" not in b for b in first_user)  # older turns are read through later marks
    assert tool_turn[-1] == {"type": "tool_result", "tool_use_id": "toolu_1", "content": "12:00"} | {
        "cache_control": control
    }
    assert last_user[-1] == {"type": "text", "text": "And in Tokyo?", "cache_control": control}
    assert len(marked(params)) == 4  # the API's limit
    # each marked block is what the installed SDK's own types accept, key for key
    types = {"text": TextBlockParam, "tool_result": ToolResultBlockParam}
    for block in marked(params):
        adapter: TypeAdapter[Any] = TypeAdapter(types.get(block.get("type", ""), ToolParam))
        assert adapter.validate_python(block) == block


def test_a_one_hour_ttl_is_spelled_out_and_caching_off_marks_nothing() -> None:
    from anthropic.types import CacheControlEphemeralParam

    hour = build_params(ChatRequest(MODEL, history(), system=LONG, cache=CachePolicy(ttl="1h")), SETTINGS)
    assert {json.dumps(b["cache_control"]) for b in marked(hour)} == {'{"type": "ephemeral", "ttl": "1h"}'}
    assert TypeAdapter(CacheControlEphemeralParam).validate_python(marked(hour)[0]["cache_control"])
    off = build_params(ChatRequest(MODEL, history(), system=LONG, cache=CachePolicy(enabled=False)), SETTINGS)
    assert "cache_control" not in json.dumps(off) and off["system"] == LONG


def test_cost_prices_cache_writes_above_input_and_reads_below() -> None:
    usage = Usage(input_tokens=10_000, output_tokens=100, cached_tokens=6_000, cache_write_tokens=3_000)
    plain = 1_000 * 3.0 + 100 * 15.0
    assert cost(MODEL, usage) == pytest.approx((plain + 6_000 * 0.30 + 3_000 * 3.75) / 1e6)
    assert cost(MODEL, usage, cache_ttl="1h") == pytest.approx((plain + 6_000 * 0.30 + 3_000 * 6.0) / 1e6)
    # OpenAI: cached input at its discounted price, no writes
    assert cost("gpt-4o", Usage(2_000, 10, cached_tokens=1_024)) == pytest.approx(
        (976 * 2.5 + 1_024 * 1.25 + 10 * 10.0) / 1e6
    )
    # a configured price may give the cache rates too
    pricing = {"my-model": {"input": 1.0, "output": 2.0, "cached_input": 0.5, "cache_write": 4.0}}
    assert cost("my-model", Usage(100, 0, cached_tokens=20, cache_write_tokens=30), pricing) == pytest.approx(
        (50 * 1.0 + 20 * 0.5 + 30 * 4.0) / 1e6
    )


# --- end to end: ask, the fakes' caches, stats ----------------------------------------------------


def anthropic_setup(user_env: UserEnv, fake: anth.AnthropicFake, extra: str = "") -> AnthropicCache:
    user_env.write_config(
        f'default_model = "{MODEL}"\n[providers.anthropic]\napi_key = "{KEY}"\nbase_url = "{fake.root}"\n'
        + extra
    )
    fake.prompt_cache = AnthropicCache()
    return fake.prompt_cache


def ask_json(user_env: UserEnv, *args: str) -> dict[str, Any]:
    proc = user_env.run("ask", "--json", *args)
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


def expected_saving(read: int, written: int, write_rate: float = 3.75) -> float:
    """Without the cache every prompt token is $3/M; a read costs $0.30/M, a write `write_rate`."""
    return (read * (3.0 - 0.30) - written * (write_rate - 3.0)) / 1e6


def test_a_conversation_reads_what_its_last_turn_wrote_and_says_what_it_saved(
    user_env: UserEnv, anthropic_fake: anth.AnthropicFake
) -> None:
    anthropic_setup(user_env, anthropic_fake)
    anthropic_fake.queue(anth.text(["First."]), anth.text(["Second."]), anth.text(["Third."]))

    first = ask_json(user_env, "-s", LONG, "Review this.")
    assert first["cache_read_tokens"] == 0 and first["cache_write_tokens"] > 1024
    assert first["saved_usd"] == pytest.approx(expected_saving(0, first["cache_write_tokens"]))
    assert first["saved_usd"] < 0  # writing costs more than plain input, once

    second = ask_json(user_env, "-c", "And now?")
    assert second["cache_read_tokens"] == first["cache_write_tokens"]  # the whole previous prompt
    written = second["cache_write_tokens"]
    assert 0 < written < 100  # only the turn added since
    assert second["saved_usd"] == pytest.approx(expected_saving(second["cache_read_tokens"], written))
    inp, out = second["usage"]["input_tokens"], second["usage"]["output_tokens"]
    read = second["cache_read_tokens"]
    assert second["cost"] == pytest.approx(
        ((inp - read - written) * 3.0 + read * 0.30 + written * 3.75 + out * 15.0) / 1e6
    )

    third = user_env.run("ask", "-u", "-c", "Last one.")
    assert third.returncode == 0, third.stderr
    assert f"cache read {second['cache_read_tokens'] + written} write " in third.stderr
    assert " saved $" in third.stderr

    stats = user_env.run("stats", "--json")
    (row,) = json.loads(stats.stdout)["groups"]
    assert row["saved_usd"] > 0 and row["cache_write_tokens"] > first["cache_write_tokens"]
    table = user_env.run("stats")
    assert "saved by caching" in table.stdout and f"{row['saved_usd']:.4f}" in table.stdout


def test_a_one_hour_ttl_is_sent_and_priced_at_twice_the_input(
    user_env: UserEnv, anthropic_fake: anth.AnthropicFake
) -> None:
    anthropic_setup(user_env, anthropic_fake, '[caching]\nttl = "1h"\n')
    anthropic_fake.queue(anth.text(["Kept an hour."]))

    reply = ask_json(user_env, "-s", LONG, "Review this.")

    body = anthropic_fake.chat_requests()[0].body
    assert body["system"][0]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}
    assert reply["saved_usd"] == pytest.approx(expected_saving(0, reply["cache_write_tokens"], 6.0))


def test_caching_off_sends_no_breakpoints_and_saves_nothing(
    user_env: UserEnv, anthropic_fake: anth.AnthropicFake
) -> None:
    anthropic_setup(user_env, anthropic_fake, "[caching]\nenabled = false\n")
    anthropic_fake.queue(anth.text(["One."]), anth.text(["Two."]))

    ask_json(user_env, "-s", LONG, "Review this.")
    second = ask_json(user_env, "-c", "And now?")

    assert all("cache_control" not in json.dumps(r.body) for r in anthropic_fake.chat_requests())
    assert (second["cache_read_tokens"], second["cache_write_tokens"], second["saved_usd"]) == (0, 0, 0.0)


def test_a_bad_caching_setting_is_one_line_and_exit_2(user_env: UserEnv) -> None:
    user_env.write_config('[caching]\nttl = "2h"\n')
    proc = user_env.run("ask", "hi")
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith('caching.ttl must be "5m" or "1h", not \'2h\'')
    assert "Traceback" not in proc.stderr


def test_openai_gets_one_prompt_cache_key_per_conversation(
    user_env: UserEnv, openai_fake: oai.OpenAIFake
) -> None:
    """The key goes to OpenAI's own endpoint only, the same for every turn of a conversation; the
    automatic cache's reads are priced at gpt-4o's cached-input rate."""
    user_env.write_config(
        f'default_model = "gpt-4o"\n[providers.openai]\napi_key = "sk-test"\nbase_url = "{openai_fake.base_url}"\n'
        f'[providers.compatible]\ntype = "openai"\nbase_url = "{openai_fake.base_url}"\n'
    )
    openai_fake.prompt_cache = OpenAICache()
    openai_fake.queue(*(oai.text([word]) for word in ("One.", "Two.", "Three.", "Four.")))

    ask_json(user_env, "-s", LONG, "Review this.")
    second = ask_json(user_env, "-c", "And now?")
    ask_json(user_env, "-s", LONG, "Another conversation.")
    ask_json(user_env, "-p", "compatible", "-m", "gpt-4o", "Elsewhere.")

    keys = [r.body.get("prompt_cache_key") for r in openai_fake.chat_requests()]
    assert keys[0] and keys[0] == keys[1] and keys[2] not in (None, keys[0])
    assert keys[3] is None  # a compatible server may refuse a field it does not know
    read = second["cache_read_tokens"]
    assert read >= 1024 and second["cache_write_tokens"] is None  # OpenAI reports no writes
    assert second["saved_usd"] == pytest.approx(read * (2.5 - 1.25) / 1e6)
