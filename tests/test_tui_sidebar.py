"""The agent list and history search, in the real app over a real store file."""

from __future__ import annotations

import sqlite3

from textual import events
from textual.widgets import Input

from agentchat.core.store import Store
from agentchat.tui.widgets.sidebar import PER_AGENT
from tests.fakes.openai_fake import text as gpt_text
from tests.test_tui_helpers import (
    SIZE,
    answer,
    make_app,
    ready,
    say,
    screen_text,
    send,
    settle,
    toasts,
    write_config,
)


async def search(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    """Paste into the search box (as a terminal's bracketed paste does), run the search and move
    into the hits (down; enter would open the top one)."""
    await pilot.press("ctrl+f")
    pilot.app.screen.query_one("#search", Input).post_message(events.Paste(text))
    await pilot.pause()
    await pilot.press("down")
    await settle(pilot)


async def test_pasting_a_nul_into_search_is_harmless(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    config = write_config(user_env, openai=openai_fake)
    app = make_app(user_env, config)
    say(app.store, app.store.create_conversation(title="Greetings"), "hel lo, split in two")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        await search(pilot, "hel\x00lo")
        assert app.is_running and toasts(app) == []
        assert "Greetings" in screen_text(app)  # the NUL separates words, as in stored text


async def test_a_damaged_database_at_start_still_lists_the_agents(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    config = write_config(user_env, openai=openai_fake)
    app = make_app(user_env, config)
    app.store.create_conversation(title="Greetings")
    with sqlite3.connect(user_env.db_path) as raw:
        raw.execute("ALTER TABLE conversations RENAME COLUMN agent TO owner")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        assert app.is_running and "▼ default" in screen_text(app)
        assert any("no such column: c.agent" in toast for toast in toasts(app))


async def test_a_damaged_database_during_search_is_a_notification(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    config = write_config(user_env, openai=openai_fake)
    app = make_app(user_env, config)
    say(app.store, app.store.create_conversation(title="Greetings"), "hello")
    with sqlite3.connect(user_env.db_path) as raw:  # the search index is gone
        raw.execute("DROP TABLE message_fts")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        await search(pilot, "hello")
        assert app.is_running and "no match" in screen_text(app)
        assert any("history database error: no such table" in toast for toast in toasts(app))


async def test_a_hit_deleted_by_another_process_is_a_notification(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    config = write_config(user_env, openai=openai_fake)
    app = make_app(user_env, config)
    doomed = app.store.create_conversation(title="Wombats")
    say(app.store, doomed, "tell me about wombats")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        await search(pilot, "wombats")
        with Store(user_env.db_path) as other:
            other.delete_conversation(doomed)
        await pilot.press("enter")
        await settle(pilot)
        assert app.is_running and app.screen.conversation_id is None
        assert any("no longer exists" in toast for toast in toasts(app))


async def test_a_hit_on_an_older_branch_opens_and_continues_that_branch(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    """An edit branches; a search hit in the old branch shows that branch, and the next prompt
    continues it (the model sees that branch's history, not the newer one's)."""
    config = write_config(user_env, openai=openai_fake)
    openai_fake.queue(gpt_text(["They have cube-shaped droppings."]))
    app = make_app(user_env, config)
    store = app.store
    conversation = store.create_conversation()
    old_reply = answer(store, conversation, "Wombats dig.", say(store, conversation, "tell me about wombats"))
    answer(store, conversation, "Koalas sleep.", say(store, conversation, "tell me about koalas"))  # the edit
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await search(pilot, "dig")
        await pilot.press("enter")
        await settle(pilot)
        text = screen_text(app)
        assert "Wombats dig." in text and "Koalas" not in text
        await send(pilot, "anything else?")
        await settle(pilot)
    sent = openai_fake.chat_requests()[0].body["messages"]
    assert [m["content"] for m in sent] == ["tell me about wombats", "Wombats dig.", "anything else?"]
    new_prompt = store.thread(store.leaf(conversation))[-2]
    assert (new_prompt.text, new_prompt.parent_id) == ("anything else?", old_reply)


async def test_the_default_agent_lists_its_conversations_behind_many_of_named_agents(
    user_env, openai_fake
) -> None:  # type: ignore[no-untyped-def]
    config = write_config(user_env, openai=openai_fake, extra='\n[agents.coder]\nsystem = "Be terse."\n')
    app = make_app(user_env, config)
    app.store.create_conversation(title="Plain chat")
    for n in range(PER_AGENT):
        app.store.create_conversation(title=f"code {n}", agent="coder")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        text = screen_text(app)
        assert text.index("default") < text.index("Plain chat") < text.index("coder")


def two_branches(store: Store) -> tuple[int, int]:
    """A conversation whose first question was edited: (its id, the tip of the older branch)."""
    conversation = store.create_conversation()
    old_reply = answer(store, conversation, "Wombats dig.", say(store, conversation, "tell me about wombats"))
    answer(store, conversation, "Koalas sleep.", say(store, conversation, "tell me about koalas"))
    return conversation, old_reply


async def test_regenerating_on_an_older_branch_then_sending_continues_the_new_reply(
    user_env, openai_fake
) -> None:  # type: ignore[no-untyped-def]
    config = write_config(user_env, openai=openai_fake)
    openai_fake.queue(gpt_text(["Wombats burrow."]), gpt_text(["Their droppings are cubes."]))
    app = make_app(user_env, config)
    conversation, old_reply = two_branches(app.store)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.screen.open_conversation(conversation, leaf_id=old_reply)
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        await send(pilot, "and?")
        await settle(pilot)
    sent = openai_fake.chat_requests()[1].body["messages"]
    assert [m["content"] for m in sent] == ["tell me about wombats", "Wombats burrow.", "and?"]


async def test_a_refused_prompt_on_an_older_branch_stays_on_that_branch(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    """No provider can take it (no key, and the branch names none), so nothing is stored: the
    branch stays on screen and the text goes back, to continue that branch when resent."""
    config = write_config(user_env, openai=openai_fake, openai_key=None)
    app = make_app(user_env, config)
    store = app.store
    conversation = store.create_conversation()
    old = say(store, conversation, "Wombats dig.", say(store, conversation, "tell me about wombats"))
    say(store, conversation, "Koalas sleep.", say(store, conversation, "tell me about koalas"))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.screen.open_conversation(conversation, leaf_id=old)
        await settle(pilot)
        await send(pilot, "and?")
        await settle(pilot)
        text = screen_text(app)
        assert "Wombats dig." in text and "Koalas" not in text
        assert app.screen.prompt.text == "and?" and app.screen.branch_tip == old
    assert len(store.thread(store.leaf(conversation))) == 2  # nothing was added
