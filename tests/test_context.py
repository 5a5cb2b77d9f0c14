"""Long conversations that never break (issue 14): the window is known, shown, and never exceeded.

The fakes enforce a window the way the real APIs do (an oversize request is refused with the
API's own error), so a request that reached them too big would fail these tests.
"""

from __future__ import annotations

import json

from tests.branches import roots
from tests.conftest import UserEnv
from tests.fakes import anthropic_fake as anth
from tests.fakes import openai_fake as oai
from tests.fakes.anthropic_fake import AnthropicFake
from tests.fakes.base import wire_tokens
from tests.fakes.openai_fake import OpenAIFake

KEY = "sk-test-0123456789"
MODEL = "tiny-4k"
WINDOW = 4096


def config(fake: OpenAIFake, strategy: str | None = None, extra: str = "") -> str:
    fake.models = [MODEL, "gpt-4o-mini"]
    fake.windows[MODEL] = WINDOW
    context = f'[context]\nstrategy = "{strategy}"\n' if strategy else ""
    return f"""
[providers.openai]
api_key = "{KEY}"
base_url = "{fake.base_url}"

[models."{MODEL}"]
context_window = {WINDOW}
max_output_tokens = 512

[retry]
max_attempts = 1
{context}{extra}
"""


def paragraph(n: int) -> str:
    """About n tokens of prose (the fakes count 4 characters a token)."""
    return ("The quick brown fox jumps over the lazy dog. " * (n // 11 + 1))[: n * 4]


def grow(user: UserEnv, fake: OpenAIFake, turns: int, size: int = 500) -> None:
    """A conversation of `turns` turns, each a `size`-token prompt and a short answer."""
    for i in range(turns):
        fake.queue(oai.text([f"answer {i}"]))
        args = ("ask", "-m", MODEL, *(["-c"] if i else []), f"turn {i}: " + paragraph(size))
        proc = user.run(*args)
        assert proc.returncode == 0, proc.stderr


def sent_sizes(fake: OpenAIFake) -> list[int]:
    return [wire_tokens(r.body) for r in fake.chat_requests()]


def test_truncate_drops_the_oldest_turns_and_every_request_fits(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    user_env.write_config(config(openai_fake, "truncate"))
    grow(user_env, openai_fake, 12)
    assert max(sent_sizes(openai_fake)) <= WINDOW - 512
    last = openai_fake.chat_requests()[-1].body["messages"]
    assert last[0]["content"].startswith("turn ") and not last[0]["content"].startswith("turn 0:")
    assert last[-1]["content"].startswith("turn 11:")
    with user_env.store() as store:  # the stored conversation keeps every turn
        conv = store.most_recent_conversation()
        assert conv is not None
        assert len(store.thread(store.leaf(conv) or 0)) == 24


def test_compact_summarises_older_turns_into_a_new_branch_and_keeps_the_original(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    user_env.write_config(config(openai_fake))  # compact is the default
    grow(user_env, openai_fake, 5)
    openai_fake.queue(oai.text(["SUMMARY: five turns about a fox."]), oai.text(["answer 5"]))
    proc = user_env.run("ask", "-c", "-m", MODEL, "turn 5: " + paragraph(500))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "answer 5\n"
    assert "compacting its" in proc.stderr and "new branch" in proc.stderr
    summary_request, answer_request = (r.body for r in openai_fake.chat_requests()[-2:])
    assert "turn 0:" in summary_request["messages"][-1]["content"]  # the summariser read the old turns
    sent = answer_request["messages"]
    assert "SUMMARY: five turns about a fox." in sent[0]["content"] and sent[0]["role"] == "system"
    assert sent[-1]["content"].startswith("turn 5:")
    assert not any(m["content"].startswith("turn 0:") for m in sent)
    assert max(sent_sizes(openai_fake)) <= WINDOW - 512
    with user_env.store() as store:
        conv = store.most_recent_conversation()
        assert conv is not None
        first, second = roots(store, conv)  # the original branch and the compacted one
        assert first.role == "user" and first.text.startswith("turn 0:")
        assert second.role == "system" and "SUMMARY" in second.text
        tip = store.leaf(conv)
        assert tip is not None and store.thread(tip)[0].id == second.id  # -c continues the new branch
        assert [h.message_id for h in store.search("fox")]  # the original is still searchable
    openai_fake.queue(oai.text(["answer 6"]))
    proc = user_env.run("ask", "-c", "-m", MODEL, "turn 6")
    assert proc.returncode == 0, proc.stderr
    assert "compact" not in proc.stderr  # the new branch has room again
    assert "SUMMARY" in openai_fake.chat_requests()[-1].body["messages"][0]["content"]


def test_error_strategy_exits_2_with_the_sizes_and_sends_nothing(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    user_env.write_config(config(openai_fake, "error"))
    grow(user_env, openai_fake, 5)
    before = len(openai_fake.chat_requests())
    proc = user_env.run("ask", "-c", "-m", MODEL, "turn 5: " + paragraph(500))
    assert proc.returncode == 2
    assert len(openai_fake.chat_requests()) == before
    line = proc.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert f"{WINDOW:,}-token" not in line and f"{WINDOW:,} tokens" in line and 'strategy = "error"' in line


def test_a_prompt_bigger_than_the_window_is_an_error_naming_both_sizes(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    """The README's `git diff | agentchat ask` with a diff no window can take, on every strategy."""
    diff = "".join(f"+line {i}: some changed code here();\n" for i in range(5000))
    for strategy in ("compact", "truncate", "error"):
        user_env.write_config(config(openai_fake, strategy))
        proc = user_env.run("ask", "-m", MODEL, "Write a commit message", input=diff)
        assert proc.returncode == 2, proc.stderr
        assert "the prompt is" in proc.stderr and f"context window is {WINDOW:,} tokens" in proc.stderr
        assert "larger window" in proc.stderr and "Traceback" not in proc.stderr
    assert openai_fake.chat_requests() == []


def test_usage_and_json_report_the_context(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(config(openai_fake))
    openai_fake.queue(oai.text(["hi"], usage=oai.usage(prompt=120, completion=3)))
    proc = user_env.run("ask", "-m", MODEL, "--json", "hello")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["context_tokens"] == 123 and data["context_window"] == WINDOW
    openai_fake.queue(oai.text(["hi"], usage=oai.usage(prompt=150, completion=5)))
    proc = user_env.run("ask", "-c", "-m", MODEL, "-u", "again")
    assert proc.returncode == 0, proc.stderr
    assert f"context 155/{WINDOW:,}" in proc.stderr


def test_anthropic_counts_with_its_endpoint_and_a_long_conversation_fits(
    user_env: UserEnv, anthropic_fake: AnthropicFake
) -> None:
    model = "claude-haiku-4-5"
    anthropic_fake.models = [model]
    anthropic_fake.windows[model] = WINDOW
    user_env.write_config(
        f"""
[providers.anthropic]
api_key = "{KEY}"
base_url = "{anthropic_fake.root}"
[models."{model}"]
context_window = {WINDOW}
[context]
strategy = "truncate"
[retry]
max_attempts = 1
"""
    )
    for i in range(10):
        anthropic_fake.queue(anth.text([f"answer {i}"]))
        proc = user_env.run("ask", "-m", model, *(["-c"] if i else []), f"turn {i}: " + paragraph(500))
        assert proc.returncode == 0, proc.stderr
    assert anthropic_fake.counted >= 1  # over the estimate, the endpoint was asked for the exact count
    assert max(wire_tokens(r.body) for r in anthropic_fake.chat_requests()) <= WINDOW


def test_compact_on_demand_with_a_focus_then_a_prompt(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(config(openai_fake))
    grow(user_env, openai_fake, 3, size=50)
    openai_fake.queue(oai.text(["SUMMARY of three turns"]))
    proc = user_env.run("ask", "-c", "--compact", "the fox")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "SUMMARY of three turns\n"
    assert "compacted 3 turn(s)" in proc.stderr
    assert "Focus on: the fox" in openai_fake.chat_requests()[-1].body["messages"][-1]["content"]
    with user_env.store() as store:
        conv = store.most_recent_conversation()
        assert conv is not None and len(roots(store, conv)) == 2
        cid = str(conv)
    openai_fake.queue(oai.text(["SUMMARY again"]), oai.text(["the answer"]))
    proc = user_env.run("ask", "--cid", cid, "--json", "--compact", "", "what now?")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["text"] == "the answer"
    sent = openai_fake.chat_requests()[-1].body["messages"]
    assert sent[0]["role"] == "system" and "SUMMARY again" in sent[0]["content"]
    assert [m["content"] for m in sent[1:]] == ["what now?"]
    proc = user_env.run("ask", "--compact")
    assert proc.returncode == 2 and "-c or --cid" in proc.stderr


def test_a_wrong_strategy_is_a_config_error_naming_the_choices(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    user_env.write_config(config(openai_fake, "summarise"))
    openai_fake.queue(oai.text(["hi"]))
    proc = user_env.run("ask", "-m", MODEL, "hello")
    assert proc.returncode == 2
    assert "context.strategy must be one of compact, truncate, error" in proc.stderr
