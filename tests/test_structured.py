"""`ask --schema`: each provider asked natively over its real SDK, the reply validated, one retry
with the errors, exit 7 after that; stdout is the JSON only, the schema stored with the messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentchat.core.errors import UsageError
from agentchat.core.structured import check_reply, concise_schema, parse_schema, strict_compatible, unfenced
from tests.conftest import UserEnv
from tests.fakes import anthropic_fake as anth
from tests.fakes import ollama_fake as oll
from tests.fakes import openai_fake as oai
from tests.fakes.anthropic_fake import AnthropicFake
from tests.fakes.ollama_fake import OllamaFake
from tests.fakes.openai_fake import OpenAIFake
from tests.terminal import on_terminal
from tests.test_ask_cli import KEY, openai_config

PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
    "required": ["name", "age"],
}


# --- the schema argument ---------------------------------------------------------------------------


def test_concise_form_types_descriptions_and_newlines() -> None:
    schema = parse_schema("name, age int, height float: in metres, member bool")
    assert schema == {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer"},
            "height": {"type": "number", "description": "in metres"},
            "member": {"type": "boolean"},
        },
        "required": ["name", "age", "height", "member"],
        "additionalProperties": False,
    }
    # With newlines a description may hold commas.
    multi = concise_schema("title str: short, catchy\nyear int")
    assert multi["properties"]["title"]["description"] == "short, catchy"
    assert strict_compatible(schema) and not strict_compatible(PERSON)


def test_schema_from_a_file_or_inline_json_and_bad_ones_are_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "person.json").write_text(json.dumps(PERSON))
    assert parse_schema("person.json", tmp_path) == PERSON
    assert parse_schema(json.dumps(PERSON)) == PERSON
    for bad, says in [
        ("age integer", "unknown type 'integer'"),
        ("{not json", "not JSON"),
        ('{"type": 5}', "not a valid JSON Schema"),
        ("missing.json", "not a file, JSON"),
        ("[1, 2]", "not a file, JSON"),
    ]:
        with pytest.raises(UsageError, match=says):
            parse_schema(bad, tmp_path)


def test_a_fenced_reply_is_unwrapped_and_errors_are_one_short_line_each() -> None:
    assert unfenced('Here it is:\n```json\n{"a": 1}\n```\nDone.') == '{"a": 1}'
    ok = check_reply('```json\n{"name": "Ada", "age": 36}\n```', PERSON)
    assert ok.valid and ok.parsed == {"name": "Ada", "age": 36}
    bad = check_reply('{"name": 7, "age": -1}', PERSON)
    assert bad.errors == ["$.age: -1 is less than the minimum of 0", "$.name: 7 is not of type 'string'"]
    assert check_reply("Sorry, I cannot.", PERSON).errors[0].startswith("not JSON:")


# --- ask, provider by provider ----------------------------------------------------------------------


def test_openai_gets_strict_json_schema_and_stdout_is_the_json_only(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    user_env.write_config(openai_config(openai_fake))
    openai_fake.queue(oai.text(['```json\n{"name": "Ada", ', '"age": 36}\n```']))
    proc = user_env.run(
        "ask", "-m", "gpt-4o-mini", "--schema", "name str, age int", "Who wrote the first program?"
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"name": "Ada", "age": 36}
    assert "```" not in proc.stdout and proc.stdout.count("\n") == 1  # one line in a pipe
    fmt = openai_fake.chat_requests()[0].body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"]["required"] == ["name", "age"]
    with user_env.store() as store:
        conv = store.most_recent_conversation()
        assert conv is not None
        messages = store.all_messages(conv)
    assert [m.role for m in messages] == ["user", "assistant"]
    assert all(m.schema == concise_schema("name str, age int") for m in messages)


def test_an_open_schema_is_not_sent_strict(
    user_env: UserEnv, openai_fake: OpenAIFake, tmp_path: Path
) -> None:
    user_env.write_config(openai_config(openai_fake))
    (user_env.root / "person.json").write_text(json.dumps(PERSON))
    openai_fake.queue(oai.text(['{"name": "Ada", "age": 36}']))
    proc = user_env.run("ask", "-m", "gpt-4o-mini", "--schema", "person.json", "--json", "who?")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["parsed"] == {"name": "Ada", "age": 36} and "errors" not in data
    assert openai_fake.chat_requests()[0].body["response_format"]["json_schema"]["strict"] is False


def test_an_invalid_reply_is_retried_once_with_the_errors(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(openai_config(openai_fake))
    openai_fake.queue(oai.text(['{"name": "Ada"}']), oai.text(['{"name": "Ada", "age": 36}']))
    proc = user_env.run("ask", "-m", "gpt-4o-mini", "--schema", json.dumps(PERSON), "who?")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"name": "Ada", "age": 36}
    assert "did not match the schema ($: 'age' is a required property)" in proc.stderr
    second = openai_fake.chat_requests()[1].body["messages"]
    assert [m["role"] for m in second] == ["user", "assistant", "user"]
    assert "- $: 'age' is a required property" in second[-1]["content"]
    assert second[1]["content"] == '{"name": "Ada"}'


def test_invalid_twice_exits_7_with_the_errors_on_stderr(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(openai_config(openai_fake))
    openai_fake.queue(oai.text(['{"name": 7}']), oai.text(["no idea"]))
    proc = user_env.run("ask", "-m", "gpt-4o-mini", "--schema", "name str, age int", "who?")
    assert proc.returncode == 7
    assert proc.stdout == ""
    assert proc.stderr.splitlines()[-2:] == [
        "agentchat: error: the reply did not match --schema, also when asked again",
        "agentchat: schema: not JSON: Expecting value at line 1 column 1",
    ]
    assert "Traceback" not in proc.stderr
    openai_fake.queue(oai.text(['{"name": 7}']), oai.text(['{"name": 8}']))
    proc = user_env.run(
        "ask", "-m", "gpt-4o-mini", "--json", "--no-log", "--schema", "name str, age int", "?"
    )
    assert proc.returncode == 7
    data = json.loads(proc.stdout)
    assert data["parsed"] is None and data["text"] == '{"name": 8}'
    assert data["errors"] == ["$: 'age' is a required property", "$.name: 8 is not of type 'string'"]


def test_anthropic_gets_output_config_with_its_schema_subset(
    user_env: UserEnv, anthropic_fake: AnthropicFake
) -> None:
    user_env.write_config(f'[providers.anthropic]\napi_key = "{KEY}"\nbase_url = "{anthropic_fake.root}"\n')
    anthropic_fake.queue(anth.text(['{"name": "Ada", "age": 36}']))
    proc = user_env.run("ask", "-m", "claude-sonnet-4-6", "--schema", json.dumps(PERSON), "who?")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"name": "Ada", "age": 36}
    fmt = anthropic_fake.chat_requests()[0].body["output_config"]["format"]
    assert fmt["type"] == "json_schema"
    assert fmt["schema"]["additionalProperties"] is False  # the API requires closed objects
    assert "minimum: 0" in fmt["schema"]["properties"]["age"]["description"]  # moved, not lost


def test_ollama_gets_the_schema_as_format(user_env: UserEnv, ollama_fake: OllamaFake) -> None:
    user_env.write_config(f'[providers.ollama]\nbase_url = "{ollama_fake.root}"\n')
    ollama_fake.queue(oll.text(['{"name": "Ada",', ' "age": 36}']))
    proc = user_env.run("ask", "-m", "llama3.2", "--schema", "name str, age int", "who?")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"name": "Ada", "age": 36}
    assert ollama_fake.chat_requests()[0].body["format"] == concise_schema("name str, age int")


def test_bad_schema_and_resume_are_usage_errors(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(openai_config(openai_fake))
    proc = user_env.run("ask", "-m", "gpt-4o-mini", "--schema", "age number", "hi")
    assert proc.returncode == 2 and "unknown type 'number'" in proc.stderr
    proc = user_env.run("ask", "-c", "--resume", "--schema", "a str")
    assert proc.returncode == 2 and "--schema" in proc.stderr
    assert openai_fake.chat_requests() == []


def test_on_a_terminal_the_json_is_indented_not_rendered(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(openai_config(openai_fake))
    openai_fake.queue(oai.text(['{"name": "Ada \\u001b[31mred", "age": 36}']))
    code, shown = on_terminal(
        user_env, "ask", "-m", "gpt-4o-mini", "--schema", "name str, age int", "who?", size=(24, 80)
    )
    assert code == 0
    assert shown == '{\r\n  "name": "Ada \\u001b[31mred",\r\n  "age": 36\r\n}\r\n'  # escaped, never obeyed


def test_anthropic_without_structured_outputs_is_asked_through_a_forced_tool(
    user_env: UserEnv, anthropic_fake: AnthropicFake
) -> None:
    """A model (or a proxy) that refuses output_config: the same question with one forced tool whose
    input schema is the schema (thinking dropped: the API refuses it beside a forced tool)."""
    user_env.write_config(f'[providers.anthropic]\napi_key = "{KEY}"\nbase_url = "{anthropic_fake.root}"\n')
    anthropic_fake.without_structured_outputs.add("claude-3-haiku-20240307")
    anthropic_fake.queue(anth.tool_use([("toolu_1", "structured_reply", {"name": "Ada", "age": 36})]))
    proc = user_env.run(
        "ask",
        "-m",
        "claude-3-haiku-20240307",
        "--thinking-budget",
        "1024",
        "--schema",
        "name str, age int",
        "who?",
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"name": "Ada", "age": 36}
    refused, forced = [r.body for r in anthropic_fake.chat_requests()]
    assert "output_config" in refused and "output_config" not in forced and "thinking" not in forced
    assert forced["tool_choice"] == {"type": "tool", "name": "structured_reply"}
    assert forced["tools"][-1]["input_schema"] == concise_schema("name str, age int")
    with user_env.store() as store:
        conv = store.most_recent_conversation()
        assert conv is not None
        reply = store.all_messages(conv)[-1]
    assert reply.text == '{"name": "Ada", "age": 36}' and not reply.tool_calls  # stored as the answer
