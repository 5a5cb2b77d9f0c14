"""Branches on screen (‹ 2/3 › after a regenerate or an edit, moved with keys and clicks, the
conversation below following), and the user's own keys and theme ([keys], [ui] theme)."""

from __future__ import annotations

from agentchat.tui.widgets.branch_nav import BranchNav
from agentchat.tui.widgets.conversation import MessageBox
from tests.branches import children
from tests.fakes.openai_fake import text as gpt_text
from tests.test_tui_attach import toasted
from tests.test_tui_helpers import SIZE, make_app, ready, screen_text, send, settle, write_config


def shown(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [box.message.text for box in app.screen.view.boxes()]


def box_with(app, text: str) -> MessageBox:  # type: ignore[no-untyped-def]
    return next(box for box in app.screen.view.boxes() if box.message.text == text)


async def test_regenerated_replies_are_siblings_the_user_moves_between(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    openai_fake.queue(*(gpt_text([t]) for t in ("A1", "A2", "B2", "B1")))
    app = make_app(user_env, write_config(user_env, openai=openai_fake))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "question")
        await settle(pilot)
        assert "1/1" not in screen_text(app) and not app.screen.query(BranchNav)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert box_with(app, "A2").branch == (2, 2) and "‹ 2/2 ›" in screen_text(app)
        await send(pilot, "more")
        await settle(pilot)
        assert shown(app) == ["question", "A2", "more", "B2"]
        box_with(app, "A2").focus()
        await pilot.press("left")  # the older reply, and the conversation that followed it
        await settle(pilot)
        assert shown(app) == ["question", "A1"] and "‹ 1/2 ›" in screen_text(app)
        assert app.screen.focused is box_with(app, "A1")  # so left/right go on from here
        await send(pilot, "continue here")  # the next prompt continues the branch on screen
        await settle(pilot)
        assert shown(app) == ["question", "A1", "continue here", "B1"]
        app.screen.prompt.focus()
        await pilot.press("alt+right")  # from the prompt: the newest branched message on screen
        await settle(pilot)
        assert shown(app) == ["question", "A2", "more", "B2"]
        store = app.store
        a1 = next(m for m in children(store, store.thread(store.leaf(1))[0].id) if m.text == "A1")
        assert [m.text for m in children(store, a1.id)] == ["continue here"]
        arrow = box_with(app, "A2").query(".arrow").first()
        await pilot.click(arrow)  # ‹ with the mouse
        await settle(pilot)
        assert shown(app) == ["question", "A1", "continue here", "B1"]
    prompts = [[m["content"] for m in r.body["messages"]] for r in openai_fake.chat_requests()]
    assert prompts[-1] == ["question", "A1", "continue here"]


async def test_an_edited_prompt_shows_its_versions(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    openai_fake.queue(gpt_text(["R1"]), gpt_text(["R2"]))
    app = make_app(user_env, write_config(user_env, openai=openai_fake))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "first try")
        await settle(pilot)
        box_with(app, "first try").focus()
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#text").load_text("second try")
        await pilot.press("enter")
        await settle(pilot)
        assert box_with(app, "second try").branch == (2, 2)
        box_with(app, "second try").focus()
        await pilot.press("left")
        await settle(pilot)
        assert shown(app) == ["first try", "R1"]
        await pilot.press("left")  # no wrapping at either end
        await settle(pilot)
        assert shown(app) == ["first try", "R1"]


CONFIG = """
# my keys
[keys]
new-chat = "ctrl+t"   # ctrl+n is my terminal's
bogus-binding = "f12"

[ui]
theme = "nord"  # easy on the eyes
"""


async def test_keys_and_theme_come_from_the_config_and_a_picked_theme_is_kept(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    openai_fake.queue(gpt_text(["hi"]))
    config = write_config(user_env, openai=openai_fake, extra=CONFIG)
    app = make_app(user_env, config)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        assert app.theme == "nord"
        await toasted(pilot, "'bogus-binding' is not a binding id")
        await send(pilot, "hello")
        await settle(pilot)
        await pilot.press("ctrl+n")  # moved away: now a no-op
        await settle(pilot)
        assert app.screen.conversation_id == 1
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert app.screen.conversation_id is None
        assert "^t New" in screen_text(app)  # the footer shows the new key
        app.action_change_theme()  # the palette's theme picker
        await pilot.pause()
        await pilot.press(*"gruvbox")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.theme == "gruvbox"
    text = user_env.config_path.read_text()
    assert 'theme = "gruvbox"  # easy on the eyes' in text and "# my keys" in text
    assert 'new-chat = "ctrl+t"   # ctrl+n is my terminal\'s' in text


async def test_an_unknown_theme_or_a_bad_key_is_a_warning(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    extra = '\n[keys]\nnew-chat = 3\n\n[ui]\ntheme = "nordd"\n'
    app = make_app(user_env, write_config(user_env, openai=openai_fake, extra=extra))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        await toasted(pilot, "[ui] theme 'nordd' is not a theme (did you mean 'nord'?)")
        await toasted(pilot, '[keys] new-chat must be a key such as "ctrl+k"')
        assert app.is_running and app.theme == "textual-dark"


def test_keys_and_ui_are_known_config_tables(user_env) -> None:  # type: ignore[no-untyped-def]
    from agentchat.config import load_config

    user_env.write_config(CONFIG)
    assert load_config(user_env.config_path).warnings == []
    user_env.write_config('[ui]\nthem = "nord"\n')
    [warning] = load_config(user_env.config_path).warnings
    assert "unknown key 'them' in [ui] (did you mean 'theme'?)" in warning
