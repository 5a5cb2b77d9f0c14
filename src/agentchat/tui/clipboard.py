"""The desktop's clipboard tool, beside the terminal's OSC 52.

Textual copies by OSC 52, which many terminals honour but some do not (GNOME Terminal and other
VTE terminals, macOS Terminal, tmux without `set-clipboard`). Where a clipboard command is at
hand the text goes to it as well, so "copied" is true in those terminals too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

TIMEOUT_S = 2.0


def clipboard_command() -> list[str] | None:
    """The first clipboard tool this session can use: Wayland, X11, macOS, WSL."""
    candidates: list[list[str]] = []
    if os.environ.get("WAYLAND_DISPLAY"):
        candidates.append(["wl-copy"])
    if os.environ.get("DISPLAY"):
        candidates += [["xclip", "-selection", "clipboard"], ["xsel", "--clipboard", "--input"]]
    if sys.platform == "darwin":
        candidates.append(["pbcopy"])
    candidates.append(["clip.exe"])  # WSL: Windows' own, on PATH inside WSL
    return next((c for c in candidates if shutil.which(c[0])), None)


def copy_with_tool(text: str) -> bool:
    """Blocking (run it in a thread); False when there is no tool or it failed."""
    command = clipboard_command()
    if command is None:
        return False
    try:
        # No pipes for its output: xclip stays behind to serve the selection and would hold them open.
        done = subprocess.run(
            command, input=text.encode(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            timeout=TIMEOUT_S, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0
