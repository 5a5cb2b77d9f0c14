"""`ask --via URL -u` and `--json` show the context meter as a direct `ask` does: the gateway's
`agentchat` extension carries context_tokens and context_window."""

from __future__ import annotations

import json
import re

from tests.conftest import UserEnv
from tests.fakes import openai_fake as oai
from tests.fakes.openai_fake import OpenAIFake
from tests.gateway_server import running_gateway
from tests.test_gateway import configure


def context_of(stderr: str) -> str:
    found = re.search(r"context [\d,]+/[\d,?]+", stderr)
    assert found, stderr
    return found.group(0)


def test_via_shows_the_same_context_as_a_direct_ask(openai_fake: OpenAIFake, user_env: UserEnv) -> None:
    configure(user_env, openai_fake)
    for _ in range(2):
        openai_fake.queue(
            oai.text(["Hello"], usage=oai.usage(31, 9)), oai.text(["Hello"], usage=oai.usage(31, 9))
        )
    args = ("-m", "gpt-4o-mini", "Hi")
    direct = user_env.run("ask", "-u", *args)
    direct_json = json.loads(user_env.run("ask", "--json", "--no-stream", *args).stdout)
    with running_gateway(user_env) as url:
        via = user_env.run("ask", "--via", url, "-u", *args)
        via_json = json.loads(user_env.run("ask", "--via", url, "--json", "--no-stream", *args).stdout)
    assert direct.returncode == via.returncode == 0, via.stderr
    assert context_of(direct.stderr) == context_of(via.stderr) == "context 40/128,000"
    assert via_json["context_window"] == direct_json["context_window"] == 128_000
    assert via_json["context_tokens"] == direct_json["context_tokens"] == 40
