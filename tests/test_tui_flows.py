"""Pilot tests of the main TUI flows against the fake servers (real SDKs over loopback HTTP)."""

from __future__ import annotations

import stat
from pathlib import Path

from agentchat.tui.widgets.conversation import LIVE_REPLIES, MessageBox
from agentchat.tui.widgets.prompt import PromptInput
from agentchat.tui.widgets.provider_bar import ProviderBar
from agentchat.tui.widgets.tools import ToolPane
from tests.branches import children, roots
from tests.fakes.anthropic_fake import text as claude_text
from tests.fakes.openai_fake import text as gpt_text
from tests.fakes.openai_fake import tool_calls as gpt_tools
from tests.test_tui_helpers import (
    SIZE,
    ManualClock,
    make_app,
    ready,
    screen_text,
    send,
    settle,
    wait_for_text,
    write_config,
)


def _roles(app, conversation_id: int) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    store = app.store
    return [(m.role, m.text, m.status) for m in store.thread(store.leaf(conversation_id))]


async def test_send_streams_the_reply_and_labels_it(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    config = write_config(user_env, openai=openai_fake)
    chunks = ["Paris ", "is ", "the ", "capital", ".\n\n", "```python\nprint('hi')\n```"]
    openai_fake.queue(gpt_text(chunks, delay_s=0.05))
    app = make_app(user_env, config)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "capital of France?", typed=True)
        await wait_for_text(pilot, "Paris is")
        assert app.screen.generating, "the first words must show while the reply is still streaming"
        assert app.screen.query("#conversation ReplyBox Markdown"), "the reply streams into a Markdown"
        await settle(pilot)
        text = screen_text(app)
        assert "print('hi')" in text
        assert "openai · gpt-4o-mini · 14→30 tok" in text  # provider, model, tokens
        assert "capital of France?" in text
    body = openai_fake.chat_requests()[0].body
    assert body["model"] == "gpt-4o-mini" and body["stream"] is True
    assert _roles(app, 1) == [
        ("user", "capital of France?", "complete"),
        ("assistant", "".join(chunks), "complete"),
    ]


async def test_only_the_newest_replies_keep_markdown_widgets(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    config = write_config(user_env, openai=openai_fake)
    openai_fake.queue(*(gpt_text([f"reply {i}\n\n- a\n- b"]) for i in range(LIVE_REPLIES + 2)))
    app = make_app(user_env, config)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        for i in range(LIVE_REPLIES + 2):
            await send(pilot, f"question {i}")
            await settle(pilot)
        assert len(app.screen.query("#conversation Markdown")) == LIVE_REPLIES
        assert f"reply {LIVE_REPLIES + 1}" in screen_text(app)


def slow_reply_app(user_env, openai_fake, **kwargs):  # type: ignore[no-untyped-def]
    """The app, and a reply of 100 words the fake streams at 10 a second: long enough to act on."""
    config = write_config(user_env, openai=openai_fake)
    openai_fake.queue(gpt_text([f"word{i} " for i in range(100)], delay_s=0.1))
    return make_app(user_env, config, **kwargs)


async def start_slow_reply(pilot) -> None:  # type: ignore[no-untyped-def]
    await ready(pilot)
    await send(pilot, "count slowly")
    await wait_for_text(pilot, "word1")


async def test_escape_stops_and_keeps_the_partial_reply(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    clock = ManualClock()  # the reply's time is what the test says, however many words came
    app = slow_reply_app(user_env, openai_fake, engine_clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await start_slow_reply(pilot)
        assert "esc Stop" in screen_text(app)  # the footer offers it while the reply streams
        clock.now = 4.0
        await pilot.press("escape")
        await settle(pilot)
        assert not app.screen.generating
        text = screen_text(app)
        assert "interrupted" in text and "esc Stop" not in text
        assert "word99" not in text
        reply = app.screen.view.boxes()[-1]  # labelled from the store: also its time, so far
        assert reply.border_title == "openai · gpt-4o-mini · 4.0 s · interrupted · 12:00"
        [(_, _, _), (role, partial, status)] = _roles(app, 1)
    assert (role, status) == ("assistant", "interrupted")
    assert partial.startswith("word0 word1") and "word99" not in partial


async def test_regenerate_replaces_the_reply_and_keeps_the_old_one_stored(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    config = write_config(user_env, openai=openai_fake)
    openai_fake.queue(gpt_text(["first answer"]), gpt_text(["second answer"]))
    app = make_app(user_env, config)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "question")
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        text = screen_text(app)
        assert "second answer" in text and "first answer" not in text
        user = app.store.thread(app.store.leaf(1))[0]
        assert sorted(m.text for m in children(app.store, user.id)) == ["first answer", "second answer"]
    regenerated = openai_fake.chat_requests()[1].body["messages"]
    assert regenerated == [{"role": "user", "content": "question"}]


async def test_edit_an_earlier_message_resends_it_as_a_branch(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    config = write_config(user_env, openai=openai_fake)
    openai_fake.queue(gpt_text(["A1"]), gpt_text(["A2"]), gpt_text(["A2 edited"]))
    app = make_app(user_env, config)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "one")
        await settle(pilot)
        await send(pilot, "two")
        await settle(pilot)
        second_user = next(b for b in app.screen.query(MessageBox) if b.message.text == "two")
        second_user.focus()
        await pilot.press("e")  # the message's own binding opens the editor
        await pilot.pause()
        editor = app.screen.query_one(PromptInput)
        assert editor.text == "two"
        editor.load_text("two (edited)")
        await pilot.press("enter")
        await settle(pilot)
        text = screen_text(app)
        assert "two (edited)" in text and "A2 edited" in text
        assert "A2\n" not in text and "│A2 " not in text
        first_reply = app.store.thread(app.store.leaf(1))[1]
        assert sorted(m.text for m in children(app.store, first_reply.id)) == ["two", "two (edited)"]
    resent = openai_fake.chat_requests()[2].body["messages"]
    assert [m["content"] for m in resent] == ["one", "A1", "two (edited)"]


async def test_switching_provider_mid_conversation_sends_the_whole_history(  # type: ignore[no-untyped-def]
    user_env, openai_fake, anthropic_fake
) -> None:
    config = write_config(user_env, openai=openai_fake, anthropic=anthropic_fake)
    openai_fake.queue(gpt_text(["from openai"]))
    anthropic_fake.queue(claude_text(["from claude"]))
    app = make_app(user_env, config)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await settle(pilot)
        assert app.screen.query_one(ProviderBar).provider == "openai"
        await send(pilot, "hello")
        await settle(pilot)
        await pilot.press("ctrl+o")
        await pilot.pause()
        bar = app.screen.query_one(ProviderBar)
        assert (bar.provider, bar.model) == ("anthropic", "claude-sonnet-4-6")
        await send(pilot, "and you?")
        await settle(pilot)
        assert "anthropic · claude-sonnet-4-6" in screen_text(app)
    [request] = anthropic_fake.chat_requests()
    sent = request.body["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert "from openai" in str(sent[1]["content"]) and "and you?" in str(sent[2]["content"])
    assert len(openai_fake.chat_requests()) == 1


async def test_set_a_key_writes_0600_and_never_shows_it(user_env, openai_fake, anthropic_fake) -> None:  # type: ignore[no-untyped-def]
    secret = "sk-ant-s3cr3t-42"
    anthropic_fake.api_key = secret
    config = write_config(user_env, openai=openai_fake, anthropic=anthropic_fake, anthropic_key=None)
    app = make_app(user_env, config)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("f2")
        await settle(pilot)
        text = screen_text(app)
        assert "missing" in text and "valid" in text
        await pilot.press("down", "s")  # the anthropic row
        await pilot.press(*secret)
        assert secret not in screen_text(app) and "•" * 8 in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        text = screen_text(app)
        assert secret not in text
        row = [line for line in text.splitlines() if "anthropic" in line and " set " in line]  # the panel's
        assert row and "valid" in row[0], text
        await pilot.press("escape")
        await pilot.pause()
        assert secret not in screen_text(app)
    mode = stat.S_IMODE(Path(user_env.config_path).stat().st_mode)
    assert mode == 0o600
    assert f'api_key = "{secret}"' in Path(user_env.config_path).read_text()


async def test_approve_a_tool_call_runs_it(user_env, openai_fake, tmp_path) -> None:  # type: ignore[no-untyped-def]
    workspace = tmp_path / "ws"
    workspace.mkdir()
    config = write_config(user_env, openai=openai_fake)
    call = ("call_1", "write_file", {"path": "note.txt", "content": "hello"})
    openai_fake.queue(gpt_tools([call]), gpt_text(["Written."]))
    app = make_app(user_env, config, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "write a note")
        await wait_for_text(pilot, "Allow the tool write_file?")
        assert '"content": "hello"' in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        pane = app.screen.query_one(ToolPane)
        assert pane.display
        text = screen_text(app)
        assert "✓ write_file · done" in text and "Written." in text
    assert (workspace / "note.txt").read_text() == "hello"
    tool_message = openai_fake.chat_requests()[1].body["messages"][-1]
    assert tool_message["role"] == "tool" and tool_message["tool_call_id"] == "call_1"


async def test_deny_a_tool_call_tells_the_model(user_env, openai_fake, tmp_path) -> None:  # type: ignore[no-untyped-def]
    workspace = tmp_path / "ws"
    workspace.mkdir()
    config = write_config(user_env, openai=openai_fake)
    call = ("call_1", "run_shell", {"command": "touch pwned"})
    openai_fake.queue(gpt_tools([call]), gpt_text(["OK, not running it."]))
    app = make_app(user_env, config, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "run something")
        await wait_for_text(pilot, "Allow the tool run_shell?")
        await pilot.press("n")
        await settle(pilot)
        text = screen_text(app)
        assert "⊘ run_shell · denied" in text and "OK, not running it." in text
    assert not (workspace / "pwned").exists()
    tool_message = openai_fake.chat_requests()[1].body["messages"][-1]
    assert tool_message["role"] == "tool" and "run_shell" in tool_message["content"]
    assert "exit code" not in tool_message["content"]


async def test_allow_always_holds_for_the_conversation(user_env, openai_fake, tmp_path) -> None:  # type: ignore[no-untyped-def]
    workspace = tmp_path / "ws"
    workspace.mkdir()
    config = write_config(user_env, openai=openai_fake)
    openai_fake.queue(
        gpt_tools([("c1", "write_file", {"path": "a.txt", "content": "1"})]),
        gpt_tools([("c2", "write_file", {"path": "b.txt", "content": "2"})]),
        gpt_text(["both written"]),
    )
    app = make_app(user_env, config, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "write two files")
        await wait_for_text(pilot, "Allow the tool write_file?")
        await pilot.press("a")
        await settle(pilot)  # the second call ran without asking again
        assert "both written" in screen_text(app)
    assert (workspace / "a.txt").exists() and (workspace / "b.txt").exists()


async def test_editing_the_first_message_branches_in_place(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    config = write_config(user_env, openai=openai_fake)
    openai_fake.queue(gpt_text(["A1"]), gpt_text(["B1"]))
    app = make_app(user_env, config)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "first try")
        await settle(pilot)
        await pilot.press("f4")
        await pilot.pause()
        app.screen.query_one(PromptInput).load_text("second try")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.conversation_id == 1  # the same conversation, a new root branch
        assert "B1" in screen_text(app) and "A1" not in screen_text(app)
    assert [m.text for m in roots(app.store, 1)] == ["first try", "second try"]  # the old branch stays
    assert _roles(app, 1) == [("user", "second try", "complete"), ("assistant", "B1", "complete")]
    assert openai_fake.chat_requests()[1].body["messages"] == [{"role": "user", "content": "second try"}]


async def test_stopping_while_a_tool_runs_marks_it_interrupted(user_env, openai_fake, tmp_path) -> None:  # type: ignore[no-untyped-def]
    workspace = tmp_path / "ws"
    workspace.mkdir()
    config = write_config(user_env, openai=openai_fake, extra='[tools.policies]\nrun_shell = "allow"\n')
    openai_fake.queue(gpt_tools([("call_1", "run_shell", {"command": "sleep 30"})]))
    app = make_app(user_env, config, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "wait a while")
        await wait_for_text(pilot, "run_shell · running")
        await pilot.press("escape")
        await settle(pilot)
        assert "■ run_shell · interrupted" in screen_text(app)
    (result,) = app.store.thread(app.store.leaf(1))[-1].tool_results
    assert result.status == "interrupted" and result.is_error


async def test_a_multi_line_prompt_is_shown_as_typed(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    config = write_config(user_env, openai=openai_fake)
    openai_fake.queue(gpt_text(["ok"]))
    app = make_app(user_env, config)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "line one\nline *two*")
        await settle(pilot)
        shown = [line[34:].strip() for line in screen_text(app).splitlines()]  # right of the sidebar
        lines = [line for line in shown if line.startswith("line")]
        assert lines == ["line one", "line *two*"]  # two lines, no markup applied


async def test_deleting_the_conversation_that_streams_stops_it_first(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    app = slow_reply_app(user_env, openai_fake)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await start_slow_reply(pilot)
        app.screen.delete(1)
        await pilot.press("y")
        await settle(pilot)
        assert not app.screen.generating and app.screen.conversation_id is None
        text = screen_text(app)
        assert "deleted" in text and "no longer exists" not in text and "Error" not in text
    assert app.store.list_conversations() == []


async def test_the_provider_cycle_skips_a_provider_whose_key_was_rejected(  # type: ignore[no-untyped-def]
    user_env, openai_fake, anthropic_fake
) -> None:
    anthropic_fake.api_key = "sk-ant-the-real-one"  # the configured key is rejected
    config = write_config(user_env, openai=openai_fake, anthropic=anthropic_fake)
    app = make_app(user_env, config)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+l")  # the model picker's discovery finds out
        await settle(pilot)
        assert "anthropic  rejected" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert app.screen.query_one(ProviderBar).provider == "openai"
        assert "no other provider is usable" in screen_text(app)


async def test_the_key_panel_shows_a_mangled_key_instead_of_crashing(  # type: ignore[no-untyped-def]
    user_env, openai_fake, anthropic_fake, monkeypatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-BROKEN KEY")
    config = write_config(user_env, openai=openai_fake, anthropic=anthropic_fake, anthropic_key=None)
    app = make_app(user_env, config)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("f2")
        await settle(pilot)
        text = screen_text(app)
        assert app.is_running and "invalid" in text and "BROKEN" not in text


async def test_a_stop_before_a_queued_prompt_starts_gives_the_prompt_back(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    """Sent while a reply streams, a prompt waits for that reply to stop; escape in that moment
    stops both, and the prompt's text is back in the input, not lost and not sent."""
    app = slow_reply_app(user_env, openai_fake)
    async with app.run_test(size=SIZE) as pilot:
        await start_slow_reply(pilot)
        screen = app.screen
        await screen.on_prompt_input_submitted(PromptInput.Submitted(screen.prompt, "PROMPT A"))
        screen.action_stop()  # before the loop has started the new job
        await settle(pilot)
        assert screen.prompt.text == "PROMPT A" and not screen.generating
    assert len(openai_fake.chat_requests()) == 1
    assert [status for _, _, status in _roles(app, 1)] == ["complete", "interrupted"]


async def test_a_prompt_given_back_goes_before_what_was_typed_meanwhile(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    config = write_config(user_env, openai=openai_fake, openai_key=None)  # nothing can take it
    app = make_app(user_env, config)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        screen = app.screen
        await screen.on_prompt_input_submitted(PromptInput.Submitted(screen.prompt, "a long prompt"))
        screen.prompt.insert("and more")  # typed while the send was being refused
        await settle(pilot)
        assert screen.prompt.text == "a long prompt\nand more"
