"""SVG snapshots of every screen and modal (pytest-textual-snapshot).

Deterministic: fixed terminal size, a ticking fake clock for stored times and durations, a fixed
time format, no cursor blink, no animations, fake servers on loopback (their ports never show).
Update after looking at the report: `pytest tests/test_tui_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from agentchat.core.messages import Message, TextPart, ThinkingPart, ToolCallPart, ToolResultPart, Usage
from tests.fakes.openai_fake import text as gpt_text
from tests.fakes.openai_fake import tool_calls as gpt_tools
from tests.test_tui_helpers import SIZE, make_app, ready, usage_store, write_config
from tests.test_tui_newcomer import NARROW, newcomer_app, openai_at

CODE_ANSWER = """Use `itertools.batched` (Python 3.12+):

```python
from itertools import batched

for chunk in batched(range(10), 3):
    print(chunk)
```

On older versions, slice a list in a loop."""


@pytest.fixture(autouse=True)
def _home_is_the_test_dir(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The welcome shows the config file from ~ (`~/config.toml`): the same path in every run."""
    monkeypatch.setenv("HOME", str(tmp_path))


def seed(app: Any) -> int:
    """Two older conversations and one with every kind of part, stored through the real Store."""
    store = app.store
    for title in ("Trip to Lisbon", "SQL window functions"):
        conversation = store.create_conversation(title=title)
        store.add_message(conversation, Message.user(f"about {title.lower()}"))
    conversation = store.create_conversation(title="Batching in Python")
    user = store.add_message(conversation, Message.user("How do I split a list into chunks of 3?"))
    call = ToolCallPart("call_1", "read_file", {"path": "notes.md"})
    first = Message(
        role="assistant",
        parts=[ThinkingPart("The user wants chunks; check their notes first."), call],
        parent_id=user, provider="openai", model="gpt-4o-mini", usage=Usage(120, 18), cost=0.00003, total_s=0.8,
    )  # fmt: skip
    first_id = store.add_message(conversation, first)
    result = ToolResultPart("call_1", "Prefer the standard library.", name="read_file")
    tool_id = store.add_message(conversation, Message(role="tool", parts=[result], parent_id=first_id))
    answer = Message(
        role="assistant", parts=[TextPart(CODE_ANSWER)], parent_id=tool_id, provider="openai",
        model="gpt-4o-mini", usage=Usage(160, 74), cost=0.00007, total_s=1.9,
    )  # fmt: skip
    store.add_message(conversation, answer)
    return conversation


Step = Callable[[Any], Awaitable[None]]


async def until_screen(pilot: Any, name: str) -> None:
    for _ in range(250):
        if type(pilot.app.screen).__name__ == name:
            return
        await pilot.pause(0.02)
    raise AssertionError(f"{name} never opened")


def scenario(*steps: Step) -> Callable[[Any], Awaitable[None]]:
    """Run the steps, wait for every worker, then stop cursors blinking so the picture is stable."""

    async def run(pilot: Any) -> None:
        await ready(pilot)
        for step in steps:
            await step(pilot)
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
        for screen in pilot.app.screen_stack:
            for widget in screen.query("Input, TextArea"):
                widget.cursor_blink = False
        await pilot.pause()

    return run


def keys(*pressed: str) -> Step:
    async def step(pilot: Any) -> None:
        await pilot.press(*pressed)

    return step


def open_seeded(conversation: int) -> Step:
    async def step(pilot: Any) -> None:
        pilot.app.screen.open_conversation(conversation)

    return step


def prompt(text: str) -> Step:
    async def step(pilot: Any) -> None:
        pilot.app.screen.query_one("#prompt").load_text(text)
        await pilot.press("enter")

    return step


def test_main_screen_with_a_conversation(snap_compare, user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    app = make_app(user_env, write_config(user_env, openai=openai_fake))
    conversation = seed(app)
    assert snap_compare(app, terminal_size=SIZE, run_before=scenario(open_seeded(conversation)))


def test_main_screen_after_a_streamed_reply(snap_compare, user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    openai_fake.queue(gpt_text([CODE_ANSWER[i : i + 9] for i in range(0, len(CODE_ANSWER), 9)]))
    app = make_app(user_env, write_config(user_env, openai=openai_fake))
    assert snap_compare(app, terminal_size=SIZE, run_before=scenario(prompt("Split a list in chunks?")))


def test_model_picker(snap_compare, user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    openai_fake.models = ["gpt-4o-mini", "gpt-4.1", "o4-mini"]
    app = make_app(user_env, write_config(user_env, openai=openai_fake))
    assert snap_compare(app, terminal_size=SIZE, run_before=scenario(keys("ctrl+l")))


def test_key_status_panel(snap_compare, user_env, openai_fake, anthropic_fake) -> None:  # type: ignore[no-untyped-def]
    config = write_config(user_env, openai=openai_fake, anthropic=anthropic_fake, anthropic_key=None)
    app = make_app(user_env, config)
    assert snap_compare(app, terminal_size=SIZE, run_before=scenario(keys("f2")))


def test_key_entry_is_masked(snap_compare, user_env, openai_fake, anthropic_fake) -> None:  # type: ignore[no-untyped-def]
    config = write_config(user_env, openai=openai_fake, anthropic=anthropic_fake, anthropic_key=None)
    app = make_app(user_env, config)
    steps = scenario(keys("f2"), keys("down", "s"), keys(*"sk-ant-secret"))
    assert snap_compare(app, terminal_size=SIZE, run_before=steps)


def test_tool_approval_modal(snap_compare, user_env, openai_fake, tmp_path) -> None:  # type: ignore[no-untyped-def]
    call = ("call_1", "run_shell", {"command": "pytest -q tests/"})
    openai_fake.queue(gpt_tools([call]), gpt_text(["ok"]))
    app = make_app(user_env, write_config(user_env, openai=openai_fake), workspace=tmp_path)

    async def ask(pilot: Any) -> None:
        pilot.app.screen.query_one("#prompt").load_text("run the tests")
        await pilot.press("enter")
        await until_screen(pilot, "ApprovalScreen")

    async def run(pilot: Any) -> None:
        await ready(pilot)
        await ask(pilot)  # the turn waits for the answer, so no waiting for workers here
        caution = str(pilot.app.screen.query_one("#caution").render())
        assert "not confined to the workspace" in caution  # the user knows what they approve
        for screen in pilot.app.screen_stack:
            for widget in screen.query("Input, TextArea"):
                widget.cursor_blink = False
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_tool_pane_with_an_expanded_call(snap_compare, user_env, openai_fake, tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "notes.md").write_text("Prefer the standard library.\n")
    openai_fake.queue(
        gpt_tools([("call_1", "read_file", {"path": "notes.md"})]),
        gpt_text(["Your notes say: stdlib first."]),
    )
    app = make_app(user_env, write_config(user_env, openai=openai_fake), workspace=tmp_path)

    async def expand(pilot: Any) -> None:
        for entry in pilot.app.screen.query("ToolEntry"):
            entry.collapsed = False

    assert snap_compare(app, terminal_size=SIZE, run_before=scenario(prompt("What do my notes say?"), expand))


def test_search_results(snap_compare, user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    app = make_app(user_env, write_config(user_env, openai=openai_fake))
    seed(app)
    assert snap_compare(app, terminal_size=SIZE, run_before=scenario(keys("ctrl+f", *"chunks", "down")))


def test_edit_message_dialog(snap_compare, user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    app = make_app(user_env, write_config(user_env, openai=openai_fake))
    conversation = seed(app)
    assert snap_compare(app, terminal_size=SIZE, run_before=scenario(open_seeded(conversation), keys("f4")))


def test_rename_dialog(snap_compare, user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    app = make_app(user_env, write_config(user_env, openai=openai_fake))
    seed(app)

    async def focus_tree(pilot: Any) -> None:
        pilot.app.screen.query_one("#agents").focus()

    rename = scenario(focus_tree, keys("down", "down", "r"))
    assert snap_compare(app, terminal_size=SIZE, run_before=rename)


def test_delete_confirmation(snap_compare, user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    app = make_app(user_env, write_config(user_env, openai=openai_fake))
    seed(app)

    async def focus_tree(pilot: Any) -> None:
        pilot.app.screen.query_one("#agents").focus()

    assert snap_compare(app, terminal_size=SIZE, run_before=scenario(focus_tree, keys("down", "down", "d")))


def test_copy_code_picker(snap_compare, user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    two_blocks = "First:\n\n```sh\npip install rich\n```\n\nThen:\n\n```python\nimport rich\n```\n"
    openai_fake.queue(gpt_text([two_blocks]))
    app = make_app(user_env, write_config(user_env, openai=openai_fake))
    assert snap_compare(app, terminal_size=SIZE, run_before=scenario(prompt("install rich?"), keys("f8")))


def test_usage_statistics(snap_compare, user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    app = make_app(user_env, write_config(user_env, openai=openai_fake), store=usage_store(user_env))
    assert snap_compare(app, terminal_size=SIZE, run_before=scenario(keys("f6")))


def attach_workspace(root: Any) -> Any:
    """A project to attach from: a .gitignore'd build directory, an image, a PDF, notes."""
    from tests.attach_files import make_image, make_pdf

    root = root / "project"  # not tmp_path itself: the user's config and data are there
    files = {"README.md": b"# demo\n", "notes.md": b"Prefer the standard library.\n", "debug.log": b"x\n"}
    files |= {
        "docs/chart.png": make_image(64, 48),
        "docs/report.pdf": make_pdf(["Revenue grew.", "Costs fell."]),
    }
    files |= {"src/app.py": b"print('hi')\n", "src/report_format.py": b"", "build/report.pdf": b"%PDF-"}
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / ".gitignore").write_text("build/\n*.log\n")
    return root


def attach(*paths: str) -> Step:
    async def step(pilot: Any) -> None:
        pilot.app.screen.attach.add_files(list(paths))

    return step


def test_attachment_chips(snap_compare, user_env, openai_fake, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from agentchat.core.intake import part_for
    from tests.attach_files import make_image

    app = make_app(user_env, write_config(user_env, openai=openai_fake))
    app.workspace = attach_workspace(tmp_path)
    conversation = app.store.create_conversation(title="The quarterly chart")
    question = Message.user("What does this chart show?", [part_for("docs/chart.png", make_image(64, 48))])
    user = app.store.add_message(conversation, question)
    reply = Message(
        role="assistant", parts=[TextPart("Revenue rising through the year.")], parent_id=user,
        provider="openai", model="gpt-4o-mini",
    )  # fmt: skip
    app.store.add_message(conversation, reply)
    steps = scenario(
        open_seeded(conversation), attach("docs/report.pdf", "notes.md"), keys(*"and these two?")
    )
    assert snap_compare(app, terminal_size=SIZE, run_before=steps)


def test_file_picker(snap_compare, user_env, openai_fake, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(user_env, write_config(user_env, openai=openai_fake))
    app.workspace = attach_workspace(tmp_path)
    steps = scenario(attach("docs/chart.png"), keys("@"), keys(*"rep"))
    assert snap_compare(app, terminal_size=SIZE, run_before=steps)


# --- a newcomer (issue 16): the welcome, the providers pane, 80x24, the wait for a first token ----
def test_newcomer_first_screen(snap_compare, user_env) -> None:  # type: ignore[no-untyped-def]
    """No key, no config file, the embedded model installed: the welcome and the providers pane."""
    assert snap_compare(newcomer_app(user_env, None), terminal_size=SIZE, run_before=scenario())


def test_newcomer_at_80x24(snap_compare, user_env) -> None:  # type: ignore[no-untyped-def]
    """The sidebar collapsed on its own; the route, the welcome, the prompt and its keys fit."""
    assert snap_compare(newcomer_app(user_env, None), terminal_size=NARROW, run_before=scenario())


def test_a_conversation_at_80x24(snap_compare, user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    app = newcomer_app(user_env, openai_at(openai_fake))
    conversation = seed(app)
    assert snap_compare(app, terminal_size=NARROW, run_before=scenario(open_seeded(conversation)))


def test_model_picker_lists_the_embedded_model(snap_compare, user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    app = newcomer_app(user_env, openai_at(openai_fake))
    assert snap_compare(app, terminal_size=SIZE, run_before=scenario(keys("ctrl+l")))


def test_waiting_for_the_first_token(snap_compare, user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    from agentchat.tui.widgets.pending import PendingReply
    from tests.test_tui_helpers import wait_for_text

    reply = gpt_text(["Here it is."])
    reply.hold, reply.hold_after = threading.Event(), 1  # the role chunk only: no token yet
    openai_fake.queue(reply)
    app = newcomer_app(user_env, openai_at(openai_fake))

    async def run(pilot: Any) -> None:
        await ready(pilot)
        pilot.app.screen.query_one("#prompt").load_text("Are you there?")
        await pilot.press("enter")
        await wait_for_text(pilot, "connecting to openai…")
        for pending in pilot.app.screen.query(PendingReply):
            pending.freeze()
        pilot.app.screen.query_one("#prompt").cursor_blink = False
        await pilot.pause()

    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=run)
    finally:
        reply.hold.set()
