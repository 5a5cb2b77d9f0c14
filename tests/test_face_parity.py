"""Face parity: the same agent and prompt through `ask` and through the TUI reach the provider as
the same request body, on every provider, with tools, thinking, a system prompt and a temperature.

Both faces assemble a turn with core.agents.assemble_turn and build their tools with
tools.toolset; this holds them to it where it matters, on the wire. (The TUI once ignored an
agent's thinking_budget that `ask` sent.)
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import UserEnv
from tests.fakes import anthropic_fake as anth
from tests.fakes import ollama_fake as oll
from tests.fakes import openai_fake as oai
from tests.test_tui_helpers import SIZE, make_app, ready, send, settle

PROMPT = "What time is it, and what does notes.md say?"
MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-sonnet-4-6", "ollama": "llama3.2"}


def config_text(user_env: UserEnv, provider: str, fake: Any) -> str:
    endpoint = {
        "openai": f'api_key = "sk-test-parity"\nbase_url = "{getattr(fake, "base_url", "")}"',
        "anthropic": f'api_key = "sk-ant-parity"\nbase_url = "{fake.root}"',
        "ollama": f'host = "{fake.root}"',
    }[provider]
    return f"""workspace = "{user_env.root}"

[providers.{provider}]
{endpoint}

[agents.parity]
system = "Answer exactly."
model = "{MODELS[provider]}"
provider = "{provider}"
tools = ["now", "read_file"]
temperature = 0.3
thinking_budget = 1024
max_output_tokens = 2000
"""


def reply(provider: str) -> Any:
    return {"openai": oai.text, "anthropic": anth.text, "ollama": oll.text}[provider](["Noon."])


@pytest.mark.parametrize("provider", ["openai", "anthropic", "ollama"])
async def test_ask_and_the_tui_send_the_same_request(
    provider: str, user_env: UserEnv, openai_fake: Any, anthropic_fake: Any, ollama_fake: Any
) -> None:
    from agentchat.config import load_config

    fake = {"openai": openai_fake, "anthropic": anthropic_fake, "ollama": ollama_fake}[provider]
    (user_env.root / "notes.md").write_text("Prefer the standard library.\n")
    user_env.write_config(config_text(user_env, provider, fake))
    fake.queue(reply(provider), reply(provider))

    proc = user_env.run("ask", "-a", "parity", PROMPT)
    assert proc.returncode == 0, proc.stderr
    from_ask = fake.chat_requests()[0].body

    app = make_app(user_env, load_config(user_env.config_path), workspace=user_env.root)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.screen.new_chat("parity")  # type: ignore[attr-defined]
        await settle(pilot)
        await send(pilot, PROMPT)
        await settle(pilot)
    from_tui = fake.chat_requests()[1].body

    if provider == "openai":  # two conversations: each has its own prompt-cache key
        assert from_tui.pop("prompt_cache_key") != from_ask.pop("prompt_cache_key")
    assert from_tui == from_ask
    # and what the agent asks for is really in it, in this provider's words
    text = str(from_ask)
    assert "Answer exactly." in text and "read_file" in text and "now" in text
    if provider == "anthropic":
        assert from_ask["thinking"] == {"type": "enabled", "budget_tokens": 1024}
        assert from_ask["max_tokens"] == 2000
    elif provider == "ollama":
        assert from_ask["think"] is True and from_ask["options"]["temperature"] == 0.3
        assert from_ask["options"]["num_predict"] == 2000
    else:
        assert from_ask["temperature"] == 0.3 and from_ask["max_completion_tokens"] == 2000
