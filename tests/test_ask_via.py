"""`agentchat ask --via URL` and `[gateway] url`: the turn goes to a running gateway, and stdout,
stderr and the exit codes are what `ask` gives without it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import UserEnv
from tests.fakes import openai_fake as oai
from tests.fakes.openai_fake import OpenAIFake
from tests.gateway_server import running_gateway
from tests.loopback import free_port
from tests.test_gateway import configure, rows
from tests.test_import_hygiene import SDKS, packages_of_cli_run


def test_ask_via_prints_the_answer_and_the_gateway_stores_it(
    openai_fake: OpenAIFake, user_env: UserEnv
) -> None:
    configure(user_env, openai_fake)
    openai_fake.queue(oai.text(["Hello", " via"], usage=oai.usage(9, 2)), oai.text(["{json}"]))
    with running_gateway(user_env) as url:
        plain = user_env.run("ask", "--via", url, "-m", "gpt-4o-mini", "-u", "-s", "Terse.", "Hi")
        as_json = user_env.run(
            "ask", "--via", f"{url}/v1", "--json", "--no-stream", "-m", "gpt-4o-mini", "Hi"
        )
    assert (plain.returncode, plain.stdout) == (0, "Hello via\n"), plain.stderr
    assert plain.stderr.startswith("openai/gpt-4o-mini · tokens in 9 out 2")  # -u, as without --via
    sent = openai_fake.chat_requests()[0].body["messages"]
    assert sent == [{"role": "system", "content": "Terse."}, {"role": "user", "content": "Hi"}]
    payload = json.loads(as_json.stdout)
    assert payload["text"] == "{json}" and payload["provider"] == "openai" and payload["status"] == "complete"
    stored = rows(user_env, "SELECT conversation_id, id FROM messages WHERE role = 'assistant' ORDER BY id")
    assert stored[-1] == (payload["conversation_id"], payload["message_id"])
    assert len({conv for conv, _ in stored}) == 2  # each ask a conversation of its own, as without --via


def test_ask_via_exits_with_the_code_of_the_gateways_error(
    openai_fake: OpenAIFake, user_env: UserEnv
) -> None:
    configure(user_env, openai_fake)
    openai_fake.queue(oai.error(401, "Incorrect API key"), oai.text([""], finish="content_filter"))
    with running_gateway(user_env) as url:
        unknown = user_env.run("ask", "--via", url, "-m", "nonesuch", "Hi")
        auth = user_env.run("ask", "--via", url, "-m", "gpt-4o-mini", "Hi")
        empty = user_env.run("ask", "--via", url, "-m", "gpt-4o-mini", "Hi")
        files = user_env.run("ask", "--via", url, "-f", "-", "Hi", input="data")
    assert (unknown.returncode, unknown.stdout) == (2, "")
    assert (
        unknown.stderr.startswith("agentchat: error: unknown model 'nonesuch'")
        and unknown.stderr.count("\n") == 1
    )
    assert auth.returncode == 3 and "Incorrect API key" in auth.stderr
    assert empty.returncode == 4 and "empty reply" in empty.stderr
    assert files.returncode == 2 and "-f/--file" in files.stderr


def test_a_gateway_that_is_not_running(openai_fake: OpenAIFake, user_env: UserEnv) -> None:
    """--via: exit 5 and what to do; [gateway] url: the usual path, the answer all the same."""
    url = f"http://127.0.0.1:{free_port()}"
    configure(user_env, openai_fake)
    refused = user_env.run("ask", "--via", url, "-m", "gpt-4o-mini", "Hi")
    assert refused.returncode == 5 and "agentchat serve" in refused.stderr and refused.stdout == ""
    configure(user_env, openai_fake, f'[gateway]\nurl = "{url}"\n')
    openai_fake.queue(oai.text(["direct"]))
    direct = user_env.run("ask", "-m", "gpt-4o-mini", "Hi")
    assert (direct.returncode, direct.stdout, direct.stderr) == (0, "direct\n", "")


def test_gateway_url_and_token_from_the_config(openai_fake: OpenAIFake, user_env: UserEnv) -> None:
    openai_fake.queue(oai.text(["with a token"]))
    configure(user_env, openai_fake)
    with running_gateway(user_env, token="tok-abc") as url:
        configure(user_env, openai_fake, f'[gateway]\nurl = "{url}"\ntoken = "tok-abc"\n')
        proc = user_env.run("ask", "-m", "gpt-4o-mini", "Hi")
    assert (proc.returncode, proc.stdout) == (0, "with a token\n"), proc.stderr


def test_ask_via_loads_no_sdk(openai_fake: OpenAIFake, user_env: UserEnv) -> None:
    configure(user_env, openai_fake)
    openai_fake.queue(oai.text(["warm"]))
    with running_gateway(user_env) as url:
        proc, loaded = packages_of_cli_run(user_env.env, "ask", "--via", url, "-m", "gpt-4o-mini", "Hi")
    assert proc.returncode == 0 and proc.stdout == "warm\n"
    assert not loaded & (SDKS | {"httpx", "starlette", "uvicorn", "sqlite3"})
    assert not Path(user_env.root, ":memory:").exists()
