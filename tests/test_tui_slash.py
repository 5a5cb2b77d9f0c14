"""The power user's prompt: the `/` popup and slash commands, templates as `/NAME args` (the files
`ask --template` reads), and ctrl+e in $EDITOR. Pilot tests against the fake servers."""

from __future__ import annotations

import sys
from pathlib import Path

from agentchat.tui.widgets.slash import SlashMenu
from tests.fakes.openai_fake import text as gpt_text
from tests.test_tui_attach import toasted
from tests.test_tui_helpers import SIZE, make_app, ready, screen_text, send, settle, write_config

REVIEW = """---
description: Review a file for bugs
model: gpt-4.1
system: You are a careful reviewer.
tools: [now]
---
Review $1 for bugs. Focus: $ARGUMENTS
"""


def template(user_env, name: str, text: str) -> None:  # type: ignore[no-untyped-def]
    directory = user_env.config_path.parent / "templates"
    directory.mkdir(exist_ok=True)
    (directory / f"{name}.md").write_text(text)


def menu_names(app) -> list[str]:  # type: ignore[no-untyped-def]
    menu = app.screen.query_one(SlashMenu)
    return [item.name for item in menu.items] if menu.display else []


async def test_slash_opens_a_filtered_popup_and_tab_completes(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    template(user_env, "review", REVIEW)
    template(user_env, "evil", '---\ndescription: "[bold]loud[/bold]\\e[2J"\n---\nx\n')
    app = make_app(user_env, write_config(user_env, openai=openai_fake))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("/")
        names = menu_names(app)
        assert names[:13] == [
            "model", "provider", "agent", "system", "new", "compact", "cost", "export", "copy",
            "tools", "branch", "theme", "help",
        ]  # fmt: skip
        assert "review" in names
        await pilot.press("r", "e")
        assert menu_names(app) == ["review"] and "Review a file for bugs" in screen_text(app)
        app.screen.prompt.load_text("/evil")  # a description is text: no markup, no escapes
        await pilot.pause()
        assert menu_names(app) == ["evil"] and "[bold]loud[/bold]" in screen_text(app)
        prompt = app.screen.prompt
        prompt.load_text("/o")
        await pilot.pause()  # names starting with it first, then those containing it
        assert menu_names(app) == ["model", "provider", "compact", "cost", "export", "copy", "tools"]
        await pilot.press("down", "down", "tab")
        assert prompt.text == "/compact " and not menu_names(app)
        prompt.load_text("/mo")
        await pilot.pause()
        await pilot.press("escape")  # closes the popup; the text stays
        assert not menu_names(app) and prompt.text == "/mo"


async def test_a_template_is_sent_with_its_settings(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    template(user_env, "review", REVIEW)
    openai_fake.queue(gpt_text(["Looks fine."]))
    app = make_app(user_env, write_config(user_env, openai=openai_fake), workspace=user_env.root)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, '/review app.py "off by one"')
        await settle(pilot)
        assert "Looks fine." in screen_text(app)
        assert "Review app.py for bugs. Focus: app.py off by one" in screen_text(app)
    body = openai_fake.chat_requests()[0].body
    assert body["model"] == "gpt-4.1"
    assert body["messages"][0] == {"role": "system", "content": "You are a careful reviewer."}
    assert body["messages"][-1]["content"] == "Review app.py for bugs. Focus: app.py off by one"
    assert [tool["function"]["name"] for tool in body["tools"]] == ["now"]


async def test_commands_run_and_unknown_ones_are_not_sent(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    openai_fake.queue(gpt_text(["Hi there."]), gpt_text(["fine"]))
    app = make_app(user_env, write_config(user_env, openai=openai_fake))
    app.workspace = user_env.root  # where /export writes
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        await send(pilot, "/system Answer in French.")
        await send(pilot, "hello")
        await settle(pilot)
        await send(pilot, "/modle")  # a typo: refused, kept nowhere near the model
        await pilot.pause()
        await toasted(pilot, "no command or template /modle")
        await send(pilot, "/export")
        await pilot.pause()
        exported = user_env.root / "conversation-1.md"
        await send(pilot, "/etc/hosts says what?")  # not a command's name: a message
        await settle(pilot)
        await send(pilot, "/new")
        await settle(pilot)
        assert app.screen.conversation_id is None and "Hi there." not in screen_text(app)
    first, second = (r.body["messages"] for r in openai_fake.chat_requests())
    assert first[0] == {"role": "system", "content": "Answer in French."}
    assert second[-1] == {"role": "user", "content": "/etc/hosts says what?"}
    assert len(openai_fake.chat_requests()) == 2
    assert "## system\n\nAnswer in French." in exported.read_text() and "Hi there." in exported.read_text()


def test_the_editor_is_visual_then_editor(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from agentchat.tui.editor import editor_command

    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", "code --wait")
    assert editor_command() == ["code", "--wait"]
    monkeypatch.setenv("VISUAL", "'my editor' -f")
    assert editor_command() == ["my editor", "-f"]


def editor_script(tmp_path: Path, body: str) -> str:
    """A stand-in for $EDITOR: a program that rewrites the file it is given."""
    script = tmp_path / "fake-editor.py"
    script.write_text(f"import sys\n{body}\n")
    return f"{sys.executable} {script}"


async def test_ctrl_e_fills_the_prompt_from_the_editor_and_sends_nothing(  # type: ignore[no-untyped-def]
    user_env, openai_fake, tmp_path, monkeypatch
) -> None:
    saved = "open(sys.argv[1], 'a').write(' and in detail\\nline two\\n')"
    monkeypatch.setenv("VISUAL", editor_script(tmp_path, saved))
    app = make_app(user_env, write_config(user_env, openai=openai_fake))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        app.screen.prompt.load_text("explain monads")
        await pilot.press("ctrl+e")
        await pilot.pause()
        assert app.screen.prompt.text == "explain monads and in detail\nline two"
        assert openai_fake.chat_requests() == [] and app.screen.conversation_id is None
        monkeypatch.setenv("VISUAL", editor_script(tmp_path, "open(sys.argv[1], 'w').write('')"))
        await pilot.press("ctrl+e")  # emptied: the prompt stays as it was
        await pilot.pause()
        assert app.screen.prompt.text == "explain monads and in detail\nline two"
        await toasted(pilot, "nothing saved")
        monkeypatch.setenv("VISUAL", editor_script(tmp_path, "sys.exit(3)"))
        await pilot.press("ctrl+e")
        await pilot.pause()
        await toasted(pilot, "exited with status 3")
        monkeypatch.delenv("VISUAL")
        monkeypatch.delenv("EDITOR", raising=False)
        await pilot.press("ctrl+e")
        await pilot.pause()
        await toasted(pilot, "set $VISUAL or $EDITOR")
    assert openai_fake.chat_requests() == []


async def test_slash_mcp_prompt_fills_the_input(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    from tests.test_tui_mcp import mcp_app, modal

    async with mcp_app(user_env, openai_fake) as pilot:
        app = pilot.app
        app.screen.prompt.focus()
        await pilot.press("/", *"demo:")
        assert menu_names(app) == ["demo:review"]
        await send(pilot, "/demo:review Rust")  # words fill the declared arguments in order
        await settle(pilot)
        assert app.screen.prompt.text == "Review this Rust code for bugs."
        await send(pilot, "/demo:review")  # none given: asked for, in the server's form
        await modal(pilot)
        await pilot.press("Z", "i", "g", "enter")
        await settle(pilot)
        assert app.screen.prompt.text == "Review this Zig code for bugs."
    assert openai_fake.chat_requests() == []  # filled, never sent


async def test_the_other_commands(user_env, openai_fake, anthropic_fake) -> None:  # type: ignore[no-untyped-def]
    from agentchat.tui.screens.dialogs import Choice

    openai_fake.queue(gpt_text(["A1"]), gpt_text(["A2"]), gpt_text(["Earlier: the user asked a question."]))
    extra = '\n[agents.terse]\nsystem = "Be terse."\n'
    config = write_config(user_env, openai=openai_fake, anthropic=anthropic_fake, extra=extra)
    app = make_app(user_env, config)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        screen = app.screen
        await send(pilot, "/provider anthropic")
        await settle(pilot)
        assert (screen.bar.provider, screen.bar.model) == ("anthropic", "claude-sonnet-4-6")
        await send(pilot, "/model gpt-4o-mini")
        await settle(pilot)
        assert (screen.bar.provider, screen.bar.model) == ("openai", "gpt-4o-mini")
        await send(pilot, "question")
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        await send(pilot, "/cost")
        await toasted(pilot, "14→30 tokens over 1 reply")  # the branch on screen: the question and A2
        await send(pilot, "/branch")
        await pilot.pause()
        assert isinstance(app.screen, Choice) and app.screen.items[1].startswith("• 2/2  A2")
        await pilot.press("up", "enter")  # from the one on screen (A2) to A1
        await settle(pilot)
        assert [b.message.text for b in screen.view.boxes()] == ["question", "A1"]
        await send(pilot, "/copy")
        await pilot.pause()
        assert app.clipboard.endswith("A1")
        await send(pilot, "/compact")
        await settle(pilot)
        await toasted(pilot, "summarised")
        [summary] = [b.message for b in screen.view.boxes()]  # the new branch's root
        assert summary.role == "system" and "Earlier: the user asked a question." in summary.text
        await send(pilot, "/theme gruvbox")
        await pilot.pause()
        assert app.theme == "gruvbox"
        await send(pilot, "/help")
        await pilot.pause()
        assert isinstance(app.screen, Choice) and app.screen.items[0].startswith("/model")
        await pilot.press("escape")
        await send(pilot, "/agent terse")
        await settle(pilot)
        assert screen.agent == "terse" and screen.conversation_id is None
    assert 'theme = "gruvbox"' in user_env.config_path.read_text()
