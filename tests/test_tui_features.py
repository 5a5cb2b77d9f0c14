"""Pilot tests of the rest of the TUI: errors, model picker, history (search, rename, delete, lazy
loading), thinking, copy, the command palette and import hygiene."""

from __future__ import annotations

import os
import subprocess
import sys

from agentchat.core.messages import Message, TextPart, ThinkingPart, ToolCallPart, ToolResultPart
from agentchat.tui.commands import COMMANDS
from agentchat.tui.screens.keys import KeyStatusScreen
from agentchat.tui.screens.main import MainScreen
from agentchat.tui.widgets.conversation import PAGE
from agentchat.tui.widgets.provider_bar import ProviderBar
from tests.fakes.anthropic_fake import text as claude_text
from tests.fakes.openai_fake import error as gpt_error
from tests.fakes.openai_fake import text as gpt_text
from tests.test_tui_helpers import (
    REPO_SRC,
    SIZE,
    make_app,
    ready,
    run_command,
    screen_text,
    seed,
    send,
    settle,
    toasts,
    write_config,
)


async def test_errors_are_notifications_not_crashes(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    config = write_config(user_env, openai=openai_fake)
    openai_fake.queue(
        gpt_error(503, "The server is overloaded"), gpt_error(429, "Rate limit reached for requests")
    )
    app = make_app(user_env, config)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        await send(pilot, "first")
        await settle(pilot)
        assert "Provider unreachable" in screen_text(app)
        await send(pilot, "second")
        await settle(pilot)
        assert "Rate limited" in screen_text(app)
        assert app.is_running and not app.screen.generating
        # the failed replies are in the conversation as the store has them, under their prompts
        roles = [(box.message.role, box.message.status) for box in app.screen.view.boxes()]
        assert roles == [("user", "complete"), ("assistant", "error")] * 2


async def test_an_unknown_config_key_is_said_at_start(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    config = write_config(user_env, openai=openai_fake, extra="[budgte]\nmonthly_usd = 5\n")
    app = make_app(user_env, config)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        said = " ".join(" ".join(toasts(app)).split())
        assert "unknown table [budgte] (did you mean 'budget'?)" in said, said


async def test_no_key_anywhere_says_how_to_fix_it(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    config = write_config(user_env, openai=openai_fake, openai_key=None)
    app = make_app(user_env, config)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        await settle(pilot)
        assert "no provider is usable" in screen_text(app)  # said at start, before any send
        await send(pilot, "hello?")
        await settle(pilot)
        text = screen_text(app)
        assert "Key missing or rejected" in text and "OPENAI_API_KEY" in text
        assert app.is_running
        # nothing could take it, so nothing was stored: the text is back in the prompt, not lost
        assert app.screen.prompt.text == "hello?" and not app.screen.view.boxes()
        assert app.store.list_conversations() == [] and app.screen.conversation_id is None
    assert openai_fake.chat_requests() == []


async def test_model_picker_lists_discovered_models_and_switches(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    openai_fake.models = ["gpt-4o-mini", "gpt-4.1-nano"]
    config = write_config(user_env, openai=openai_fake)
    openai_fake.queue(gpt_text(["small answer"]))
    app = make_app(user_env, config)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+l")
        await settle(pilot)
        text = screen_text(app)
        assert "gpt-4.1-nano" in text and "2 models" in text  # discovered from GET /v1/models
        await pilot.press(*"nano", "enter")
        await pilot.pause()
        bar = app.screen.query_one(ProviderBar)
        assert (bar.provider, bar.model) == ("openai", "gpt-4.1-nano")
        await send(pilot, "hi")
        await settle(pilot)
    assert openai_fake.chat_requests()[0].body["model"] == "gpt-4.1-nano"


async def test_search_finds_and_opens_a_conversation(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    config = write_config(user_env, openai=openai_fake)
    app = make_app(user_env, config)
    seed(app.store, "Marsupials", [("tell me about the kangaroo", "It hops.")])
    seed(app.store, "Cooking", [("pasta water", "Salt it.")])
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+f", *"kangaroo", "enter")
        await settle(pilot)
        assert "Marsupials" in screen_text(app) and "Cooking" not in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert "It hops." in screen_text(app)
        assert app.screen.conversation_id == 1


async def test_rename_and_delete_from_the_agent_list(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    config = write_config(user_env, openai=openai_fake)
    app = make_app(user_env, config)
    first = seed(app.store, "Old title", [("q", "a")])
    seed(app.store, "Keep me", [("q2", "a2")])
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        tree = app.screen.query_one("#agents")
        tree.focus()
        await pilot.press("down", "down", "down")  # default, Keep me, Old title (newest first)
        await pilot.press("r")
        await pilot.pause()
        app.screen.query_one("#text").value = "New title"
        await pilot.press("enter")
        await pilot.pause()
        assert app.store.conversation(first).title == "New title"
        assert "New title" in screen_text(app)
        tree.focus()
        await pilot.press("d")
        await pilot.pause()
        assert "Delete “New title”" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert app.store.conversation(first) is None
        assert "New title" not in screen_text(app) and "Keep me" in screen_text(app)


async def test_long_conversation_mounts_a_page_and_loads_more_on_scroll_up(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    config = write_config(user_env, openai=openai_fake)
    app = make_app(user_env, config)
    conversation = seed(app.store, "Long", [(f"question {i}", f"answer {i}") for i in range(150)])
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.screen.open_conversation(conversation)
        await settle(pilot)
        view = app.screen.view
        assert len(view.boxes()) == PAGE
        assert "answer 149" in screen_text(app)
        assert view.boxes()[0].message.text == f"question {150 - PAGE // 2}"
        view.scroll_home(animate=False)
        await settle(pilot)
        assert len(view.boxes()) == 2 * PAGE
        assert view.earlier == 300 - 2 * PAGE


async def test_the_tool_pane_lists_every_call_of_a_reopened_conversation(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    """Also the calls of messages above the mounted page, with their stored status and duration."""
    config = write_config(user_env, openai=openai_fake)
    app = make_app(user_env, config)
    store = app.store
    conversation = store.create_conversation(title="Agentic")
    parent = store.add_message(conversation, Message(role="user", parts=[TextPart("list the files")]))
    call = ToolCallPart("call_1", "list_dir", {"path": "."})
    parent = store.add_message(conversation, Message(role="assistant", parts=[call], parent_id=parent))
    result = ToolResultPart("call_1", "a.txt", name="list_dir", status="done", duration_s=1.5)
    parent = store.add_message(conversation, Message(role="tool", parts=[result], parent_id=parent))
    for i in range(PAGE):
        role = "user" if i % 2 else "assistant"
        parent = store.add_message(
            conversation, Message(role=role, parts=[TextPart(f"chat {i}")], parent_id=parent)
        )
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.screen.open_conversation(conversation)
        await settle(pilot)
        assert all(box.message.role != "tool" for box in app.screen.view.boxes())  # not mounted
        assert app.screen.tools.display
        assert "✓ list_dir · done · 1.5 s" in screen_text(app)


async def test_thinking_is_shown_collapsed(user_env, anthropic_fake) -> None:  # type: ignore[no-untyped-def]
    config = write_config(user_env, anthropic=anthropic_fake)
    anthropic_fake.queue(claude_text(["The answer is 4."], thinking=["Two plus two ", "makes four."]))
    app = make_app(user_env, config)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "2+2?")
        await settle(pilot)
        text = screen_text(app)
        assert "▶ thinking" in text and "The answer is 4." in text
        assert "makes four" not in text
        stored = app.store.get_message(app.store.leaf(1))
        assert isinstance(stored.parts[0], ThinkingPart)
        await pilot.click("MessageBox CollapsibleTitle")
        await pilot.pause()
        assert "Two plus two makes four." in screen_text(app)


async def test_copy_a_reply_and_its_code_block(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    config = write_config(user_env, openai=openai_fake)
    reply = "Use this:\n\n```python\nprint('copied')\n```\n"
    openai_fake.queue(gpt_text([reply]))
    app = make_app(user_env, config)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "code please")
        await settle(pilot)
        await pilot.press("f8")
        await pilot.pause()
        assert app.clipboard == "print('copied')"
        box = app.screen.view.boxes()[-1]
        box.focus()
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == reply


def test_every_binding_is_in_the_command_palette() -> None:
    palette = {command.action for command in COMMANDS}
    bound = {binding.action for binding in MainScreen.BINDINGS}  # type: ignore[union-attr]
    assert bound <= palette, bound - palette


async def test_command_palette_runs_an_action(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    config = write_config(user_env, openai=openai_fake)
    app = make_app(user_env, config)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await run_command(pilot, "Key status")
        await settle(pilot)
        assert isinstance(app.screen, KeyStatusScreen)


def test_importing_the_tui_loads_no_provider_sdk() -> None:
    code = (
        "import sys, agentchat.tui.app\n"
        "loaded = [m for m in ('openai', 'anthropic', 'ollama', 'mcp') if m in sys.modules]\n"
        "print(','.join(loaded))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": REPO_SRC}, check=True
    )
    assert out.stdout.strip() == ""


async def test_keys_typed_in_one_burst_after_a_focus_key_reach_the_new_focus(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    """A terminal delivers a fast typist's (or a script's) keys in one read: the letters after
    ctrl+f must land in the search box, not in the prompt that had focus when they arrived."""
    from textual import events

    config = write_config(user_env, openai=openai_fake)
    app = make_app(user_env, config)
    seed(app.store, "Marsupials", [("tell me about the kangaroo", "It hops.")])
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        for key in ("ctrl+f", "ctrl+u", *"kangaroo", "enter"):  # all queued before the app handles the first
            app.post_message(events.Key(key, key if len(key) == 1 else None))
        await settle(pilot)
        assert "Marsupials" in screen_text(app)
        assert app.screen.prompt.text == "" and not openai_fake.chat_requests()
        for key in ("ctrl+n", *"hello"):
            app.post_message(events.Key(key, key if len(key) == 1 else None))
        await settle(pilot)
        assert app.screen.prompt.text == "hello"


async def test_copy_also_reaches_the_desktop_clipboard_tool(
    user_env, openai_fake, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Terminals without OSC 52 (VTE, macOS Terminal) still get the text: wl-copy/xclip/pbcopy."""
    bin_dir, sink = tmp_path / "bin", tmp_path / "clipboard.txt"
    bin_dir.mkdir()
    tool = bin_dir / "wl-copy"
    tool.write_text(f"#!/bin/sh\ncat > {sink}\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-test")
    config = write_config(user_env, openai=openai_fake)
    app = make_app(user_env, config)
    seed(app.store, "Snippets", [("show me", "Here:\n\n```python\nprint('hi')\n```")])
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.screen.open_conversation(1)
        await settle(pilot)
        await pilot.press("f8")
        await settle(pilot)
    assert sink.read_text() == "print('hi')" and app.clipboard == "print('hi')"
