"""`response_format` through `agentchat serve`, with the real `openai` SDK as the client: the turn
runs as `ask --schema` does (the provider's native structured output, the reply validated and
asked again once with the errors), so a client gets JSON that matches its schema or a 422."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pydantic
import pytest

from tests.conftest import UserEnv
from tests.fakes import openai_fake as oai
from tests.fakes.openai_fake import OpenAIFake
from tests.gateway_server import running_gateway
from tests.test_gateway import client, configure

PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
    "additionalProperties": False,
}
ADA = '{"name": "Ada", "age": 36}'
ASKED = [{"role": "user", "content": "Who wrote the first program?"}]


@pytest.fixture
def gateway(user_env: UserEnv, openai_fake: OpenAIFake) -> Iterator[str]:
    configure(user_env, openai_fake)
    with running_gateway(user_env) as url:
        yield url


class Person(pydantic.BaseModel):
    name: str
    age: int


def json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "person", "schema": schema}}


def test_a_reply_that_misses_the_schema_is_asked_again_and_the_client_parses_it(
    gateway: str, openai_fake: OpenAIFake
) -> None:
    openai_fake.queue(oai.text(['```json\n{"name": "Ada"}\n```']), oai.text([ADA]))
    reply = client(gateway).chat.completions.parse(
        model="gpt-4o-mini", messages=ASKED, response_format=Person
    )
    assert reply.choices[0].message.parsed == Person(name="Ada", age=36)
    first, second = openai_fake.chat_requests()[-2:]
    sent = first.body["response_format"]  # the provider's native structured output
    assert sent["type"] == "json_schema" and sent["json_schema"]["schema"]["required"] == ["name", "age"]
    assert "'age' is a required property" in second.body["messages"][-1]["content"]


def test_a_streamed_reply_carries_only_the_validated_json(gateway: str, openai_fake: OpenAIFake) -> None:
    openai_fake.queue(oai.text(["Sure! ", "Ada, 36."]), oai.text(['{"name": ', '"Ada", "age": 36}']))
    stream = client(gateway).chat.completions.create(
        model="gpt-4o-mini", messages=ASKED, stream=True, response_format=json_schema(PERSON)
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert json.loads(text) == {"name": "Ada", "age": 36}


def test_a_reply_that_misses_twice_is_a_422_naming_the_errors(gateway: str, openai_fake: OpenAIFake) -> None:
    openai_fake.queue(oai.text(['{"name": "Ada"}']), oai.text(['{"name": "Ada", "age": "old"}']))
    with pytest.raises(openai.UnprocessableEntityError, match="did not match response_format") as caught:
        client(gateway).chat.completions.create(
            model="gpt-4o-mini", messages=ASKED, response_format=json_schema(PERSON)
        )
    assert "$.age: 'old' is not of type 'integer'" in str(caught.value)


def test_a_bad_response_format_is_a_400_naming_it(gateway: str) -> None:
    with pytest.raises(openai.BadRequestError, match=r"response_format: json_schema\.schema is not a valid"):
        client(gateway).chat.completions.create(
            model="gpt-4o-mini", messages=ASKED, response_format=json_schema({"type": "nonsense"})
        )
