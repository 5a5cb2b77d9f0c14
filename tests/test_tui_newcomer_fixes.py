"""What a newcomer tripped over in the TUI: ctrl+c's hint shown as markup, a stray character after
the footer at 80 columns, the context meter keeping the old model's window after a switch, a
remapped key missing from the footer, the stats table cut off at 100 columns, and ctrl+f's
search box ignoring Enter and Down."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.test_tui_helpers import SIZE, make_app, ready, screen_lines, toasts, write_config

if TYPE_CHECKING:
    from tests.conftest import UserEnv


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
