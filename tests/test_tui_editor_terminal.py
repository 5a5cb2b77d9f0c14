"""ctrl+e in a real terminal (tmux): the app hands the terminal to $VISUAL (App.suspend) and takes
it back; what the editor saved fills the prompt and nothing is sent."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.test_tui_smoke import NO_TMUX, _exit_status, _start, _wait_for

# An "editor" that talks to the terminal: it shows the file, reads a line typed there, appends it.
EDITOR = """import sys
path = sys.argv[1]
print("EDITING:", open(path).read().strip(), flush=True)
line = input("type> ")
open(path, "a").write("\\n" + line + "\\n")
"""


@NO_TMUX
def test_ctrl_e_hands_the_terminal_to_the_editor_and_back(user_env, openai_fake, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    script = tmp_path / "editor.py"
    script.write_text(EDITOR)
    user_env.env["VISUAL"] = f"{sys.executable} {script}"
    tmux, status = _start(user_env, openai_fake, tmp_path)
    try:
        _wait_for(tmux, "Message (enter sends")
        subprocess.run([*tmux, "send-keys", "-l", "draft words"], check=True)
        subprocess.run([*tmux, "send-keys", "C-e"], check=True)
        pane = _wait_for(tmux, "type>")  # the editor has the terminal: the app's screen is gone
        assert "EDITING: draft words" in pane and "Message (enter sends" not in pane
        subprocess.run([*tmux, "send-keys", "-l", "typed in the editor"], check=True)
        subprocess.run([*tmux, "send-keys", "Enter"], check=True)
        pane = _wait_for(tmux, "^p palette")  # the app is back, its prompt filled
        assert "draft words" in pane and "typed in the editor" in pane and "type>" not in pane
        subprocess.run([*tmux, "send-keys", "C-q"], check=True)
        assert _exit_status(status) == 0
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
    assert openai_fake.chat_requests() == []
