"""Other clients of `agentchat serve`: the real `anthropic` SDK on /v1/messages (any provider behind
it), the real `llm` CLI through an OpenAI-compatible model entry, `agentchat serve` itself as a
command (its refusals, its generated token), and a client that hangs up mid-stream."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import anthropic
import httpx
import pytest

from agentchat.config import load_config
from agentchat.gateway.server import make_server
from tests.conftest import UserEnv
from tests.fakes import anthropic_fake as ant
from tests.fakes import openai_fake as oai
from tests.fakes.anthropic_fake import AnthropicFake
from tests.fakes.openai_fake import OpenAIFake
from tests.gateway_server import running_gateway
from tests.test_gateway import KEY, configure, rows

WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def claude(url: str, token: str = "unused") -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=url, api_key=token, max_retries=0)


def test_anthropic_clients_reach_an_openai_provider(openai_fake: OpenAIFake, user_env: UserEnv) -> None:
    configure(user_env, openai_fake)
    openai_fake.queue(oai.text(["Hi from ", "GPT"], usage=oai.usage(11, 4)), oai.text(["streamed"]))
    with running_gateway(user_env) as url:
        c = claude(url)
        reply = c.messages.create(
            model="gpt-4o-mini",
            max_tokens=100,
            system="Be brief.",
            messages=[{"role": "user", "content": "Hello"}],
        )
        assert [b.text for b in reply.content if b.type == "text"] == ["Hi from GPT"]
        assert (reply.stop_reason, reply.usage.input_tokens, reply.usage.output_tokens) == ("end_turn", 11, 4)
        with c.messages.stream(
            model="gpt-4o-mini", max_tokens=100, messages=[{"role": "user", "content": "Again"}]
        ) as stream:
            assert "".join(stream.text_stream) == "streamed"
            final = stream.get_final_message()
        assert final.stop_reason == "end_turn"
    first = openai_fake.chat_requests()[0].body
    assert first["messages"][0] == {"role": "system", "content": "Be brief."}
    assert first.get("max_completion_tokens", first.get("max_tokens")) == 100


def test_anthropic_tool_use_round_trip(anthropic_fake: AnthropicFake, user_env: UserEnv) -> None:
    user_env.write_config(f'[providers.anthropic]\napi_key = "{KEY}"\nbase_url = "{anthropic_fake.root}"\n')
    anthropic_fake.queue(
        ant.tool_use([("toolu_1", "get_weather", {"city": "Oslo"})], text="Checking."),
        ant.text(["Cold in Oslo."]),
    )
    with running_gateway(user_env) as url:
        c = claude(url)
        messages: list[Any] = [{"role": "user", "content": "Weather in Oslo?"}]
        with c.messages.stream(
            model="claude-sonnet-4-6", max_tokens=200, tools=[WEATHER], messages=messages
        ) as stream:
            first = stream.get_final_message()
        assert first.stop_reason == "tool_use"
        [call] = [b for b in first.content if b.type == "tool_use"]
        assert (call.id, call.name, call.input) == ("toolu_1", "get_weather", {"city": "Oslo"})
        messages += [
            {"role": "assistant", "content": [b.model_dump() for b in first.content]},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "-5C"}],
            },
        ]
        second = c.messages.create(
            model="claude-sonnet-4-6", max_tokens=200, tools=[WEATHER], messages=messages
        )
    assert [b.text for b in second.content if b.type == "text"] == ["Cold in Oslo."]
    sent = anthropic_fake.chat_requests()[-1].body["messages"]
    assert sent[-1]["content"][0]["type"] == "tool_result" and sent[-1]["content"][0]["content"] == "-5C"
    assert rows(user_env, "SELECT role FROM messages ORDER BY id") == [
        ("user",),
        ("assistant",),
        ("tool",),
        ("assistant",),
    ]


def test_anthropic_errors_have_anthropics_shape(openai_fake: OpenAIFake, user_env: UserEnv) -> None:
    configure(user_env, openai_fake)
    with running_gateway(user_env, token="tok-123") as url:
        with pytest.raises(anthropic.AuthenticationError):
            claude(url, "wrong").messages.create(
                model="gpt-4o-mini", max_tokens=10, messages=[{"role": "user", "content": "Hi"}]
            )
        with pytest.raises(anthropic.NotFoundError, match="unknown model"):
            claude(url, "tok-123").messages.create(
                model="nonesuch", max_tokens=10, messages=[{"role": "user", "content": "Hi"}]
            )


def test_a_client_hanging_up_leaves_the_reply_interrupted(openai_fake: OpenAIFake, user_env: UserEnv) -> None:
    configure(user_env, openai_fake)
    hold = threading.Event()
    reply = oai.text(["Once", " upon", " a time"])
    reply.hold, reply.hold_after = hold, 2
    openai_fake.queue(reply)
    try:
        with running_gateway(user_env) as url:
            body = {
                "model": "gpt-4o-mini",
                "stream": True,
                "messages": [{"role": "user", "content": "story"}],
            }
            with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, timeout=10) as response:
                for line in response.iter_lines():
                    if "Once" in line:
                        break  # the first token arrived: hang up
            status = None
            for _ in range(200):  # the server notices the hang-up on its loop
                status = rows(user_env, "SELECT status FROM messages WHERE role = 'assistant'")
                if status == [("interrupted",)]:
                    break
                threading.Event().wait(0.02)
            assert status == [("interrupted",)]
    finally:
        hold.set()


def test_serve_refuses_a_public_address_without_a_token(user_env: UserEnv) -> None:
    proc = user_env.run("serve", "--host", "0.0.0.0", "--port", "0")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "without a token" in proc.stderr
    assert proc.stdout == ""


def test_serve_on_a_taken_port_is_one_line(user_env: UserEnv) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        proc = user_env.run("serve", "--port", str(taken.getsockname()[1]))
    assert proc.returncode == 2 and proc.stderr.startswith("agentchat: error: cannot serve on 127.0.0.1:")
    assert proc.stderr.count("\n") == 1


def test_a_client_connecting_the_moment_the_url_is_announced_is_served(
    openai_fake: OpenAIFake, user_env: UserEnv
) -> None:
    """A script that starts `serve` and connects as soon as it reads the URL waits while the
    server starts, instead of being refused."""
    configure(user_env, openai_fake)
    config = load_config(user_env.config_path)
    server, sock = make_server(config, host="127.0.0.1", port=0, token=None, no_log=False)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    try:
        with socket.create_connection(sock.getsockname()[:2], timeout=10) as early:  # announced, not running
            early.sendall(b"GET /v1/models HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n")
            thread.start()
            reply = early.makefile("rb").read()
        assert reply.startswith(b"HTTP/1.1 200")
    finally:
        server.should_exit = True
        if thread.is_alive():
            thread.join(10)
        sock.close()


def test_serve_generates_a_token_prints_it_once_and_requires_it(
    openai_fake: OpenAIFake, user_env: UserEnv
) -> None:
    configure(user_env, openai_fake)
    openai_fake.queue(oai.text(["ok"]))
    server = user_env.popen("serve", "--port", "0", "--token", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert server.stdout is not None
        url = server.stdout.readline().split()[2]
        token = server.stdout.readline().split()[1]
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1") and len(token) >= 24
        refused = httpx.get(f"{url}/models")
        assert refused.status_code == 401
        answer = httpx.post(
            f"{url}/chat/completions",
            headers={"Authorization": f"Bearer {token}"},
            json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]},
        )
        assert answer.json()["choices"][0]["message"]["content"] == "ok"
    finally:
        server.send_signal(2)
        out, err = server.communicate(timeout=10)
    assert server.returncode == 0
    assert token not in out + err  # shown once, never again
    assert "Traceback" not in err


@pytest.mark.peers  # two `llm` processes: ~5 s
def test_llm_uses_the_gateway_as_an_openai_compatible_model(
    openai_fake: OpenAIFake, user_env: UserEnv, tmp_path: Path
) -> None:
    llm = shutil.which("llm") or str(Path(sys.executable).with_name("llm"))
    if not Path(llm).exists():
        pytest.skip("the `llm` CLI is not installed (pip install llm)")
    configure(user_env, openai_fake)
    openai_fake.queue(oai.text(["Hello from ", "agentchat"]), oai.text(["Still here"]))
    llm_home = tmp_path / "llm"
    llm_home.mkdir()
    with running_gateway(user_env) as url:
        (llm_home / "extra-openai-models.yaml").write_text(
            f"- model_id: via-agentchat\n  model_name: gpt-4o-mini\n  api_base: {url}/v1\n"
        )
        env = {**os.environ, "LLM_USER_PATH": str(llm_home), "OPENAI_API_KEY": "unused"}
        first = subprocess.run(
            [llm, "-m", "via-agentchat", "Say hello"], env=env, capture_output=True, text=True, timeout=60
        )
        assert (first.returncode, first.stdout.strip()) == (0, "Hello from agentchat"), first.stderr
        again = subprocess.run([llm, "-c", "And again"], env=env, capture_output=True, text=True, timeout=60)
        assert (again.returncode, again.stdout.strip()) == (0, "Still here"), again.stderr
    sent = openai_fake.chat_requests()[-1].body["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    # llm sends the whole history again: the gateway continued the same conversation.
    assert rows(user_env, "SELECT count(DISTINCT conversation_id), count(*) FROM messages") == [(1, 4)]
