"""Attachments in the TUI, through the real app, store and SDKs against the fake servers: the `@`
picker, chips (removed by keyboard and mouse), pasted paths, ctrl+v with an image on the
clipboard (an injected reader: no test touches a real clipboard), and what the send puts on the
wire in each provider's format; what cannot be sent is a notification that keeps prompt and chips.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from textual import events

from agentchat.tui.app import AgentchatApp
from agentchat.tui.clipboard import NoClipboardTool
from tests.attach_files import make_image, make_pdf
from tests.conftest import UserEnv
from tests.fakes import anthropic_fake as anth
from tests.fakes import openai_fake as oai
from tests.test_tui_helpers import SIZE, make_app, ready, screen_text, settle, toasts, write_config

PNG = make_image(40, 30)


def workspace(root: Path) -> Path:
    """A small project: a .gitignore'd build directory and log, an image, a PDF, notes."""
    ws = root / "project"
    (ws / "docs").mkdir(parents=True)
    (ws / "build").mkdir()
    (ws / ".git").mkdir()
    (ws / ".gitignore").write_text("build/\n*.log\n")
    (ws / "docs" / "photo.png").write_bytes(PNG)
    (ws / "docs" / "report.pdf").write_bytes(make_pdf(["Revenue grew 12 percent."]))
    (ws / "notes.md").write_text("Prefer the standard library.\n")
    (ws / "debug.log").write_text("noise\n")
    (ws / "build" / "photo_copy.png").write_bytes(PNG)
    return ws


def attach_app(
    user_env: UserEnv, config: Any, ws: Path, clipboard: Any = None, **kwargs: Any
) -> AgentchatApp:
    app = make_app(user_env, config, **kwargs)
    app.workspace = ws
    app.clipboard_image = clipboard or (lambda: None)
    return app


@asynccontextmanager
async def attaching(
    user_env: UserEnv, openai_fake: Any, clipboard: Any = None
) -> AsyncIterator[tuple[AgentchatApp, Any]]:
    """The app on `workspace`'s files, OpenAI's fake its provider, started (toasts shown) and ready."""
    app = attach_app(
        user_env, write_config(user_env, openai=openai_fake), workspace(user_env.root), clipboard
    )
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        yield app, pilot


def chips(app: AgentchatApp) -> list[str]:
    return [str(chip.attachment.part.name) for chip in app.screen.query("Chip")]  # type: ignore[attr-defined]


def prompt_text(app: AgentchatApp) -> str:
    return str(app.screen.query_one("#prompt").text)  # type: ignore[attr-defined]


async def paste(pilot: Any, text: str) -> None:
    """A terminal's bracketed paste: the app hands it to the focused widget, the prompt."""
    pilot.app.screen.query_one("#prompt").focus()
    pilot.app.post_message(events.Paste(text))
    await settle(pilot)


async def pick(pilot: Any, query: str) -> None:
    """`@`, the query, enter: the best match is attached."""
    pilot.app.screen.query_one("#prompt").focus()
    await pilot.press("@")
    await settle(pilot)
    await pilot.press(*query)
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


async def toasted(pilot: Any, text: str) -> None:
    """Until a notification holding `text` is on screen (a toast is drawn a frame after it is raised)."""
    for _ in range(100):
        if any(text in " ".join(toast.split()) for toast in toasts(pilot.app)):
            return
        await pilot.pause(0.02)
    raise AssertionError(f"no notification says {text!r}: {toasts(pilot.app)}")


def user_content(fake: Any, index: int = 0) -> Any:
    return fake.chat_requests()[index].body["messages"][-1]["content"]


async def test_at_opens_the_picker_of_workspace_files_and_enter_attaches_the_best_match(
    user_env: UserEnv, openai_fake: Any
) -> None:
    async with attaching(user_env, openai_fake) as (app, pilot):
        await pilot.press(*"look at ", "@")
        await settle(pilot)
        picker: Any = app.screen
        assert type(picker).__name__ == "FilePicker"
        # git's view: no .gitignore'd build/ or *.log, no .git
        assert sorted(picker.listing.files) == [".gitignore", "docs/photo.png", "docs/report.pdf", "notes.md"]
        await pilot.press(*"pho")
        await settle(pilot)
        assert [h.path for h in picker.hits] == ["docs/photo.png"]
        assert "1 matching of 4 files" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "MainScreen"
        assert chips(app) == ["docs/photo.png"]
        assert prompt_text(app) == "look at "  # the @ opened the picker; it is not in the text
        assert "docs/photo.png · 40×30" in screen_text(app)
        assert app.screen.focused is app.screen.query_one("#prompt")


async def test_escape_in_the_picker_types_the_at_and_an_at_inside_a_word_is_text(
    user_env: UserEnv, openai_fake: Any
) -> None:
    async with attaching(user_env, openai_fake) as (app, pilot):
        await pilot.press(*"mail me@example.com or ", "@")
        await settle(pilot)
        assert type(app.screen).__name__ == "FilePicker"  # only the @ after a space opened it
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press(*"bob")
        assert prompt_text(app) == "mail me@example.com or @bob"
        assert chips(app) == []


async def test_the_picker_marks_what_is_attached_and_a_second_pick_of_it_is_refused(
    user_env: UserEnv, openai_fake: Any
) -> None:
    async with attaching(user_env, openai_fake) as (app, pilot):
        await pick(pilot, "notes")
        await pilot.press("@")
        await settle(pilot)
        assert "● notes.md" in screen_text(app)
        await pilot.press(*"notes", "enter")
        await settle(pilot)
        assert chips(app) == ["notes.md"]
        await toasted(pilot, "notes.md is attached already")


async def test_chips_are_removed_with_the_keyboard_and_the_mouse(user_env: UserEnv, openai_fake: Any) -> None:
    async with attaching(user_env, openai_fake) as (app, pilot):
        await paste(pilot, "docs/photo.png docs/report.pdf ./notes.md")
        assert chips(app) == ["docs/photo.png", "docs/report.pdf", "./notes.md"]
        assert prompt_text(app) == ""
        prompt = app.screen.query_one("#prompt")

        await pilot.press("shift+tab")  # from the prompt to the last chip
        assert app.screen.focused is app.screen.query("Chip").last()
        await pilot.press("left", "delete")  # the middle one; focus moves on to the next
        await settle(pilot)
        assert chips(app) == ["docs/photo.png", "./notes.md"]
        assert app.screen.focused is app.screen.query("Chip").last()
        await pilot.press("escape")
        assert app.screen.focused is prompt

        await pilot.click(app.screen.query(".chip-remove").first())  # the ✕ of the first chip
        await settle(pilot)
        assert chips(app) == ["./notes.md"]
        await pilot.press("shift+tab", "backspace")  # the last one: the row goes, focus returns
        await settle(pilot)
        assert chips(app) == []
        assert app.screen.focused is prompt
        assert not app.screen.query_one("#attachments").has_class("-shown")  # the row is hidden


async def test_a_pasted_path_attaches_the_file_and_other_pastes_are_text(
    user_env: UserEnv, openai_fake: Any
) -> None:
    ws = workspace(user_env.root)
    spaced = user_env.root / "my shots" / "screen shot.png"
    spaced.parent.mkdir()
    spaced.write_bytes(PNG)
    (ws / "docs" / "broken.png").write_bytes(b"\x89PNG not really")
    app = attach_app(user_env, write_config(user_env, openai=openai_fake), ws)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        await paste(pilot, f"'{spaced}'\n")  # a terminal's drop: quoted, with a newline
        await paste(pilot, "file://" + str(ws / "docs" / "report.pdf").replace(" ", "%20"))
        assert chips(app) == [str(spaced), str(ws / "docs" / "report.pdf")]
        assert prompt_text(app) == ""

        await paste(pilot, "notes.md")  # a bare word that names a file: text (inserted once: it was twice)
        await paste(pilot, " and docs/missing.png")  # no such file: text
        assert prompt_text(app) == "notes.md and docs/missing.png"

        await paste(pilot, "docs/broken.png")  # an existing file that cannot be attached: says why
        await toasted(pilot, "docs/broken.png: broken image")
        assert len(chips(app)) == 2
        assert prompt_text(app) == "notes.md and docs/missing.png"


async def test_ctrl_v_attaches_the_clipboard_image_and_the_send_carries_it(
    user_env: UserEnv, openai_fake: Any
) -> None:
    openai_fake.queue(oai.text(["A red square."]))
    async with attaching(user_env, openai_fake, clipboard=lambda: PNG) as (app, pilot):
        await pilot.press(*"what is this?", "ctrl+v")
        await settle(pilot)
        assert chips(app) == ["clipboard.png"]
        assert "clipboard.png · 40×30" in screen_text(app)
        assert prompt_text(app) == "what is this?"

        await pilot.press("enter")
        await settle(pilot)
        assert user_content(openai_fake) == [
            {
                "type": "image_url",
                "image_url": {"url": "data:image/png;base64," + base64.b64encode(PNG).decode()},
            },
            {"type": "text", "text": "what is this?"},
        ]
        assert chips(app) == []  # sent: the chips are done
        assert "▪ clipboard.png (image/png, " in screen_text(app)  # the stored message lists it
        assert "40x30)" in screen_text(app)
        stored = app.store.thread(app.store.leaf(app.screen.conversation_id))[0]  # type: ignore[attr-defined]
        assert [(a.name, a.kind, a.width) for a in stored.attachments] == [("clipboard.png", "image", 40)]


async def test_ctrl_v_without_an_image_pastes_what_was_copied_and_without_a_tool_says_so(
    user_env: UserEnv, openai_fake: Any
) -> None:
    ws = workspace(user_env.root)
    answers: list[Any] = [None, NoClipboardTool("reading an image from the clipboard needs wl-paste")]

    def reader() -> bytes | None:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[no-any-return]

    app = attach_app(user_env, write_config(user_env, openai=openai_fake), ws, clipboard=reader)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        app.copy_to_clipboard("copied in the app")
        await pilot.press("ctrl+v")  # no image: ctrl+v pastes as it did before
        await settle(pilot)
        assert prompt_text(app) == "copied in the app"
        await pilot.press("ctrl+v")  # no tool: a notification says which tools would do
        await settle(pilot)
        await toasted(pilot, "needs wl-paste")
        assert chips(app) == []


async def test_an_image_to_a_model_without_vision_keeps_the_prompt_and_the_chips(
    user_env: UserEnv, openai_fake: Any
) -> None:
    ws = workspace(user_env.root)
    config = write_config(user_env, openai=openai_fake, extra='\n[models."gpt-4o-mini"]\nvision = false\n')
    app = attach_app(user_env, config, ws)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        await paste(pilot, "docs/photo.png")
        await pilot.press(*"describe it", "enter")
        await settle(pilot)
        await toasted(pilot, "cannot take images")
        assert prompt_text(app) == "describe it"
        assert chips(app) == ["docs/photo.png"]
        assert openai_fake.chat_requests() == []
        assert app.store.list_conversations() == []  # nothing stored


async def test_a_file_gone_before_the_send_keeps_the_prompt_and_the_chips(
    user_env: UserEnv, openai_fake: Any
) -> None:
    ws = workspace(user_env.root)
    app = attach_app(user_env, write_config(user_env, openai=openai_fake), ws)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        await pick(pilot, "notes")
        (ws / "notes.md").unlink()
        await pilot.press(*"summarise", "enter")
        await settle(pilot)
        await toasted(pilot, "notes.md: no such file or directory")
        assert prompt_text(app) == "summarise"
        assert chips(app) == ["notes.md"]
        assert openai_fake.chat_requests() == []


async def test_a_pdf_and_a_text_file_reach_anthropic_in_its_format_and_enter_sends_chips_alone(
    user_env: UserEnv, anthropic_fake: Any
) -> None:
    ws = workspace(user_env.root)
    anthropic_fake.queue(anth.text(["Twelve percent."]))
    app = attach_app(user_env, write_config(user_env, anthropic=anthropic_fake), ws)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        await pilot.press("enter")  # nothing typed, nothing attached: nothing sent
        await settle(pilot)
        await pick(pilot, "report")
        await pick(pilot, "notes")
        await pilot.press("enter")  # the chips alone are a message
        await settle(pilot)
    pdf = (ws / "docs" / "report.pdf").read_bytes()
    assert len(anthropic_fake.chat_requests()) == 1
    assert user_content(anthropic_fake) == [
        {
            "type": "document",
            "source": {
                "type": "base64",
                "media_type": "application/pdf",
                "data": base64.b64encode(pdf).decode(),
            },
            "title": "docs/report.pdf",
        },
        {
            "type": "text",
            "text": '<file name="notes.md">\nPrefer the standard library.\n</file>',
            "cache_control": {"type": "ephemeral"},  # the last user turn is a cache breakpoint
        },
    ]


async def test_edit_and_resend_keeps_the_message_attachments(user_env: UserEnv, openai_fake: Any) -> None:
    ws = workspace(user_env.root)
    openai_fake.queue(oai.text(["Red."]), oai.text(["Still red."]))
    app = attach_app(user_env, write_config(user_env, openai=openai_fake), ws)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot)
        await pick(pilot, "photo")
        await pilot.press(*"colour?", "enter")
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        app.screen.query_one("#text").load_text("which colour?")  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot)
    first, second = user_content(openai_fake, 0), user_content(openai_fake, 1)
    assert first[0] == second[0] and first[0]["type"] == "image_url"
    assert second[1] == {"type": "text", "text": "which colour?"}
