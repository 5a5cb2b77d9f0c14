"""SVG snapshots of the power user's TUI: the slash popup (commands and a template), a message with
siblings (‹ 2/2 ›), a prompt written in $EDITOR, and a config's own theme and keys.
Update after looking at the report: `pytest tests/test_tui_power_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import sys
from typing import Any

from agentchat.core.messages import Message, TextPart
from tests.test_tui_helpers import SIZE, make_app, write_config
from tests.test_tui_snapshots import keys, open_seeded, scenario


def test_slash_popup(snap_compare, user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    templates = user_env.config_path.parent / "templates"
    templates.mkdir()
    (templates / "review.md").write_text("---\ndescription: Review a file for bugs\n---\nReview $1\n")
    app = make_app(user_env, write_config(user_env, openai=openai_fake))
    # over a conversation: an empty one's welcome names the config file, a temporary path here
    steps = scenario(open_seeded(branched(app)), keys("/", "r"))
    assert snap_compare(app, terminal_size=SIZE, run_before=steps)


def branched(app: Any) -> int:
    """A question answered twice (a regenerate): the newest answer is on screen."""
    store = app.store
    conversation = store.create_conversation(title="Naming a cat")
    user = store.add_message(conversation, Message.user("Name for a grey cat?"))
    for answer in ("Smokey.", "Ash, or Pebble if she is small."):
        reply = Message(
            role="assistant", parts=[TextPart(answer)], parent_id=user, provider="openai", model="gpt-4o-mini"
        )
        store.add_message(conversation, reply)
    return conversation


def test_branch_indicator(snap_compare, user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    app = make_app(user_env, write_config(user_env, openai=openai_fake))
    assert snap_compare(app, terminal_size=SIZE, run_before=scenario(open_seeded(branched(app))))


def test_prompt_written_in_the_editor(snap_compare, user_env, openai_fake, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    script = tmp_path / "editor.py"
    script.write_text(
        "import sys\nopen(sys.argv[1], 'w').write('Explain:\\n\\n1. monads\\n2. functors\\n')\n"
    )
    monkeypatch.setenv("VISUAL", f"{sys.executable} {script}")
    app = make_app(user_env, write_config(user_env, openai=openai_fake))
    steps = scenario(open_seeded(branched(app)), keys("ctrl+e"))  # (see test_slash_popup)
    assert snap_compare(app, terminal_size=SIZE, run_before=steps)


def test_theme_and_keys_from_the_config(snap_compare, user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    extra = '\n[ui]\ntheme = "nord"\n\n[keys]\nnew-chat = "ctrl+t"\n'
    app = make_app(user_env, write_config(user_env, openai=openai_fake, extra=extra))
    assert snap_compare(app, terminal_size=SIZE, run_before=scenario(open_seeded(branched(app))))
