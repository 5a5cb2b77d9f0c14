"""Pilot tests of the TUI's context meter (provider bar) and compaction on demand (f7, palette)."""

from __future__ import annotations

from agentchat.tui.context import context_label, short
from tests.branches import roots
from tests.fakes.openai_fake import text as gpt_text
from tests.fakes.openai_fake import usage
from tests.test_tui_helpers import SIZE, make_app, ready, run_command, screen_text, send, settle, write_config

MODELS = '\n[models."gpt-4o-mini"]\ncontext_window = 8000\n'


def bar_line(app) -> str:  # type: ignore[no-untyped-def]
    return screen_text(app).splitlines()[0]


def test_the_meter_label_is_short_and_marks_a_nearly_full_window() -> None:
    assert [short(n) for n in (950, 1234, 8000, 200_000, 1_050_000)] == ["950", "1.2k", "8k", "200k", "1.05M"]
    assert context_label(1234, 8000) == "ctx 1.2k/8k"
    assert context_label(7500, 8000) == "ctx 7.5k/8k!"
    assert context_label(1234, None) is None  # no window known yet: no meter
    assert context_label(None, 8000) is None


async def test_meter_shows_used_over_window_and_compaction_makes_a_new_branch(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    openai_fake.queue(
        gpt_text(["one"], usage(prompt=1200, completion=34), model="gpt-4o-mini"),
        gpt_text(["two"], usage(prompt=2500, completion=100), model="gpt-4o-mini"),
        gpt_text(["SUMMARY of the chat"], usage(prompt=300, completion=5), model="gpt-4o-mini"),
    )
    app = make_app(user_env, write_config(user_env, openai=openai_fake, extra=MODELS))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.screen.set_route("openai", "gpt-4o-mini")
        assert "ctx" not in bar_line(app)
        await send(pilot, "first")
        await settle(pilot)
        assert "· ctx 1.2k/8k ·" in bar_line(app)  # the provider's count of the request, plus the reply
        await send(pilot, "second")
        await settle(pilot)
        assert "· ctx 2.6k/8k ·" in bar_line(app)
        await pilot.press("f7")
        await settle(pilot)
        assert "SUMMARY of the chat" in screen_text(app)  # the new branch is shown
        assert "ctx 2.6k" not in bar_line(app) and "/8k" in bar_line(app)
        conversation = app.screen.conversation_id
        with user_env.store() as store:
            assert len(roots(store, conversation)) == 2  # the original branch is kept
        await run_command(pilot, "Compact conversation")
        await settle(pilot)
    assert (
        len(openai_fake.chat_requests()) == 4
    )  # the palette compacted again (an unscripted reply: an error)


async def test_a_turn_compacted_on_its_own_shows_the_new_branch_it_continues(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    """When the engine compacts before a request (the window is full), the reply hangs on a new
    branch whose root is the summary: the pane shows that branch, not the old one with the reply
    seemingly missing, and the next prompt continues it."""
    long = "word " * 800  # about 900 tokens by the estimate: three of them overflow a 2,000 window
    openai_fake.queue(
        gpt_text(["one"], model="gpt-4o-mini"),
        gpt_text(["two"], model="gpt-4o-mini"),
        gpt_text(["SUMMARY of the chat"], model="gpt-4o-mini"),
        gpt_text(["three"], model="gpt-4o-mini"),
        gpt_text(["four"], model="gpt-4o-mini"),
    )
    models = '\n[models."gpt-4o-mini"]\ncontext_window = 2000\nmax_output_tokens = 100\n'
    app = make_app(user_env, write_config(user_env, openai=openai_fake, extra=models))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.screen.set_route("openai", "gpt-4o-mini")
        for prompt in ("first " + long, "second " + long, "third " + long):
            await send(pilot, prompt)
            await settle(pilot)
        summary, *rest = [box.message.text for box in app.screen.view.boxes()]
        assert "SUMMARY of the chat" in summary and [text[:15] for text in rest] == [
            "third word word",
            "three",
        ]
        assert "first word" not in summary  # the summarised turn is on the old branch, one ‹ away
        await send(pilot, "fourth")
        await settle(pilot)
    fourth = openai_fake.chat_requests()[-1].body["messages"]
    assert "SUMMARY of the chat" in str(fourth) and "first word" not in str(fourth)
