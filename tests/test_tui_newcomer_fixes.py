"""What a newcomer tripped over in the TUI: ctrl+c's hint shown as markup, a stray character after
the footer at 80 columns, the context meter keeping the old model's window after a switch, a
remapped key missing from the footer, the stats table cut off at 100 columns, and ctrl+f's
search box ignoring Enter and Down."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentchat.core.messages import Message, TextPart, Usage
from agentchat.core.store import Store
from tests.fakes.openai_fake import text as gpt_text
from tests.fakes.openai_fake import usage
from tests.test_tui_helpers import (
    EPOCH,
    SIZE,
    make_app,
    ready,
    screen_lines,
    screen_text,
    seed,
    send,
    settle,
    toasts,
    wait_for_text,
    write_config,
)

if TYPE_CHECKING:
    from tests.conftest import UserEnv
    from tests.fakes.openai_fake import OpenAIFake


async def test_ctrl_c_says_which_key_quits_without_markup(user_env: UserEnv, openai_fake) -> None:  # type: ignore[no-untyped-def]
    app = make_app(user_env, write_config(user_env, openai=openai_fake))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert any("Press ctrl+q to quit the app" in toast for toast in toasts(app)), toasts(app)
        assert not any("[b]" in toast for toast in toasts(app))


async def test_the_footer_ends_cleanly_at_80_columns(user_env: UserEnv, openai_fake) -> None:  # type: ignore[no-untyped-def]
    """The keys overflow at 80 columns; none may show past the docked `^p palette`."""
    app = make_app(user_env, write_config(user_env, openai=openai_fake))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        assert screen_lines(app)[-1].endswith("^p palette ")


async def test_switching_model_drops_the_old_models_window_from_the_meter(
    user_env: UserEnv, openai_fake
) -> None:  # type: ignore[no-untyped-def]
    openai_fake.queue(gpt_text(["one"], usage(prompt=1200, completion=34), model="gpt-4o-mini"))
    extra = '\n[models."gpt-4o-mini"]\ncontext_window = 8000\n'
    app = make_app(user_env, write_config(user_env, openai=openai_fake, extra=extra))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.screen.set_route("openai", "gpt-4o-mini")
        await send(pilot, "first")
        await settle(pilot)
        assert "ctx 1.2k/8k" in screen_lines(app)[0]
        await send(pilot, "/model gpt-4o")
        await settle(pilot)
        assert " gpt-4o " in screen_lines(app)[0] and "ctx" not in screen_lines(app)[0], screen_lines(app)[0]
        app.screen.set_route("openai", "gpt-4o-mini")  # back: its window is known again
        await pilot.pause()
        assert "ctx 1.2k/8k" in screen_lines(app)[0]


async def test_a_remapped_key_keeps_its_place_in_the_footer(user_env: UserEnv, openai_fake) -> None:  # type: ignore[no-untyped-def]
    config = write_config(user_env, openai=openai_fake, extra='\n[keys]\nnew-chat = "ctrl+t"\n')
    app = make_app(user_env, config)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await wait_for_text(pilot, "^t New", timeout_s=2)  # the footer is rebuilt after the keymap
        footer = screen_lines(app)[-1]
        assert footer.startswith("f6 Stats ^t New ^r Regen"), footer


def priced_store(user_env: UserEnv, costs: list[float | None]) -> Store:
    """One gpt-4o-mini reply per cost, a day apart (None: a request whose price is unknown)."""
    moment = [EPOCH]
    store = Store(user_env.db_path, clock=lambda: moment[0])
    for day, cost in enumerate(costs):
        moment[0] = EPOCH + day * 86400 + 12 * 3600
        conversation = store.create_conversation(title=f"day {day}")
        user = store.add_message(conversation, Message.user("hello"))
        reply = Message(
            role="assistant", parts=[TextPart("hi")], parent_id=user, provider="openai",
            model="gpt-4o-mini", usage=Usage(1_234_567, 45_678), cost=cost, ttft_s=0.4, total_s=2.0,
        )  # fmt: skip
        store.add_message(conversation, reply)
    return store


async def test_the_stats_table_fits_100_columns_and_explains_a_plus_only_when_shown(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    for costs, total in (([0.25, 0.5], "$0.7500"), ([0.25, None], "$0.2500+")):
        user_env.db_path.unlink(missing_ok=True)
        app = make_app(
            user_env, write_config(user_env, openai=openai_fake), store=priced_store(user_env, costs)
        )
        async with app.run_test(size=(100, 30)) as pilot:
            await ready(pilot)
            await pilot.press("f6")
            await pilot.pause()
            rows = [" ".join(line.split()) for line in screen_lines(app)]
            assert f"│ all 2 2,469,134 91,356 {total} - 400 ms 28548.8 0% │" in rows, (
                rows
            )  # the last column too
            assert ("“+” after a cost" in screen_text(app)) == total.endswith("+")


async def test_search_enter_opens_the_top_hit_and_down_moves_into_the_hits(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    app = make_app(user_env, write_config(user_env, openai=openai_fake))
    older = seed(app.store, "Marsupials", [("tell me about the kangaroo", "It hops.")])
    newer = seed(app.store, "More marsupials", [("a baby kangaroo?", "A joey.")])
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+f", *"kangaroo", "down")
        await pilot.pause()
        results = app.screen.query_one("#results")
        assert app.focused is results and results.highlighted == 0  # type: ignore[attr-defined]
        await pilot.press("down", "enter")  # the second hit
        await settle(pilot)
        opened = app.screen.conversation_id  # type: ignore[attr-defined]
        await pilot.press("ctrl+f", "ctrl+u", *"joey", "enter")  # straight from the box: the top hit
        await settle(pilot)
        assert {opened, app.screen.conversation_id} == {older, newer}  # type: ignore[attr-defined]
        assert "A joey." in screen_text(app)
