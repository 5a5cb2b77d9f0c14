"""A turn no provider could even be asked to take (no key) is refused before anything is stored:
no conversation, nothing in `history`, `ask -c` or `stats`. Once a request was attempted (a key the
server rejects), the prompt is kept with an error reply, as before; a usable fallback takes it."""

from __future__ import annotations

import json

from tests.conftest import UserEnv
from tests.fakes import anthropic_fake as anth
from tests.fakes import openai_fake as oai
from tests.fakes.anthropic_fake import AnthropicFake
from tests.fakes.openai_fake import OpenAIFake

KEY = "sk-test-SECRET-0123456789"


def test_no_key_stores_nothing(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(f'[providers.openai]\nbase_url = "{openai_fake.base_url}"\n')
    proc = user_env.run("ask", "-m", "gpt-4o", "hi")
    assert proc.returncode == 3 and "no API key for openai" in proc.stderr, proc.stderr
    assert openai_fake.chat_requests() == []
    assert user_env.store().list_conversations() == []
    assert user_env.run("history").stdout.strip() in ("", "no conversations yet")
    stats = json.loads(user_env.run("stats", "--json").stdout)
    assert "hi" not in json.dumps(stats) and not stats.get("requests"), stats


def test_a_rejected_key_keeps_the_prompt_with_an_error_reply(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    user_env.write_config(f'[providers.openai]\napi_key = "{KEY}"\nbase_url = "{openai_fake.base_url}"\n')
    openai_fake.queue(oai.error(401, "Incorrect API key provided.", code="invalid_api_key"))
    proc = user_env.run("ask", "-m", "gpt-4o", "hi")
    assert proc.returncode == 3
    store = user_env.store()
    [conversation] = store.list_conversations()
    thread = store.thread(store.leaf(conversation.id))
    assert [m.role for m in thread] == ["user", "assistant"] and thread[1].status == "error"


def test_a_keyless_first_choice_fails_over_to_a_usable_fallback(
    user_env: UserEnv, openai_fake: OpenAIFake, anthropic_fake: AnthropicFake
) -> None:
    user_env.write_config(
        f'[providers.openai]\nbase_url = "{openai_fake.base_url}"\n'
        f'[providers.anthropic]\napi_key = "{KEY}"\nbase_url = "{anthropic_fake.root}"\n'
    )
    anthropic_fake.queue(anth.text(["from claude"]))
    proc = user_env.run("ask", "-m", "gpt-4o", "--fallback", "claude-haiku-4-5", "hi")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "from claude\n" and "falling back to anthropic/claude-haiku-4-5" in proc.stderr
    assert len(user_env.store().list_conversations()) == 1


async def test_the_tui_gives_a_keyless_prompt_back_unstored(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    """The provider bar names openai/gpt-5.4-mini (the config's default) but no key is set."""
    from agentchat.config import load_config
    from tests.test_tui_helpers import make_app, ready, send, settle

    user_env.write_config(
        f'default_model = "gpt-5.4-mini"\n[providers.openai]\nbase_url = "{openai_fake.base_url}"\n'
    )
    app = make_app(user_env, load_config(user_env.config_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await send(pilot, "hello?")
        await settle(pilot)
        assert app.screen.prompt.text == "hello?"  # type: ignore[attr-defined]
        assert app.store.list_conversations() == []
    assert openai_fake.chat_requests() == []
