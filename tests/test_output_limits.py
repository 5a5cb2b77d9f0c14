"""Output limits: `ask --max-tokens`, an agent's and a model's `max_output_tokens`, on the wire of
each provider; a reply cut by its limit (each provider's finish reason, mapped to `length`) said on
stderr, in `--json` and in the TUI's label; the embedded model's default cap and repeat penalty."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentchat.core.messages import Message, TextPart, Usage
from agentchat.core.request import ChatRequest
from agentchat.providers.local import DEFAULT_MAX_TOKENS, DEFAULT_REPEAT_PENALTY, output_limits
from agentchat.tui.format import message_label
from tests.conftest import UserEnv
from tests.fakes import anthropic_fake as anth
from tests.fakes import ollama_fake as oll
from tests.fakes import openai_fake as oai

CUT = "agentchat: reply cut at the output limit ({n} tokens); raise it with --max-tokens"


def configure(user_env: UserEnv, provider: str, fake: Any, extra: str = "") -> list[str]:
    """The provider's section; the `ask` arguments that pick it and a model it knows."""
    section = {
        "openai": f'api_key = "sk-test"\nbase_url = "{getattr(fake, "base_url", "")}"',
        "anthropic": f'api_key = "sk-ant-test"\nbase_url = "{fake.root}"',
        "ollama": f'host = "{fake.root}"',
    }[provider]
    user_env.write_config(f"[providers.{provider}]\n{section}\n{extra}")
    model = {"openai": "gpt-4o-mini", "anthropic": "claude-sonnet-4-5", "ollama": "llama3.2"}[provider]
    return ["-p", provider, "-m", model]


def sent_limit(provider: str, body: dict[str, Any]) -> Any:
    """The reply's limit in each provider's words."""
    if provider == "ollama":
        return (body.get("options") or {}).get("num_predict")
    return body.get("max_completion_tokens" if provider == "openai" else "max_tokens")


def cut_reply(provider: str) -> Any:
    """A reply stopped by its limit, as each API says it."""
    if provider == "openai":
        return oai.text(["The list goes on"], usage=oai.usage(20, 40), finish="length")
    if provider == "anthropic":
        return anth.text(
            ["The list goes on"], {"input_tokens": 20, "output_tokens": 40}, stop_reason="max_tokens"
        )
    return oll.text(["The list goes on"], eval_count=40, done_reason="length")


FAKES = ["openai", "anthropic", "ollama"]


@pytest.fixture
def fakes(openai_fake: Any, anthropic_fake: Any, ollama_fake: Any) -> dict[str, Any]:
    return {"openai": openai_fake, "anthropic": anthropic_fake, "ollama": ollama_fake}


@pytest.mark.parametrize("provider", FAKES)
def test_max_tokens_reaches_every_provider_and_a_cut_reply_says_so(
    provider: str, user_env: UserEnv, fakes: dict[str, Any]
) -> None:
    fake = fakes[provider]
    pick = configure(user_env, provider, fake)
    fake.queue(cut_reply(provider), cut_reply(provider))

    plain = user_env.run("ask", *pick, "--max-tokens", "40", "List every prime.")
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout == "The list goes on\n"
    assert CUT.format(n=40) in plain.stderr.splitlines()
    assert sent_limit(provider, fake.chat_requests()[0].body) == 40

    data = json.loads(user_env.run("ask", "--json", *pick, "--max-tokens", "40", "Again.").stdout)
    assert (data["finish_reason"], data["truncated"]) == ("length", True)


def test_a_reply_that_ended_by_itself_is_not_truncated(
    user_env: UserEnv, openai_fake: oai.OpenAIFake
) -> None:
    pick = configure(user_env, "openai", openai_fake)
    openai_fake.queue(oai.text(["Done."]))
    proc = user_env.run("ask", "--json", *pick, "Hi.")
    assert json.loads(proc.stdout)["truncated"] is False and "cut at" not in proc.stderr


def test_max_tokens_must_be_positive(user_env: UserEnv) -> None:
    proc = user_env.run("ask", "--max-tokens", "0", "hi")
    assert (proc.returncode, proc.stderr) == (2, "agentchat: error: --max-tokens must be at least 1\n")


def test_an_agents_limit_applies_unless_the_flag_says_otherwise(
    user_env: UserEnv, anthropic_fake: anth.AnthropicFake
) -> None:
    pick = configure(user_env, "anthropic", anthropic_fake, "[agents.brief]\nmax_output_tokens = 300\n")
    anthropic_fake.queue(anth.text(["a"]), anth.text(["b"]))
    assert user_env.run("ask", "-a", "brief", *pick, "hi").returncode == 0
    assert user_env.run("ask", "-a", "brief", *pick, "--max-tokens", "120", "hi").returncode == 0
    assert [r.body["max_tokens"] for r in anthropic_fake.chat_requests()] == [300, 120]


def test_a_models_configured_limit_is_the_default_and_the_cap(
    user_env: UserEnv, openai_fake: oai.OpenAIFake
) -> None:
    pick = configure(user_env, "openai", openai_fake, '[models."gpt-4o-mini"]\nmax_output_tokens = 500\n')
    openai_fake.queue(oai.text(["a"]), oai.text(["b"]))
    assert user_env.run("ask", *pick, "hi").returncode == 0
    over = user_env.run("ask", *pick, "--max-tokens", "9000", "hi")
    assert over.returncode == 0, over.stderr
    assert [r.body["max_completion_tokens"] for r in openai_fake.chat_requests()] == [500, 500]
    assert "max tokens 9,000 is above what gpt-4o-mini can write (500" in over.stderr


def test_the_model_tables_limit_caps_what_is_asked(
    user_env: UserEnv, anthropic_fake: anth.AnthropicFake
) -> None:
    """claude-3-haiku writes at most 4,096 tokens: asking for more would be the API's 400."""
    configure(user_env, "anthropic", anthropic_fake)
    anthropic_fake.queue(anth.text(["a"]))
    proc = user_env.run(
        "ask", "-p", "anthropic", "-m", "claude-3-haiku-20240307", "--max-tokens", "10000", "hi"
    )
    assert proc.returncode == 0, proc.stderr
    assert anthropic_fake.chat_requests()[0].body["max_tokens"] == 4096
    assert "(4,096, agentchat's model table); asking for 4,096" in proc.stderr


def test_the_tui_label_says_a_reply_was_cut() -> None:
    reply = Message(
        role="assistant",
        parts=[TextPart("The list goes on")],
        provider="anthropic",
        model="claude-sonnet-4-5",
        finish_reason="length",
        usage=Usage(20, 4096),
    )
    assert "cut at the output limit (4,096 tokens)" in message_label(reply, lambda ts: "12:00")
    reply.finish_reason = "stop"
    assert "cut at" not in message_label(reply, lambda ts: "12:00")


def test_the_embedded_model_is_capped_and_penalised_unless_configured() -> None:
    request = ChatRequest("smollm2", [Message.user("list the files here")])
    assert output_limits(request, {}) == {
        "max_tokens": DEFAULT_MAX_TOKENS,
        "repeat_penalty": DEFAULT_REPEAT_PENALTY,
    }
    assert output_limits(request, {"max_tokens": 64, "repeat_penalty": 1.3}) == {
        "max_tokens": 64,
        "repeat_penalty": 1.3,
    }
    request.max_tokens = 10  # --max-tokens wins over the provider's setting
    assert output_limits(request, {"max_tokens": 64})["max_tokens"] == 10
    request.schema = {"type": "object"}  # JSON repeats its punctuation by design
    assert output_limits(request, {})["repeat_penalty"] == 1.0


@pytest.mark.peers  # the real llama.cpp and SmolLM2, with the other llama.cpp tests (.ci/run runs them)
async def test_the_embedded_model_stops_where_it_used_to_loop() -> None:
    """Greedy SmolLM2 without a repeat penalty answers this with a list of French words until the
    limit (1,024 of 1,024 tokens); with it, in about 40 (bench/bench_repetition.py)."""
    from agentchat.core.events import Finish, UsageReport
    from agentchat.core.request import ProviderSettings
    from agentchat.providers.local import LocalProvider, local_available
    from tests.streams import collect

    if not local_available():
        pytest.skip("the embedded model (agentchat[local]) is not installed")
    question = [Message.user("What is the capital of France?")]
    request = ChatRequest("smollm2", question, max_tokens=300, temperature=0)
    events = await collect(LocalProvider(ProviderSettings("local", "local")), request)
    used = next(e.usage for e in events if isinstance(e, UsageReport))
    assert events[-1] == Finish("stop") and used.output_tokens is not None and used.output_tokens < 100


def test_max_tokens_goes_through_a_gateway_and_the_cut_is_said_the_same(
    user_env: UserEnv, openai_fake: oai.OpenAIFake
) -> None:
    from tests.gateway_server import running_gateway
    from tests.test_gateway import configure as gateway_configure

    gateway_configure(user_env, openai_fake)
    openai_fake.queue(cut_reply("openai"))
    with running_gateway(user_env) as url:
        proc = user_env.run(
            "ask", "--via", url, "-m", "gpt-4o-mini", "--max-tokens", "40", "List every prime."
        )
    assert (proc.returncode, proc.stdout) == (0, "The list goes on\n"), proc.stderr
    assert sent_limit("openai", openai_fake.chat_requests()[0].body) == 40
    assert CUT.format(n=40) in proc.stderr.splitlines()


async def test_the_tui_labels_a_reply_cut_at_its_limit(
    user_env: UserEnv, openai_fake: oai.OpenAIFake
) -> None:
    from tests.test_tui_helpers import SIZE, make_app, ready, send, settle, wait_for_text
    from tests.test_tui_helpers import write_config as tui_config

    openai_fake.queue(cut_reply("openai"))
    app = make_app(user_env, tui_config(user_env, openai=openai_fake))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "List every prime.")
        await settle(pilot)
        await wait_for_text(pilot, "cut at the output limit (40 tokens)")


def test_a_cut_reply_names_the_limit_that_applied_not_the_tokens_it_wrote(
    user_env: UserEnv, fakes: dict[str, Any]
) -> None:
    """The reply stopped at 40 tokens (a server counts what it wrote); the limit was 50, or with
    none asked for, the Anthropic adapter's own default."""
    pick = configure(user_env, "openai", fakes["openai"])
    fakes["openai"].queue(cut_reply("openai"))
    proc = user_env.run("ask", *pick, "--max-tokens", "50", "List every prime.")
    assert CUT.format(n=50) in proc.stderr.splitlines(), proc.stderr
    pick = configure(user_env, "anthropic", fakes["anthropic"])
    fakes["anthropic"].queue(cut_reply("anthropic"))
    proc = user_env.run("ask", *pick, "List every prime.")
    assert CUT.format(n="4,096") in proc.stderr.splitlines(), proc.stderr
