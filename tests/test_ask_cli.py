"""`agentchat ask` as a user's shell sees it: real SDKs, loopback fake servers. Most tests run the CLI
in this process (`user_env.run`, tests/inproc.py); what only a real process shows (signals, a reader
that leaves, no controlling terminal, a terminal, processes at once) runs one."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import UserEnv
from tests.fakes import anthropic_fake as anth
from tests.fakes import openai_fake as oai
from tests.fakes.base import Reply
from tests.fakes.openai_fake import OpenAIFake
from tests.terminal import on_terminal, without_terminal

KEY = "sk-test-SECRET-0123456789"


def openai_config(fake: OpenAIFake, extra: str = "") -> str:
    return f"""
[providers.openai]
api_key = "{KEY}"
base_url = "{fake.base_url}"

[retry]
max_attempts = 2
base_delay = 0.01
max_delay = 0.02
{extra}
"""


def test_pipe_and_words_are_sent_and_stdout_is_the_exact_answer(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    user_env.write_config(openai_config(openai_fake))
    openai_fake.queue(oai.text(["**Bold**", " and `code`", "\n\n"]))
    proc = user_env.run("ask", "-m", "gpt-4o-mini", "summarise", "this", input="line one\nline two\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "**Bold** and `code`\n"  # exact text, no ANSI, one trailing newline
    sent = openai_fake.chat_requests()[0].body
    assert sent["messages"][-1] == {"role": "user", "content": "line one\nline two\n\nsummarise this"}
    assert sent["stream"] is True
    assert "\x1b[" not in proc.stderr + proc.stdout


def test_no_prompt_and_empty_stdin_is_a_usage_error(user_env: UserEnv) -> None:
    proc = user_env.run("ask", stdin=subprocess.DEVNULL)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "usage" in proc.stderr.lower()
    assert "Traceback" not in proc.stderr


def test_json_output(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(openai_config(openai_fake))
    openai_fake.queue(oai.text(["Hi", " there"], usage=oai.usage(prompt=11, completion=2)))
    proc = user_env.run("ask", "--json", "-m", "gpt-4o-mini", "hello")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["text"] == "Hi there"
    assert data["provider"] == "openai" and data["model"] == "gpt-4o-mini"
    assert data["finish_reason"] == "stop"
    assert data["usage"] == {"input_tokens": 11, "output_tokens": 2}
    assert data["timings"]["ttft_s"] >= 0 and data["timings"]["total_s"] >= data["timings"]["ttft_s"]
    assert isinstance(data["conversation_id"], int) and isinstance(data["message_id"], int)
    assert data["cost"] == pytest.approx((11 * 0.15 + 2 * 0.60) / 1e6)


def test_usage_unknown_is_null_not_zero(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    """llama.cpp's server sends no usage while streaming: the JSON says null, never 0."""
    user_env.write_config(
        openai_config(openai_fake)
        + f'\n[providers.llamacpp]\ntype = "openai"\nbase_url = "{openai_fake.base_url}"\nmodels = ["local-gguf"]\n'
    )
    openai_fake.queue(oai.text(["ok"], usage=None))
    proc = user_env.run("ask", "--json", "-m", "local-gguf", "hi")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["provider"] == "llamacpp"
    assert data["usage"] == {"input_tokens": None, "output_tokens": None}
    assert data["cost"] is None
    assert openai_fake.chat_requests()[0].header("authorization") == "Bearer not-needed"


def test_usage_flag_goes_to_stderr(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(openai_config(openai_fake))
    openai_fake.queue(oai.text(["answer"], usage=oai.usage(prompt=5, completion=7)))
    proc = user_env.run("ask", "-u", "-m", "gpt-4o-mini", "q")
    assert proc.stdout == "answer\n"
    assert "in 5 out 7" in proc.stderr and "ttft" in proc.stderr


def test_rejected_key_exits_3_and_names_the_variable(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(openai_config(openai_fake))
    openai_fake.queue(oai.error(401, f"Incorrect API key provided: {KEY}.", code="invalid_api_key"))
    proc = user_env.run("ask", "-m", "gpt-4o-mini", "hi")
    assert proc.returncode == 3
    assert "OPENAI_API_KEY" in proc.stderr
    assert KEY not in proc.stderr and KEY not in proc.stdout
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert len(openai_fake.chat_requests()) == 1  # an auth failure is not retried


def test_missing_key_exits_3_before_any_request(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(f'[providers.openai]\nbase_url = "{openai_fake.base_url}"\n')
    proc = user_env.run("ask", "-m", "gpt-4o-mini", "hi")
    assert proc.returncode == 3
    assert "OPENAI_API_KEY" in proc.stderr
    assert openai_fake.chat_requests() == []


def test_rate_limited_after_retries_exits_4_and_keeps_the_prompt(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    user_env.write_config(openai_config(openai_fake))
    limited = oai.error(
        429, "Rate limit reached", code="rate_limit_exceeded", headers={"retry-after-ms": "5"}
    )
    openai_fake.queue(limited, limited)
    proc = user_env.run("ask", "-m", "gpt-4o-mini", "keep me")
    assert proc.returncode == 4, proc.stderr
    assert len(openai_fake.chat_requests()) == 2  # max_attempts = 2, SDK retries off
    assert "retrying" in proc.stderr
    with user_env.store() as store:
        conv = store.most_recent_conversation()
        thread = store.thread(store.leaf(conv))
    assert thread[0].text == "keep me"
    assert thread[-1].status == "error" and "Rate limit" in (thread[-1].error or "")


def test_server_error_then_success_is_retried(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(openai_config(openai_fake))
    openai_fake.queue(oai.error(500, "boom"), oai.text(["fine"]))
    proc = user_env.run("ask", "-m", "gpt-4o-mini", "hi")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "fine\n"


def test_connection_refused_exits_5(user_env: UserEnv) -> None:
    user_env.write_config(
        f'[providers.openai]\napi_key = "{KEY}"\nbase_url = "http://127.0.0.1:9/v1"\n'
        "[retry]\nmax_attempts = 1\n"
    )
    proc = user_env.run("ask", "-m", "gpt-4o-mini", "hi")
    assert proc.returncode == 5, proc.stderr
    assert "Traceback" not in proc.stderr


def test_ollama_not_running_is_reported_at_once(user_env: UserEnv) -> None:
    """Connection refused on loopback: one line, exit 5, no retries (the default policy would
    otherwise wait 0.5 + 1 + 2 s and print three "retrying" lines)."""
    user_env.write_config("")
    proc = user_env.run("ask", "-p", "ollama", "-m", "llama3.2", "hi")
    assert proc.returncode == 5, proc.stderr
    assert "retrying" not in proc.stderr
    assert "ollama serve" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_malformed_config_names_file_and_line(user_env: UserEnv) -> None:
    user_env.config_path.write_text('default_model = "x"\n[providers.openai\napi_key = 1\n')
    proc = user_env.run("ask", "hi")
    assert proc.returncode == 2
    assert str(user_env.config_path) in proc.stderr and "line 2" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_model_names_close_matches(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(openai_config(openai_fake, '[providers.ollama]\nmodels = ["llama3.2"]\n'))
    proc = user_env.run("ask", "-m", "lama3.2", "hi")
    assert proc.returncode == 2
    assert "llama3.2" in proc.stderr


def test_dropped_stream_keeps_partial_as_interrupted(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(openai_config(openai_fake))
    openai_fake.queue(oai.text(["partial ", "answer ", "never"], drop_after=3))
    proc = user_env.run("ask", "-m", "gpt-4o-mini", "hi")
    assert proc.returncode == 5, proc.stderr
    assert proc.stdout.startswith("partial answer")
    assert len(openai_fake.chat_requests()) == 1  # a broken stream is never silently retried
    with user_env.store() as store:
        reply = store.get_message(store.leaf(store.most_recent_conversation()))
    assert reply.status == "interrupted" and reply.text == "partial answer "


def test_ctrl_c_keeps_partial_reply_and_exits_130(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(openai_config(openai_fake))
    openai_fake.queue(oai.text([f"tok{i} " for i in range(400)], delay_s=0.02))
    proc = user_env.popen("ask", "-m", "gpt-4o-mini", "hi", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    first = proc.stdout.read(5)  # wait until tokens flow
    assert first.startswith("tok0")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    with user_env.store() as store:
        reply = store.get_message(store.leaf(store.most_recent_conversation()))
    assert reply.status == "interrupted"
    shown = (first + out).rstrip("\n")
    assert reply.text.startswith("tok0 ")
    assert reply.text.startswith(shown) or shown.startswith(reply.text)  # what was shown is what was kept


def test_closed_pipe_ends_quietly(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(openai_config(openai_fake))
    openai_fake.queue(oai.text([f"word{i} " for i in range(3000)]))
    cmd = f"{sys.executable} -m agentchat ask -m gpt-4o-mini hi | head -c 10"
    proc = subprocess.run(
        cmd, shell=True, capture_output=True, text=True, env=user_env.env, timeout=60, cwd=user_env.root
    )
    assert proc.stdout == "word0 word"
    assert proc.stderr == ""


def test_continue_uses_the_most_recently_used_conversation(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    user_env.write_config(openai_config(openai_fake))
    openai_fake.queue(oai.text(["A1"]), oai.text(["B1"]), oai.text(["A2"]), oai.text(["A3"]))
    assert user_env.run("ask", "-m", "gpt-4o-mini", "first A").returncode == 0
    assert user_env.run("ask", "-m", "gpt-4o-mini", "first B").returncode == 0
    with user_env.store() as store:
        conv_a, _conv_b = sorted(c.id for c in store.list_conversations())
    assert user_env.run("ask", "--cid", str(conv_a), "second A").returncode == 0
    # -c now means A: it was used last, though B was created later
    proc = user_env.run("ask", "-c", "third A")
    assert proc.returncode == 0, proc.stderr
    last = openai_fake.chat_requests()[-1].body
    assert [m["content"] for m in last["messages"]] == ["first A", "A1", "second A", "A2", "third A"]
    assert last["model"] == "gpt-4o-mini"  # continuing keeps the conversation's model


@pytest.mark.parametrize("stream", [True, False])
def test_an_empty_reply_is_not_a_success(user_env: UserEnv, openai_fake: OpenAIFake, stream: bool) -> None:
    """A stream that finishes with no text and no tool call (here: thinking, then the length
    limit) is stored as `empty`, said on stderr with its finish reason, and exits 4."""
    user_env.write_config(openai_config(openai_fake))
    openai_fake.queue(oai.text([], finish="length", reasoning=["Let me think"]))
    args = ["ask", "--json", "-m", "gpt-4o-mini", "hi"] + ([] if stream else ["--no-stream"])
    proc = user_env.run(*args)
    assert proc.returncode == 4, proc.stderr
    assert "empty reply (finish reason: length)" in proc.stderr and "Traceback" not in proc.stderr
    data = json.loads(proc.stdout)
    assert (data["status"], data["finish_reason"], data["text"]) == ("empty", "length", "")
    with user_env.store() as store:
        (conv,) = store.list_conversations()
        reply = store.get_message(store.leaf(conv.id))  # type: ignore[arg-type]
    assert reply is not None and (reply.status, reply.finish_reason) == ("empty", "length")


def test_a_named_endpoint_without_models_uses_the_only_model_it_serves(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    """`-p NAME` on a fresh data dir: no `models` list, nothing cached; the server is asked."""
    user_env.write_config(f'[providers.llamacpp]\ntype = "openai"\nbase_url = "{openai_fake.base_url}"\n')
    openai_fake.models = ["/models/SmolLM2.gguf"]
    openai_fake.queue(oai.text(["hi there"]))
    proc = user_env.run("ask", "-p", "llamacpp", "hello")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "hi there\n"
    assert openai_fake.chat_requests()[0].body["model"] == "/models/SmolLM2.gguf"
    openai_fake.models = ["a", "b"]
    (user_env.data_dir / "models.json").unlink()
    proc = user_env.run("ask", "-p", "llamacpp", "hello")
    assert proc.returncode == 2 and "serves 2 models (a, b): choose one with -m" in proc.stderr


def test_no_log_stores_nothing(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(openai_config(openai_fake))
    openai_fake.queue(oai.text(["x"]))
    assert user_env.run("ask", "--no-log", "-m", "gpt-4o-mini", "secret").returncode == 0
    with user_env.store() as store:
        assert store.list_conversations() == []


def test_eight_concurrent_asks_lose_nothing(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(openai_config(openai_fake))
    openai_fake.queue(*[oai.text([f"answer {i}"], delay_s=0.01) for i in range(8)])
    procs = [
        user_env.popen(
            "ask", "-m", "gpt-4o-mini", f"question {i}", stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for i in range(8)
    ]
    for p in procs:
        p.communicate(timeout=60)
        assert p.returncode == 0
    with user_env.store() as store:
        convs = store.list_conversations(limit=100)
        assert len(convs) == 8
        texts = sorted(m.text for c in convs for m in store.thread(store.leaf(c.id)))
    assert sorted(f"question {i}" for i in range(8)) == [t for t in texts if t.startswith("question")]
    assert len([t for t in texts if t.startswith("answer")]) == 8


def test_no_stream_uses_a_plain_request(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(openai_config(openai_fake))
    openai_fake.queue(oai.text(["whole answer"]))
    proc = user_env.run("ask", "--no-stream", "-m", "gpt-4o-mini", "hi")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "whole answer\n"
    assert openai_fake.chat_requests()[0].body.get("stream") in (False, None)


def test_system_prompt_and_anthropic(user_env: UserEnv, anthropic_fake: anth.AnthropicFake) -> None:
    user_env.write_config(f'[providers.anthropic]\napi_key = "{KEY}"\nbase_url = "{anthropic_fake.root}"\n')
    anthropic_fake.queue(anth.text(["Bonjour"], thinking="User greets.", signature="sig-1"))
    proc = user_env.run("ask", "-m", "claude-sonnet-4-6", "-s", "Answer in French.", "hi")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Bonjour\n"
    assert "User greets." in proc.stderr  # thinking goes to stderr
    body = anthropic_fake.chat_requests()[0].body
    # a cache breakpoint on the system prompt ([caching] is on by default)
    system = {"type": "text", "text": "Answer in French.", "cache_control": {"type": "ephemeral"}}
    assert body["system"] == [system]


def test_the_system_prompt_is_kept_by_the_conversation_on_every_provider(
    user_env: UserEnv, openai_fake: OpenAIFake, anthropic_fake: anth.AnthropicFake
) -> None:
    """`-s` is stored with the conversation: `-c` and `--cid` (on another provider too) send it
    again; a later `-s` replaces it from that turn on, and that is stored too."""
    user_env.write_config(
        openai_config(openai_fake)
        + f'[providers.anthropic]\napi_key = "{KEY}"\nbase_url = "{anthropic_fake.root}"\n'
    )
    openai_fake.queue(oai.text(["one"]), oai.text(["two"]), oai.text(["four"]))
    anthropic_fake.queue(anth.text(["three"]))
    assert user_env.run("ask", "-m", "gpt-4o-mini", "-s", "Be terse.", "q1").returncode == 0
    assert user_env.run("ask", "-c", "q2").returncode == 0
    second = openai_fake.chat_requests()[1].body["messages"]
    assert second[0] == {"role": "system", "content": "Be terse."}
    with user_env.store() as store:
        (conv,) = store.list_conversations()
    proc = user_env.run("ask", "--cid", str(conv.id), "-m", "claude-sonnet-4-6", "q3")
    assert proc.returncode == 0, proc.stderr
    assert anthropic_fake.chat_requests()[0].body["system"][0]["text"] == "Be terse."
    proc = user_env.run("ask", "-c", "-m", "gpt-4o-mini", "-s", "Answer in French.", "q4")
    assert proc.returncode == 0, proc.stderr
    fourth = openai_fake.chat_requests()[2].body["messages"]
    assert fourth[0] == {"role": "system", "content": "Answer in French."}
    assert [m["content"] for m in fourth[1:]] == ["q1", "one", "q2", "two", "q3", "three", "q4"]
    with user_env.store() as store:
        assert store.conversation(conv.id).system == "Answer in French."  # type: ignore[union-attr]
    shown = user_env.run("history", "show", str(conv.id))
    assert "## system\n\nAnswer in French." in shown.stdout


def test_without_model_the_first_usable_provider_answers(
    user_env: UserEnv, anthropic_fake: anth.AnthropicFake
) -> None:
    user_env.env.update(ANTHROPIC_API_KEY=KEY, ANTHROPIC_BASE_URL=anthropic_fake.root)
    anthropic_fake.queue(anth.text(["hello"]))
    proc = user_env.run("ask", "--json", "hi")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["provider"] == "anthropic" and data["model"].startswith("claude-")


def test_nothing_usable_is_an_auth_error(user_env: UserEnv) -> None:
    proc = user_env.run("ask", "hi")
    assert proc.returncode == 3
    assert "OPENAI_API_KEY" in proc.stderr and "ANTHROPIC_API_KEY" in proc.stderr


def test_mid_stream_error_event(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(openai_config(openai_fake))
    openai_fake.queue(oai.midstream_error(["half"], "The server had an error"))
    proc = user_env.run("ask", "-m", "gpt-4o-mini", "hi")
    assert proc.returncode == 5
    assert proc.stdout.startswith("half")


def test_stdin_read_error_is_not_a_hang(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    """Words alone with stdin closed/absent work; nothing waits on input."""
    user_env.write_config(openai_config(openai_fake))
    openai_fake.queue(oai.text(["ok"]))
    start = time.monotonic()
    proc = user_env.run("ask", "-m", "gpt-4o-mini", "hi", stdin=subprocess.DEVNULL)
    assert proc.returncode == 0 and proc.stdout == "ok\n"
    assert time.monotonic() - start < 30


def test_hung_server_times_out_with_exit_5(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(
        openai_config(openai_fake).replace(
            f'base_url = "{openai_fake.base_url}"', f'base_url = "{openai_fake.base_url}"\ntimeout = 0.5'
        )
        + "\n"
    )
    user_env.write_config(
        f'[providers.openai]\napi_key = "{KEY}"\nbase_url = "{openai_fake.base_url}"\ntimeout = 0.5\n'
        "[retry]\nmax_attempts = 1\n"
    )
    openai_fake.queue(Reply(hang_s=3, chunks=[b"{}"]))
    proc = user_env.run("ask", "-m", "gpt-4o-mini", "hi")
    assert proc.returncode == 5, proc.stderr
    assert "Traceback" not in proc.stderr


def test_tool_needing_approval_without_terminal_is_denied_exit_6(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    user_env.write_config(openai_config(openai_fake))
    openai_fake.queue(
        oai.tool_calls(
            [("call_1", "write_file", {"path": "out.txt", "content": "x"})], text="Let me write it."
        ),
        oai.text(["I could not write the file."]),
    )
    proc = without_terminal(user_env, "ask", "-T", "all", "-m", "gpt-4o-mini", "write out.txt")
    assert proc.returncode == 6, proc.stderr
    assert proc.stdout == "I could not write the file.\n"  # only the final answer; narration went to stderr
    assert "Let me write it." in proc.stderr
    assert "denied tool: write_file" in proc.stderr and "--allow-tool write_file" in proc.stderr
    assert not (user_env.root / "out.txt").exists()


def test_allow_tool_runs_it_and_activity_goes_to_stderr(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(openai_config(openai_fake))
    openai_fake.queue(
        oai.tool_calls([("call_1", "write_file", {"path": "out.txt", "content": "x"})]),
        oai.text(["Written."]),
    )
    proc = without_terminal(
        user_env,
        "ask",
        "-T",
        "write_file",
        "--allow-tool",
        "write_file",
        "-m",
        "gpt-4o-mini",
        "write out.txt",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Written.\n"
    assert "tool write_file" in proc.stderr and "done" in proc.stderr
    assert (user_env.root / "out.txt").read_text() == "x"
    tools = [t["function"]["name"] for t in openai_fake.chat_requests()[0].body["tools"]]
    assert tools == ["write_file"]


def test_resume_continues_an_interrupted_reply(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(openai_config(openai_fake))
    openai_fake.queue(
        oai.text(["The three colours are red, ", "green", " and"], drop_after=3), oai.text([" and blue."])
    )
    assert user_env.run("ask", "-m", "gpt-4o-mini", "name three colours").returncode == 5
    proc = user_env.run("ask", "-c", "--resume", stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == " and blue.\n"
    sent = openai_fake.chat_requests()[-1].body["messages"]
    assert sent == [
        {"role": "user", "content": "name three colours"},
        {"role": "assistant", "content": "The three colours are red, green"},
    ]
    with user_env.store() as store:
        conv = store.most_recent_conversation()
        thread = store.thread(store.leaf(conv))
    assert [(m.role, m.status) for m in thread] == [
        ("user", "complete"),
        ("assistant", "interrupted"),
        ("assistant", "complete"),
    ]
    again = user_env.run("ask", "-c", "--resume", stdin=subprocess.DEVNULL)
    assert again.returncode == 2 and "no interrupted reply" in again.stderr


def test_named_agent_supplies_system_model_and_tools(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(
        openai_config(openai_fake)
        + '[agents.reviewer]\nsystem = "You review code."\nmodel = "gpt-4.1"\ntools = ["read_file"]\ntemperature = 0.1\n'
    )
    openai_fake.queue(oai.text(["LGTM"]))
    proc = user_env.run("ask", "-a", "reviewer", "review this", stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    body = openai_fake.chat_requests()[0].body
    assert body["model"] == "gpt-4.1" and body["temperature"] == 0.1
    assert body["messages"][0] == {"role": "system", "content": "You review code."}
    assert [t["function"]["name"] for t in body["tools"]] == ["read_file"]
    listing = user_env.run("agents")
    assert listing.stdout.splitlines()[0].startswith("default") and "reviewer" in listing.stdout
    unknown = user_env.run("ask", "-a", "nobody", "x")
    assert unknown.returncode == 2 and "reviewer" in unknown.stderr
    with user_env.store() as store:
        assert store.list_conversations()[0].agent == "reviewer"


def test_terminal_gets_rendered_markdown_and_no_color_is_honoured(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    user_env.write_config(openai_config(openai_fake))
    for _ in range(2):
        openai_fake.queue(oai.text(["# Title\n\n", "Some **bold** text."]))
    code, shown = on_terminal(user_env, "ask", "-m", "gpt-4o-mini", "hi", size=(24, 80))
    assert code == 0
    assert "bold" in shown and "**bold**" not in shown  # Markdown was rendered, not printed raw
    assert "\x1b[" in shown  # styled
    code, shown = on_terminal(user_env, "ask", "-m", "gpt-4o-mini", "hi", size=(24, 80), NO_COLOR="1")
    assert "**bold**" not in shown
    assert not any(f"\x1b[{c}" in shown for c in ("31m", "32m", "33m", "34m", "35m", "36m", "38;"))


def test_approval_question_goes_to_the_terminal_while_stdin_is_piped(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    pexpect = pytest.importorskip("pexpect", reason="pexpect is needed to give ask a controlling terminal")
    user_env.write_config(openai_config(openai_fake))
    openai_fake.queue(
        oai.tool_calls([("call_1", "write_file", {"path": "out.txt", "content": "from the tool"})]),
        oai.text(["Done."]),
    )
    cmd = f"echo piped context | {sys.executable} -m agentchat ask -T write_file -m gpt-4o-mini write > answer.txt"
    child = pexpect.spawn(
        "/bin/sh", ["-c", cmd], env=user_env.env, cwd=str(user_env.root), encoding="utf-8", timeout=30
    )
    child.expect("allow tool write_file")
    child.sendline("y")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert (user_env.root / "out.txt").read_text() == "from the tool"
    assert (user_env.root / "answer.txt").read_text() == "Done.\n"  # the question never touched stdout
    assert openai_fake.chat_requests()[0].body["messages"][0]["content"] == "piped context\n\nwrite"


def test_bad_input_gets_one_line_errors(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(openai_config(openai_fake))
    for args, needle in (
        (["--max-steps", "0", "hi"], "--max-steps must be at least 1"),
        (["-T", "nosuch", "-m", "gpt-4o-mini", "hi"], "unknown tool(s): nosuch"),
        (["-p", "local", "-m", "gpt-4o", "hi"], "local provider serves smollm2"),
        (["--cid", "999", "hi"], "no conversation with id 999"),
    ):
        proc = user_env.run("ask", *args, stdin=subprocess.DEVNULL)
        assert proc.returncode == 2, (args, proc.stderr)
        assert needle in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert openai_fake.chat_requests() == []


def test_non_utf8_stdin_is_decoded_leniently(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(openai_config(openai_fake))
    openai_fake.queue(oai.text(["ok"]))
    proc = user_env.run("ask", "-m", "gpt-4o-mini", "summarise", input=b"caf\xe9\n")
    assert proc.returncode == 0, proc.stderr
    assert openai_fake.chat_requests()[0].body["messages"][0]["content"] == "caf\ufffd\n\nsummarise"


def test_no_log_still_respects_the_monthly_budget(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(openai_config(openai_fake, "[budget]\nmonthly_usd = 0.000001\n"))
    openai_fake.queue(oai.text(["spent"], usage=oai.usage(prompt=1000, completion=1000)))
    assert user_env.run("ask", "-m", "gpt-4o-mini", "first").returncode == 0
    proc = user_env.run("ask", "--no-log", "-m", "gpt-4o-mini", "second")
    assert proc.returncode == 2 and "monthly budget reached" in proc.stderr
    assert len(openai_fake.chat_requests()) == 1


def test_sigterm_keeps_the_partial_reply(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(openai_config(openai_fake))
    openai_fake.queue(oai.text([f"tok{i} " for i in range(400)], delay_s=0.02))
    proc = user_env.popen("ask", "-m", "gpt-4o-mini", "hi", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.read(4) == "tok0"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "Traceback" not in err
    with user_env.store() as store:
        reply = store.get_message(store.leaf(store.most_recent_conversation()))
    assert reply.status == "interrupted" and reply.text.startswith("tok0")
