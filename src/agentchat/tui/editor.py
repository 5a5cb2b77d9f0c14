"""ctrl+e: write the prompt in `$VISUAL` or `$EDITOR`.

The prompt's text goes to a private temporary file; the app hands the terminal to the editor
(`App.suspend`) and takes it back when the editor exits. What was saved fills the prompt, to be
read and sent with enter: nothing is sent from here, and a file left unchanged or emptied leaves
the prompt as it was. Where the app cannot hand over a terminal (Textual's headless and web
drivers) the editor still runs, without one.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import SuspendNotSupported

if TYPE_CHECKING:
    from textual.app import App

    from agentchat.tui.widgets.prompt import PromptInput


def editor_command() -> list[str] | None:
    """`$VISUAL`, else `$EDITOR`, split as a shell would (`code --wait`); None when neither is set."""
    for name in ("VISUAL", "EDITOR"):
        value = os.environ.get(name, "").strip()
        if value:
            try:
                return shlex.split(value)
            except ValueError:
                return value.split()
    return None


def edit_prompt(app: App[None], prompt: PromptInput) -> None:
    command = editor_command()
    if command is None:
        app.notify("set $VISUAL or $EDITOR to write the prompt in your editor", severity="warning")
        return
    before = prompt.text
    fd, name = tempfile.mkstemp(prefix="agentchat-prompt-", suffix=".md")  # 0600: the user's text
    path = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(before)
        failure = _run(app, [*command, str(path)])
        after = path.read_text(encoding="utf-8", errors="replace") if failure is None else before
    finally:
        path.unlink(missing_ok=True)
    if failure is not None:
        app.notify(f"{command[0]}: {failure}: the prompt is unchanged", severity="warning", timeout=8)
    elif after.rstrip("\n") == before.rstrip("\n") or not after.strip():
        app.notify("nothing saved: the prompt is unchanged", timeout=3)
    else:
        prompt.load_text(after.rstrip("\n"))
        prompt.move_cursor(prompt.document.end)
    prompt.focus()


def _run(app: App[None], argv: list[str]) -> str | None:
    """Run the editor; what went wrong, or None. Nothing may escape the suspended block: the
    terminal is given back to the app only when it ends normally."""
    try:
        with app.suspend():
            return _call(argv, quiet=False)
    except SuspendNotSupported:
        return _call(argv, quiet=True)


def _call(argv: list[str], *, quiet: bool) -> str | None:
    streams = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    try:
        code = subprocess.run(argv, check=False, **(streams if quiet else {})).returncode  # type: ignore[call-overload]
    except OSError as exc:
        return f"cannot run it ({exc.strerror})"
    return None if code == 0 else f"exited with status {code}"
