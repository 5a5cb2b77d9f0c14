"""Prompt templates: the files (core/templates.py), `agentchat templates`, and `ask --template`
against the OpenAI fake (the TUI's `/NAME` is in test_tui_slash.py)."""

from __future__ import annotations

from pathlib import Path

from agentchat.config import load_config
from agentchat.core.templates import load_template, split_args
from tests.conftest import UserEnv
from tests.fakes import openai_fake as oai
from tests.fakes.openai_fake import OpenAIFake

REVIEW = """---
description: Review a file for bugs
model: gpt-4.1
system: You are a careful reviewer.
tools: [read_file]
---
Review $1 for bugs. Everything asked: $ARGUMENTS
"""


def write(root: Path, name: str, text: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(text)
    return root / name


def user_dir(user_env: UserEnv) -> Path:
    return user_env.config_path.parent / "templates"


def workspace_dir(user_env: UserEnv) -> Path:
    return user_env.root / ".agentchat" / "templates"


def config_for(user_env: UserEnv, fake: OpenAIFake) -> None:
    user_env.write_config(
        f'[providers.openai]\napi_key = "sk-test"\nbase_url = "{fake.base_url}"\n[retry]\nmax_attempts = 1\n'
    )


def test_placeholders_and_front_matter(user_env: UserEnv, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    write(user_dir(user_env), "review.md", REVIEW)
    write(user_dir(user_env), "plain.md", "Summarise the following.\n")
    monkeypatch.chdir(user_env.root)
    config = load_config(user_env.config_path)
    review = load_template(config, "review")
    assert (review.model, review.provider, review.system, review.tools) == (
        "gpt-4.1", None, "You are a careful reviewer.", ["read_file"]
    )  # fmt: skip
    assert review.render(["app.py", "and", "tests"]) == (
        "Review app.py for bugs. Everything asked: app.py and tests"
    )
    assert review.render([]) == "Review  for bugs. Everything asked: "  # missing ones are empty
    # No placeholder: the words still go, as their own paragraph.
    assert load_template(config, "plain").render(["a", "b"]) == "Summarise the following.\n\na b"
    assert split_args('app.py "two words" x') == ["app.py", "two words", "x"]
    assert split_args('it"s') == ['it"s']  # an unbalanced quote is not an error


def test_templates_lists_both_places_and_the_workspace_wins(user_env: UserEnv) -> None:
    write(user_dir(user_env), "review.md", REVIEW)
    write(user_dir(user_env), "eli5.md", "Explain like I am five: $ARGUMENTS\n")
    write(workspace_dir(user_env), "eli5.md", "---\ndescription: the project's own\n---\nx\n")
    write(workspace_dir(user_env), "broken.md", "---\nmodle: x\n---\nbody\n")
    proc = user_env.run("templates")
    assert proc.returncode == 0, proc.stderr
    rows = [line.split(None, 2) for line in proc.stdout.splitlines()]
    assert rows == [
        ["eli5", "workspace", "the project's own"],
        ["review", "user", "Review a file for bugs"],
    ]
    assert "broken.md: unknown front matter key 'modle'" in proc.stderr


def test_no_templates_says_where_to_put_them(user_env: UserEnv) -> None:
    proc = user_env.run("templates")
    assert proc.returncode == 0 and proc.stdout == ""
    assert str(user_dir(user_env)) in proc.stderr and ".agentchat/templates" in proc.stderr


def test_ask_template_sends_the_rendered_prompt_with_its_settings(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    config_for(user_env, openai_fake)
    write(user_dir(user_env), "review.md", REVIEW)
    (user_env.root / "app.py").write_text("print(1)\n")
    openai_fake.queue(oai.text(["looks fine"]))
    proc = user_env.run("ask", "--template", "review", "app.py", "-t", "0.2", input="diff --git\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "looks fine\n"
    body = openai_fake.chat_requests()[0].body
    assert body["model"] == "gpt-4.1" and body["temperature"] == 0.2  # -t stays --temperature
    assert body["messages"][0] == {"role": "system", "content": "You are a careful reviewer."}
    assert body["messages"][-1]["content"] == (
        "diff --git\n\nReview app.py for bugs. Everything asked: app.py"
    )  # piped stdin first, then the template
    assert [tool["function"]["name"] for tool in body["tools"]] == ["read_file"]


def test_ask_flags_win_over_the_template(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    config_for(user_env, openai_fake)
    write(workspace_dir(user_env), "review.md", REVIEW)
    openai_fake.queue(oai.text(["ok"]))
    proc = user_env.run(
        "ask", "--template", "review", "-m", "gpt-4o-mini", "-s", "Be brief.", "x.py", "-T", "now"
    )
    assert proc.returncode == 0, proc.stderr
    body = openai_fake.chat_requests()[0].body
    assert body["model"] == "gpt-4o-mini"
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert [tool["function"]["name"] for tool in body["tools"]] == ["now"]


def test_ask_unknown_or_broken_template_is_a_usage_error(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    config_for(user_env, openai_fake)
    write(user_dir(user_env), "bad.md", "---\nmodel: [1, 2]\n---\nx\n")
    proc = user_env.run("ask", "--template", "nope", "hi")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "no template 'nope' (templates: bad)" in proc.stderr and "Traceback" not in proc.stderr
    proc = user_env.run("ask", "--template", "bad")
    assert proc.returncode == 2 and "bad.md: model must be text" in proc.stderr
    assert openai_fake.chat_requests() == []


async def test_ask_template_and_the_tui_slash_send_the_same_request(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    """Face parity: one template file, `ask --template` and `/NAME` in the TUI, one request body."""
    from tests.test_tui_helpers import SIZE, make_app, ready, send, settle

    user_env.write_config(
        f'workspace = "{user_env.root}"\n[providers.openai]\napi_key = "sk-test"\n'
        f'base_url = "{openai_fake.base_url}"\n'
    )
    write(workspace_dir(user_env), "review.md", REVIEW.replace("[read_file]", "[now, read_file]"))
    openai_fake.queue(oai.text(["ok"]), oai.text(["ok"]))
    proc = user_env.run("ask", "--template", "review", "app.py", "carefully")
    assert proc.returncode == 0, proc.stderr
    app = make_app(user_env, load_config(user_env.config_path), workspace=user_env.root)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "/review app.py carefully")
        await settle(pilot)
    from_ask, from_tui = (request.body for request in openai_fake.chat_requests())
    for body in (from_ask, from_tui):  # where sent, each conversation has its own cache key
        body.pop("prompt_cache_key", None)
    assert from_tui == from_ask
    assert from_ask["model"] == "gpt-4.1" and "now" in str(from_ask["tools"])
