"""The TUI as a newcomer meets it (issue 16, items 1-5): which providers ctrl+o and the providers
pane offer (the embedded model included), what the welcome says, the message on screen at once
with "connecting…" until the first token, and the layout at 80 columns.

The embedded model's availability is injected into the real Router (no model is loaded here:
nothing is sent to it); every other provider is the real SDK against its loopback fake.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from agentchat.config import load_config
from agentchat.core.routing import Router
from agentchat.core.store import Store
from agentchat.providers import list_models
from agentchat.tui.app import AgentchatApp
from agentchat.tui.widgets.pending import PendingReply
from agentchat.tui.widgets.provider_bar import ProviderBar
from agentchat.tui.widgets.providers import ProvidersPane
from agentchat.tui.widgets.welcome import Welcome
from tests.fakes.openai_fake import error as gpt_error
from tests.fakes.openai_fake import text as gpt_text
from tests.test_tui_helpers import (
    NOW,
    SIZE,
    ready,
    screen_lines,
    screen_text,
    send,
    settle,
    ticking_clock,
    toasts,
    wait_for_text,
)

if TYPE_CHECKING:
    from tests.conftest import UserEnv

NARROW = (80, 24)


def newcomer_app(user_env: UserEnv, config_text: str | None = "", *, local: bool = True) -> AgentchatApp:
    """The real app for someone with `config_text` (None: no config file yet) and, with `local`,
    the embedded model installed (its availability injected, so the machine does not decide)."""
    if config_text is None:
        user_env.config_path.unlink(missing_ok=True)
    else:
        user_env.write_config("[retry]\nmax_attempts = 1\n" + config_text, local=True)
    config = load_config(user_env.config_path)
    router = Router(config, discover=list_models, local_available=lambda: local)
    return AgentchatApp(
        config,
        Store(user_env.db_path, clock=ticking_clock()),
        router=router,
        timefmt=lambda ts: "12:00",
        engine_clock=ticking_clock(0.0),
        wall_clock=lambda: NOW,
    )


def openai_at(fake: Any, key: str | None = "sk-test") -> str:
    lines = ["[providers.openai]", f'base_url = "{fake.base_url}"', 'models = ["gpt-4o-mini"]']
    return "\n".join([*lines, f'api_key = "{key}"'] if key else lines) + "\n"


def route(app: AgentchatApp) -> tuple[str | None, str | None]:
    bar = app.screen.query_one(ProviderBar)
    return bar.provider, bar.model


def pane_rows(app: AgentchatApp) -> dict[str, str]:
    """provider -> its row in the providers pane, as shown."""
    options = app.screen.query_one(ProvidersPane).options
    rows = [options.get_option_at_index(i) for i in range(options.option_count)]
    return {str(o.id): str(o.prompt) for o in rows}


# --- 1. the cycle and the picker -----------------------------------------------------------------
async def test_ctrl_o_cycles_the_usable_providers_and_the_embedded_model(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    """anthropic (no key) and ollama (not running) are skipped; local is one of the stops."""
    app = newcomer_app(user_env, openai_at(openai_fake))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert route(app) == ("openai", "gpt-4o-mini")
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert route(app) == ("local", "smollm2")
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert route(app) == ("openai", "gpt-4o-mini")


async def test_only_the_embedded_model_usable_is_said_once_with_f2(user_env) -> None:  # type: ignore[no-untyped-def]
    app = newcomer_app(user_env, None)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        assert route(app) == ("local", "smollm2")
        said = [t for t in toasts(app) if "embedded model" in t]
        assert len(said) == 1 and "f2" in said[0], toasts(app)
        app.clear_notifications()
        await pilot.press("ctrl+o")  # nowhere else to go: it stays, and says how to get somewhere
        await settle(pilot)
        assert route(app) == ("local", "smollm2")
        [toast] = toasts(app)
        assert "only the embedded model" in toast and "f2" in toast
        assert "no other provider is usable" not in toast


async def test_the_model_picker_lists_the_embedded_model(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    app = newcomer_app(user_env, openai_at(openai_fake))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+l")
        await settle(pilot)
        await pilot.press(*"smol", "enter")
        await settle(pilot)
        assert route(app) == ("local", "smollm2")


async def test_the_picker_says_how_to_install_a_missing_embedded_model(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    app = newcomer_app(user_env, openai_at(openai_fake), local=False)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert "local  not installed: pip install 'agentchat[local]'" in screen_text(app)
        await pilot.press("escape")
        await pilot.press("ctrl+o")  # and the cycle does not offer it
        await settle(pilot)
        assert route(app) == ("openai", "gpt-4o-mini")


# --- 2. the providers pane -------------------------------------------------------------------------
async def test_the_pane_lists_each_provider_key_source_health(user_env, openai_fake, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-env")
    app = newcomer_app(user_env, openai_at(openai_fake))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        rows = pane_rows(app)
        assert list(rows) == ["openai", "anthropic", "ollama", "local"]
        assert rows["openai"].split() == ["●", "openai", "config", "unchecked"]
        assert rows["anthropic"].split() == ["anthropic", "env", "unchecked"]
        assert rows["ollama"].split() == ["ollama", "not", "needed", "✗", "down"]  # probed at start
        assert rows["local"].split() == ["local", "not", "needed", "✓", "ready"]
        app.screen.query_one("#provider-list").focus()
        await pilot.press("c")  # check now: the fake lists its models
        await settle(pilot)
        assert pane_rows(app)["openai"].split()[-2:] == ["✓", "ok"]
        assert "Providers" in screen_text(app)  # on the first screen


async def test_a_missing_key_in_the_pane_says_so(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    app = newcomer_app(user_env, None)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        assert pane_rows(app)["anthropic"].split() == ["anthropic", "missing"]
        app.clear_notifications()
        app.screen.query_one("#provider-list").focus()
        await pilot.press("down", "enter")  # anthropic: no key
        await settle(pilot)
        assert route(app) == ("local", "smollm2")
        assert any("anthropic has no key: press f2" in t for t in toasts(app)), toasts(app)


async def test_selecting_a_provider_in_the_pane_switches_the_conversation(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    openai_fake.queue(gpt_text(["from openai"]))
    app = newcomer_app(user_env, openai_at(openai_fake))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.screen.query_one("#provider-list").focus()
        await pilot.press("end", "enter")  # local
        await settle(pilot)
        assert route(app) == ("local", "smollm2")
        assert pane_rows(app)["local"].startswith("● ")
        await pilot.press("home", "enter")
        await settle(pilot)
        assert route(app) == ("openai", "gpt-4o-mini")
        await send(pilot, "hello")
        await settle(pilot)
        assert "from openai" in screen_text(app)


async def test_a_rejected_key_shows_in_the_pane(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    openai_fake.queue(gpt_error(401, "Incorrect API key provided"))
    app = newcomer_app(user_env, openai_at(openai_fake))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "hello")
        await settle(pilot)
        assert pane_rows(app)["openai"].endswith("✗ bad key")
        await pilot.press("ctrl+o")  # a rejected key is no stop for the cycle
        await settle(pilot)
        assert route(app) == ("local", "smollm2")


async def test_the_pane_collapses(user_env) -> None:  # type: ignore[no-untyped-def]
    app = newcomer_app(user_env, None)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert "not needed ✓ ready" in screen_text(app)
        await pilot.click("ProvidersPane CollapsibleTitle")
        await pilot.pause()
        assert "▶ Providers" in screen_text(app) and "not needed ✓ ready" not in screen_text(app)


# --- 3. the message at once, and the wait for the first token ----------------------------------
async def test_the_message_shows_with_connecting_until_the_first_token(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    reply = gpt_text(["Here ", "it is."])
    reply.hold, reply.hold_after = threading.Event(), 1  # after the role chunk: no token yet
    openai_fake.queue(reply)
    app = newcomer_app(user_env, openai_at(openai_fake))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await send(pilot, "are you there?")
            await wait_for_text(pilot, "connecting to openai…")
            lines = screen_lines(app)
            asked = next(i for i, line in enumerate(lines) if "are you there?" in line[32:])
            assert "connecting to openai…" in "".join(lines[asked:])  # below the message
            reply.hold.set()
            await settle(pilot)
            assert "Here it is." in screen_text(app)
            assert not app.screen.query(PendingReply) and "connecting" not in screen_text(app)
    finally:
        reply.hold.set()


async def test_the_embedded_model_says_it_is_loading(user_env) -> None:  # type: ignore[no-untyped-def]
    from agentchat.tui.waiting import FirstTokenWait

    app = newcomer_app(user_env, None)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        screen: Any = app.screen
        assert FirstTokenWait(screen, "local", "smollm2").label() == "loading model smollm2…"
        assert FirstTokenWait(screen, "openai", "gpt-4o-mini").label() == "connecting to openai…"
        assert FirstTokenWait(screen, None, None).label() == "connecting…"


async def test_a_failed_turn_leaves_no_indicator(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    openai_fake.queue(gpt_error(500, "boom"))
    app = newcomer_app(user_env, openai_at(openai_fake))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "hello")
        await settle(pilot)
        assert not app.screen.query(PendingReply)


# --- 4. the welcome -------------------------------------------------------------------------------
async def test_the_welcome_names_who_answers_the_keys_and_the_config(user_env, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HOME", str(user_env.config_path.parent))
    app = newcomer_app(user_env, None)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        text = screen_text(app)
        assert "Your next message goes to   local  smollm2" in text
        assert "openai     no key: export OPENAI_API_KEY or press f2" in text
        assert "anthropic  no key: export ANTHROPIC_API_KEY or press f2" in text
        assert "ollama     not running at http://127.0.0.1:9" in text
        assert "Config  ~/config.toml" in text and "not created yet" in text


async def test_the_welcome_goes_with_a_message_back_with_ctrl_n(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    openai_fake.queue(gpt_text(["hi"]))
    app = newcomer_app(user_env, openai_at(openai_fake))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert "Your next message goes to   openai  gpt-4o-mini" in screen_text(app)
        await send(pilot, "hello")
        await settle(pilot)
        assert not app.screen.query(Welcome)
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert app.screen.query(Welcome)
        await pilot.press("ctrl+o")  # the welcome follows the route
        await settle(pilot)
        assert "Your next message goes to   local  smollm2" in screen_text(app)


# --- 5. layout ------------------------------------------------------------------------------------
async def test_below_100_columns_the_sidebar_collapses_and_ctrl_b_brings_it(user_env) -> None:  # type: ignore[no-untyped-def]
    app = newcomer_app(user_env, None)
    async with app.run_test(size=NARROW) as pilot:
        await ready(pilot)
        assert not app.screen.query_one("#sidebar").display
        assert "Search history" not in screen_text(app)
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert "Search history" in screen_text(app)
    app = newcomer_app(user_env, None)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        assert "Search history" in screen_text(app)


async def test_a_message_has_one_header_line_and_no_box(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    openai_fake.queue(gpt_text(["one line back"]))
    app = newcomer_app(user_env, openai_at(openai_fake))
    async with app.run_test(size=NARROW) as pilot:
        await ready(pilot)
        await send(pilot, "one line out")
        await settle(pilot)
        lines = [line.rstrip() for line in screen_lines(app)]
        asked = next(i for i, line in enumerate(lines) if line.strip() == "one line out")
        assert "you · 12:00" in lines[asked - 1]
        assert lines[asked + 1] == "" and "openai · gpt-4o-mini" in lines[asked + 2]
        assert lines[asked + 3].strip() == "one line back"
        assert not any(ch in "".join(lines) for ch in "╰╯└┘")  # no bottom edges
