"""`agentchat serve` with the real `openai` SDK as its client: every request is an engine turn
against the loopback OpenAI fake, routed, priced and stored; the client's tools pass through;
conversations continue, branch and are named as docs/gateway.md says."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.conftest import UserEnv
from tests.fakes import openai_fake as oai
from tests.fakes.openai_fake import OpenAIFake
from tests.gateway_server import running_gateway

KEY = "sk-upstream-secret-0123456789"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def configure(user: UserEnv, fake: OpenAIFake, extra: str = "") -> None:
    user.write_config(f'[providers.openai]\napi_key = "{KEY}"\nbase_url = "{fake.base_url}"\n{extra}')


@pytest.fixture
def gateway(user_env: UserEnv, openai_fake: OpenAIFake) -> Iterator[str]:
    configure(user_env, openai_fake)
    with running_gateway(user_env) as url:
        yield url


def client(url: str, **kwargs: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, **kwargs)


def rows(user: UserEnv, sql: str) -> list[Any]:
    with user.store() as store:
        return store.query(sql)


def test_a_completion_is_an_engine_turn_routed_priced_and_stored(
    gateway: str, openai_fake: OpenAIFake, user_env: UserEnv
) -> None:
    openai_fake.queue(oai.text(["Bonjour", " !"], usage=oai.usage(100, 20)))
    raw = client(gateway).chat.completions.with_raw_response.create(
        model="gpt-4o-mini",
        messages=[{"role": "system", "content": "Be French."}, {"role": "user", "content": "Hi"}],
    )
    reply = raw.parse()
    assert reply.choices[0].message.content == "Bonjour !"
    assert reply.choices[0].finish_reason == "stop"
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (100, 20)
    assert raw.headers["x-agentchat-provider"] == "openai"
    sent = openai_fake.chat_requests()[-1]
    assert sent.header("authorization") == f"Bearer {KEY}"  # the user's key, never the client's
    assert sent.body["messages"] == [
        {"role": "system", "content": "Be French."},
        {"role": "user", "content": "Hi"},
    ]
    conv = int(raw.headers["x-agentchat-conversation-id"])
    [(role, model, cost, ttft, total)] = rows(
        user_env,
        f"SELECT role, model, cost, ttft_s, total_s FROM messages WHERE conversation_id = {conv} AND role = 'assistant'",
    )
    assert (role, model) == ("assistant", "gpt-4o-mini")
    assert cost is not None and cost > 0 and ttft is not None and total is not None
    assert rows(user_env, f"SELECT system FROM conversations WHERE id = {conv}") == [("Be French.",)]


def test_a_stream_arrives_as_openai_chunks_with_usage(gateway: str, openai_fake: OpenAIFake) -> None:
    openai_fake.queue(oai.text(["Hel", "lo", " there"], usage=oai.usage(7, 3)))
    stream = client(gateway).chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello there"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 3
    assert openai_fake.chat_requests()[-1].body["stream"] is True


def test_the_clients_tools_are_offered_and_their_calls_returned_not_run(
    gateway: str, openai_fake: OpenAIFake, user_env: UserEnv
) -> None:
    openai_fake.queue(
        oai.tool_calls([("call_7", "get_weather", {"city": "Paris"})]), oai.text(["Sunny in Paris."])
    )
    c = client(gateway)
    messages: list[Any] = [{"role": "user", "content": "Weather in Paris?"}]
    first = c.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=[WEATHER], stream=True)
    calls: dict[int, Any] = {}
    for chunk in first:
        for call in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            calls[call.index] = call
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in calls.values()] == [
        ("call_7", "get_weather", {"city": "Paris"})
    ]
    offered = openai_fake.chat_requests()[-1].body["tools"]
    assert [t["function"]["name"] for t in offered] == ["get_weather"]
    # The client runs the tool and sends the whole history back with the result.
    messages += [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_7",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_7", "content": "sunny, 24C"},
    ]
    second = c.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=[WEATHER])
    assert second.choices[0].message.content == "Sunny in Paris."
    assert openai_fake.chat_requests()[-1].body["messages"][-1] == {
        "role": "tool",
        "tool_call_id": "call_7",
        "content": "sunny, 24C",
    }
    # One conversation: user -> tool call -> result -> answer, nothing stored twice.
    assert rows(user_env, "SELECT role FROM messages ORDER BY id") == [
        ("user",),
        ("assistant",),
        ("tool",),
        ("assistant",),
    ]


def test_a_named_conversation_continues_and_an_edit_branches(
    gateway: str, openai_fake: OpenAIFake, user_env: UserEnv
) -> None:
    openai_fake.queue(oai.text(["A1"]), oai.text(["A2"]), oai.text(["B2"]))
    c = client(gateway, default_headers={"X-Agentchat-Conversation": "notes"})
    c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Q1"}])
    history = [
        {"role": "user", "content": "Q1"},
        {"role": "assistant", "content": "A1"},
        {"role": "user", "content": "Q2"},
    ]
    c.chat.completions.create(model="gpt-4o-mini", messages=history)
    edited = [*history[:2], {"role": "user", "content": "Q2, edited"}]
    c.chat.completions.create(model="gpt-4o-mini", messages=edited)
    stored = rows(
        user_env,
        "SELECT m.id, m.parent_id, m.conversation_id, json_extract(m.parts, '$[0].text') FROM messages m ORDER BY id",
    )
    assert len({conv for _, _, conv, _ in stored}) == 1  # one conversation
    by_text = {text: (mid, parent) for mid, parent, _, text in stored}
    assert by_text["Q2"][1] == by_text["A1"][0]
    assert by_text["Q2, edited"][1] == by_text["A1"][0]  # a branch beside Q2
    assert by_text["A2"][1] == by_text["Q2"][0] and by_text["B2"][1] == by_text["Q2, edited"][0]


def test_unnamed_clients_continue_by_their_opening_and_user_names_a_conversation(
    gateway: str, openai_fake: OpenAIFake, user_env: UserEnv
) -> None:
    openai_fake.queue(oai.text(["A1"]), oai.text(["A2"]), oai.text(["X1"]), oai.text(["Y1"]))
    c = client(gateway)
    c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Q1"}])
    c.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "user", "content": "Q1"},
            {"role": "assistant", "content": "A1"},
            {"role": "user", "content": "Q2"},
        ],
    )
    c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "X"}], user="alice")
    c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Y"}], user="alice")
    convs = rows(
        user_env, "SELECT conversation_id, count(*) FROM messages GROUP BY conversation_id ORDER BY 1"
    )
    assert [n for _, n in convs] == [4, 4]  # Q1 A1 Q2 A2 | X X1 Y Y1 (a new root branch)


def test_models_lists_what_agentchat_routes(gateway: str, openai_fake: OpenAIFake) -> None:
    openai_fake.models = ["gpt-4o-mini", "gpt-4.1-nano"]
    listed = {m.id: m.owned_by for m in client(gateway).models.list()}
    assert listed == {"gpt-4o-mini": "openai", "gpt-4.1-nano": "openai"}


def test_failures_are_the_apis_errors(gateway: str, openai_fake: OpenAIFake, user_env: UserEnv) -> None:
    c = client(gateway)
    with pytest.raises(openai.NotFoundError, match="unknown model 'nonesuch'"):
        c.chat.completions.create(model="nonesuch", messages=[{"role": "user", "content": "Hi"}])
    openai_fake.queue(oai.error(401, "Incorrect API key provided"))
    with pytest.raises(openai.AuthenticationError) as info:
        c.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}], stream=True
        )
    assert KEY not in str(info.value.body)
    with pytest.raises(openai.BadRequestError, match="last message must be the user"):
        c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "assistant", "content": "Hi"}])
    openai_fake.queue(oai.midstream_error(["Partial"], "upstream broke"))
    with pytest.raises(openai.APIError, match="upstream broke"):
        list(
            c.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}], stream=True
            )
        )
    statuses = rows(user_env, "SELECT status FROM messages WHERE role = 'assistant' ORDER BY id")
    assert statuses[-1] == ("interrupted",)  # the partial is kept, as in ask


def test_failover_runs_behind_the_gateway(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    configure(user_env, openai_fake, '[retry]\nmax_attempts = 1\n[failover]\nchain = ["gpt-4.1"]\n')
    openai_fake.queue(oai.error(503, "overloaded"), oai.text(["from the fallback"]))
    with running_gateway(user_env) as url:
        raw = client(url).chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}]
        )
    assert raw.parse().choices[0].message.content == "from the fallback"
    assert raw.parse().model == "gpt-4.1"
    assert [r.body["model"] for r in openai_fake.chat_requests()] == ["gpt-4o-mini", "gpt-4.1"]


def test_no_log_stores_nothing(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    configure(user_env, openai_fake)
    openai_fake.queue(oai.text(["one"]), oai.text(["two"]))
    with running_gateway(user_env, no_log=True) as url:
        raw = client(url).chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "secret"}]
        )
        assert raw.parse().choices[0].message.content == "one"
        assert "x-agentchat-conversation-id" not in raw.headers
    assert rows(user_env, "SELECT count(*) FROM messages") == [(0,)]
    assert not Path(":memory:").exists()  # the in-memory store is no file in the working directory
    with running_gateway(user_env) as url:  # a request may ask for it too
        client(url, default_headers={"X-Agentchat-No-Log": "1"}).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "secret"}]
        )
    assert rows(user_env, "SELECT count(*) FROM messages") == [(0,)]


def test_a_token_guards_every_endpoint(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    configure(user_env, openai_fake)
    openai_fake.queue(oai.text(["ok"]))
    with running_gateway(user_env, token="s3cret-token") as url:
        with pytest.raises(openai.AuthenticationError, match="gateway token"):
            client(url).models.list()
        with pytest.raises(openai.AuthenticationError):
            client(url).chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}]
            )
        good = openai.OpenAI(base_url=f"{url}/v1", api_key="s3cret-token", max_retries=0)
        assert (
            good.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}])
            .choices[0]
            .message.content
            == "ok"
        )
    assert len(openai_fake.chat_requests()) == 1  # refused requests reached no provider
