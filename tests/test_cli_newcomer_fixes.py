"""Defects a newcomer found by trying the CLI: each a clear one-line error with the right exit code,
or the right output, instead of a surprise."""

from __future__ import annotations

import json
import subprocess

from tests.conftest import UserEnv
from tests.fakes import ollama_fake as olm
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


def test_out_of_range_numbers_are_one_line_usage_errors(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(config(openai_fake))
    cases = {
        ("ask", "-t", "-3", "hi"): "-t/--temperature must be between 0 and 2",
        ("ask", "-t", "5", "hi"): "-t/--temperature must be between 0 and 2",
        ("ask", "--max-cost", "-1", "hi"): "--max-cost must be at least 0",
        ("history", "-n", "-1"): "-n/--limit must be at least 1",
        ("history", "search", "-n", "-1", "x"): "-n/--limit must be at least 1",
        ("stats", "--days", "-5"): "--days must be at least 0",
    }
    for args, message in cases.items():
        proc = user_env.run(*args)
        assert (proc.returncode, proc.stderr) == (2, f"agentchat: error: {message}\n"), args
    assert openai_fake.chat_requests() == []
    openai_fake.queue(oai.text(["edge ok"]))
    assert user_env.run("ask", "-m", "gpt-4o-mini", "-t", "2", "--max-cost", "0.5", "hi").returncode == 0


def test_a_thinking_budget_a_provider_cannot_use_is_a_warning(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    user_env.write_config(config(openai_fake))
    openai_fake.queue(oai.text(["answer"]))
    proc = user_env.run("ask", "-m", "gpt-4o-mini", "--thinking-budget", "100", "hi")
    assert (proc.returncode, proc.stdout) == (0, "answer\n"), proc.stderr
    assert proc.stderr == (
        "agentchat: thinking budget ignored: openai/gpt-4o-mini cannot think first "
        "(Anthropic and Ollama models can)\n"
    )


def _stored_turn(user_env: UserEnv, *args: str) -> None:
    proc = user_env.run("ask", *args, "remember the fox")
    assert proc.returncode == 0, proc.stderr


def test_compaction_that_fails_exits_with_the_code_of_what_failed(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    user_env.write_config(config(openai_fake))
    openai_fake.queue(oai.text(["noted"]))
    _stored_turn(user_env, "-m", "gpt-4o-mini")
    openai_fake.queue(oai.error(401, "Incorrect API key provided"))
    proc = user_env.run("ask", "--cid", "1", "-m", "gpt-4o-mini", "--compact")
    assert proc.returncode == 3, proc.stderr
    (line,) = proc.stderr.splitlines()
    assert line.startswith("agentchat: error: openai/gpt-4o-mini: ") and "internal" not in line
    openai_fake.queue(oai.error(400, "bad request"))
    assert user_env.run("ask", "-c", "--compact").returncode == 2
    openai_fake.queue(oai.text([""]))
    proc = user_env.run("ask", "-c", "--compact")
    assert (proc.returncode, proc.stderr) == (4, "agentchat: error: gpt-4o-mini returned an empty summary\n")


def test_compaction_with_ollama_not_running_is_a_network_error(
    user_env: UserEnv, ollama_fake: object
) -> None:
    user_env.write_config(f'[providers.ollama]\nhost = "{ollama_fake.root}"\nmodels = ["llama3.2"]\n')  # type: ignore[attr-defined]
    ollama_fake.queue(olm.text(["noted"]))  # type: ignore[attr-defined]
    _stored_turn(user_env, "-p", "ollama", "-m", "llama3.2")
    user_env.write_config('[providers.ollama]\nhost = "http://127.0.0.1:9"\nmodels = ["llama3.2"]\n')
    proc = user_env.run("ask", "-c", "--compact")
    assert proc.returncode == 5, proc.stderr
    assert len(proc.stderr.splitlines()) == 1 and "internal" not in proc.stderr


def test_the_tui_heads_a_failed_compaction_by_what_failed_not_as_an_internal_error() -> None:
    """f7 and /compact run compaction as a TUI job: an AgentchatError there is a notification
    headed by its class (turns.py `_guarded`), anything else "Internal error"."""
    from agentchat.core.compact import failed_by
    from agentchat.core.errors import AgentchatError, AuthError, NotListening
    from agentchat.tui.errors import error_title

    missing_key = failed_by(AuthError("no API key for openai"), "openai/gpt-4o: no API key for openai")
    assert isinstance(missing_key, AgentchatError)
    assert error_title(missing_key) == error_title(AuthError("x"))
    assert error_title(failed_by(NotListening("down"), "ollama/llama3.2: down")) == "Provider unreachable"


def test_compact_honours_a_provider_chosen_without_a_model_as_a_turn_does(
    user_env: UserEnv, openai_fake: OpenAIFake, ollama_fake: object
) -> None:
    """A conversation last used with Ollama's llama3.2, compacted with `-p openai`: OpenAI's model
    summarises it (before, llama3.2 was asked of OpenAI)."""
    user_env.write_config(
        config(openai_fake, 'models = ["gpt-4o-mini"]\n')
        + f'[providers.ollama]\nhost = "{ollama_fake.root}"\nmodels = ["llama3.2"]\n'  # type: ignore[attr-defined]
    )
    ollama_fake.queue(olm.text(["noted"]))  # type: ignore[attr-defined]
    _stored_turn(user_env, "-p", "ollama", "-m", "llama3.2")
    openai_fake.queue(oai.text(["SUMMARY"]))
    proc = user_env.run("ask", "-c", "-p", "openai", "--compact")
    assert (proc.returncode, proc.stdout) == (0, "SUMMARY\n"), proc.stderr
    assert openai_fake.chat_requests()[-1].body["model"] == "gpt-4o-mini"


def test_a_reader_gone_before_the_tables_is_a_clean_exit(user_env: UserEnv) -> None:
    """`agentchat stats | head -1`: Rich exits 1 on a broken pipe by itself; here the pipe is
    closed before anything is written, so the first write fails (a real process: SIGPIPE)."""
    from agentchat.core.messages import Message

    with user_env.store() as store:
        conv = store.create_conversation()
        parent = store.add_message(conv, Message.user("hi"))
        store.add_message(conv, Message(role="assistant", provider="openai", model="m", parent_id=parent))
    for args in (("stats",), ("history",)):
        proc = user_env.popen(*args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        assert (proc.wait(timeout=60), proc.stderr.read()) == (0, ""), args


def test_an_answer_stdout_cannot_take_is_one_line_and_the_reply_is_stored(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    """`ask "Hi" > /dev/full` (a real process: the fd is the device's)."""
    user_env.write_config(config(openai_fake))
    openai_fake.queue(oai.text(["the whole ", "answer"]))
    with open("/dev/full", "w") as full:
        proc = user_env.popen("ask", "-m", "gpt-4o-mini", "Hi", stdout=full, stderr=subprocess.PIPE)
        _, stderr = proc.communicate(timeout=60)
    assert (proc.returncode, stderr) == (1, "agentchat: cannot write the answer: No space left on device\n")
    with user_env.store() as store:
        conv = store.most_recent_conversation()
        assert conv is not None
        reply = store.get_message(store.leaf(conv))  # type: ignore[arg-type]
        assert reply is not None and (reply.status, reply.text) == ("complete", "the whole answer")


def test_keys_check_with_only_missing_keys_is_a_normal_start(user_env: UserEnv) -> None:
    """A newcomer: no keys, Ollama not running. Each state said once, exit 0 (a rejected key that
    is set exits 3: tests/test_cli_commands.py)."""
    proc = user_env.run("keys", "--check")
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr
    rows = {line.split()[0]: line.split() for line in proc.stdout.splitlines()}
    assert rows["openai"].count("missing") == 1 and "OPENAI_API_KEY" in rows["openai"]
