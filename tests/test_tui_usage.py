"""Pilot tests of what the TUI says about usage: the running cost in the provider bar, the usage
statistics screen, and engine notices (failover) as notifications."""

from __future__ import annotations

from agentchat.core.messages import Message, TextPart, Usage
from agentchat.tui.screens.main import MainScreen
from agentchat.tui.screens.stats import StatsScreen
from tests.fakes.anthropic_fake import text as claude_text
from tests.fakes.openai_fake import error as gpt_error
from tests.fakes.openai_fake import text as gpt_text
from tests.fakes.openai_fake import usage
from tests.test_tui_helpers import (
    SIZE,
    make_app,
    ready,
    run_command,
    screen_text,
    send,
    settle,
    toasts,
    usage_store,
    write_config,
)


def bar_line(app) -> str:  # type: ignore[no-untyped-def]
    """The provider bar as the user sees it: the top row of the screen (after the sidebar)."""
    return screen_text(app).splitlines()[0]


async def test_the_bar_adds_up_the_cost_of_each_reply(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    # gpt-4o-mini: $0.15 in, $0.60 out per 1M tokens
    openai_fake.queue(
        gpt_text(["one"], usage(prompt=1000, completion=500), model="gpt-4o-mini"),  # $0.000450
        gpt_text(["two"], usage(prompt=2000, completion=1000), model="gpt-4o-mini"),  # $0.000900
        gpt_text(["three"], None, model="gpt-4o-mini"),  # no usage reported: price unknown
    )
    app = make_app(user_env, write_config(user_env, openai=openai_fake))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert "$" not in bar_line(app)
        await send(pilot, "first")
        await settle(pilot)
        assert bar_line(app).rstrip().endswith("· $0.000450")
        await send(pilot, "second")
        await settle(pilot)
        assert bar_line(app).rstrip().endswith("· $0.001350")
        await send(pilot, "third")
        await settle(pilot)
        assert bar_line(app).rstrip().endswith("· $0.001350+")  # a lower bound now
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert "$" not in bar_line(app)


async def test_a_regenerated_reply_replaces_the_cost_of_the_old_one(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    openai_fake.queue(
        gpt_text(["long"], usage(prompt=1000, completion=2000), model="gpt-4o-mini"),  # $0.001350
        gpt_text(["short"], usage(prompt=1000, completion=100), model="gpt-4o-mini"),  # $0.000210
    )
    app = make_app(user_env, write_config(user_env, openai=openai_fake))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "question")
        await settle(pilot)
        assert bar_line(app).rstrip().endswith("· $0.001350")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert bar_line(app).rstrip().endswith("· $0.000210")  # the old reply is on another branch


async def test_an_unpriced_model_shows_no_cost_at_all(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    openai_fake.queue(gpt_text(["hi"], usage(prompt=1000, completion=500), model="my-finetune"))
    app = make_app(user_env, write_config(user_env, openai=openai_fake))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.screen.set_route("openai", "my-finetune")
        await send(pilot, "hello")
        await settle(pilot)
        assert "1,000→500 tok" in screen_text(app)  # usage arrived, only the price is unknown
        assert "my-finetune" in bar_line(app) and "$" not in bar_line(app)


async def test_a_reopened_conversation_shows_the_cost_of_its_shown_branch(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    app = make_app(user_env, write_config(user_env, openai=openai_fake))
    store = app.store
    conversation = store.create_conversation(title="Branched")

    def reply(parent: int, cost: float | None) -> int:
        message = Message(
            role="assistant", parts=[TextPart("answer")], parent_id=parent, provider="openai",
            model="gpt-4o-mini", usage=Usage(100, 100), cost=cost,
        )  # fmt: skip
        return store.add_message(conversation, message)

    question = store.add_message(conversation, Message.user("q1"))
    reply(question, 0.5)  # the regenerated-away reply: another branch, not counted
    kept = reply(question, 0.0123)
    follow_up = Message(role="user", parts=[TextPart("q2")], parent_id=kept)
    reply(store.add_message(conversation, follow_up), None)  # usage but no price
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.screen.open_conversation(conversation)
        await settle(pilot)
        assert bar_line(app).rstrip().endswith("Branched · $0.0123+")


async def test_the_stats_screen_shows_usage_per_provider_model_and_day(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    app = make_app(user_env, write_config(user_env, openai=openai_fake), store=usage_store(user_env))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("f6")
        await settle(pilot)
        assert isinstance(app.screen, StatsScreen)
        text = screen_text(app)
        rows = [" ".join(line.split()) for line in text.splitlines()]  # cells without their padding
        # "saved by caching": what prompt caching saved, "-" where it saved nothing
        assert "│ anthropic claude-sonnet-4-6 2 5,000 1,300 $0.0330 $0.005400 1.0 s 100.0 0% │" in rows
        assert "│ ollama llama3.2 1 500 250 $0.000000 - 200 ms 50.0 0% │" in rows  # runs locally: free
        # the request from 42 days ago is outside the window; the failed one counts as an error
        assert "│ openai gpt-4o-mini 3 2,000 500 $0.000600 - 350 ms 175.0 33% │" in rows
        assert "│ all 6 7,500 2,050 $0.0336 $0.005400 400 ms 100.0 17% │" in rows  # every cost is known
        assert "per day, 2026-01-01 → 2026-01-07 (4 days with requests)" in text
        # one block per day, scaled to the largest; a (nearly) zero day is blank
        assert "cost     ▅  █  peak $0.0210" in text
        assert "latency  ▄▂▁█  peak 1.2 s (median time to first token)" in text
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)


async def test_the_stats_screen_with_nothing_recorded(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    app = make_app(user_env, write_config(user_env, openai=openai_fake))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await run_command(pilot, "Usage statistics")
        await settle(pilot)
        assert isinstance(app.screen, StatsScreen)
        assert "No requests in the last 30 days." in screen_text(app)


async def test_a_failover_is_announced_as_a_notification(user_env, openai_fake, anthropic_fake) -> None:  # type: ignore[no-untyped-def]
    chain = '\n[failover]\nchain = [{ provider = "anthropic", model = "claude-sonnet-4-6" }]\n'
    config = write_config(user_env, openai=openai_fake, anthropic=anthropic_fake, extra=chain)
    openai_fake.queue(gpt_error(503, "Overloaded [try later]"))
    anthropic_fake.queue(claude_text(["Claude here."]))
    app = make_app(user_env, config)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        await send(pilot, "hello")
        await settle(pilot)
        assert "Claude here." in screen_text(app)
        notices = [t for t in toasts(app) if "falling back" in t]
        assert len(notices) == 1, toasts(app)
        # the provider's own words, brackets included (not taken as markup)
        assert notices[0].startswith("openai/gpt-4o-mini failed (")
        assert "Overloaded [try later]" in notices[0]
        assert notices[0].endswith("); falling back to anthropic/claude-sonnet-4-6")
