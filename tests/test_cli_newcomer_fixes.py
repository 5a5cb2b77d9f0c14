"""Defects a newcomer found by trying the CLI: each a clear one-line error with the right exit code,
or the right output, instead of a surprise."""

from __future__ import annotations

import json

from tests.conftest import UserEnv
from tests.fakes import openai_fake as oai
from tests.fakes.openai_fake import OpenAIFake

KEY = "sk-test-newcomer-0123456789"


def config(fake: OpenAIFake, extra: str = "") -> str:
    return f'[providers.openai]\napi_key = "{KEY}"\nbase_url = "{fake.base_url}"\n{extra}'


def test_no_log_json_reports_no_ids_rather_than_another_conversations(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    user_env.write_config(config(openai_fake))
    openai_fake.queue(oai.text(["stored"]), oai.text(["scratch"]), oai.text(["scratch again"]))
    assert user_env.run("ask", "-m", "gpt-4o-mini", "keep this").returncode == 0
    for extra in ((), ("-c",)):
        proc = user_env.run("ask", "-m", "gpt-4o-mini", "--no-log", "--json", *extra, "hi")
        assert proc.returncode == 0, proc.stderr
        data = json.loads(proc.stdout)
        assert (data["conversation_id"], data["message_id"]) == (None, None), extra
    with user_env.store() as store:
        assert len(store.list_conversations()) == 1


def test_a_missing_config_named_by_the_environment_is_an_error(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    missing = user_env.root / "nope.toml"
    user_env.env["AGENTCHAT_CONFIG"] = str(missing)
    for args in (("ask", "hi"), ("history",), ("stats",)):
        proc = user_env.run(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert (
            proc.stderr == f"agentchat: error: config file not found: {missing} (named by AGENTCHAT_CONFIG)\n"
        )
    assert openai_fake.chat_requests() == []
    proc = user_env.run("keys", "set", "openai", input="sk-new-key-123456\n")  # how it gets made
    assert proc.returncode == 0, proc.stderr
    assert missing.exists()
