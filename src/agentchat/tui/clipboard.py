"""The desktop's clipboard tool, beside the terminal's OSC 52.

Textual copies by OSC 52, which many terminals honour but some do not (GNOME Terminal and other
VTE terminals, macOS Terminal, tmux without `set-clipboard`). Where a clipboard command is at
hand the text goes to it as well, so "copied" is true in those terminals too.

The other way, a terminal pastes only text: an image on the clipboard (ctrl+v in the prompt) is
read from the same tools.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable

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


# --- reading an image (ctrl+v in the prompt) ----------------------------------------------------
# A terminal pastes only text, so an image on the clipboard is read from the desktop's tool: the
# types it offers first, then the first image type among them. pbpaste reads only text, so on
# macOS the image comes through osascript (part of every macOS) as the clipboard's PNG data.
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
TOOLS = "wl-paste (Wayland), xclip (X11) or osascript (macOS)"


class NoClipboardTool(Exception):
    """No tool this session can use to read an image from the clipboard."""


def _wl_paste() -> tuple[list[str], Callable[[str], list[str]]]:
    return ["wl-paste", "--list-types"], lambda kind: ["wl-paste", "--no-newline", "--type", kind]


def _xclip() -> tuple[list[str], Callable[[str], list[str]]]:
    return (
        ["xclip", "-selection", "clipboard", "-t", "TARGETS", "-o"],
        lambda kind: ["xclip", "-selection", "clipboard", "-t", kind, "-o"],
    )


def read_clipboard_image() -> bytes | None:
    """Blocking (run it in a thread): the clipboard's image (PNG, JPEG, GIF or WebP bytes), None
    when it holds no image; NoClipboardTool when no tool here can read it."""
    if sys.platform == "darwin" and shutil.which("osascript"):
        return _macos_png()
    tools = []
    if os.environ.get("WAYLAND_DISPLAY"):
        tools.append(_wl_paste())
    if os.environ.get("DISPLAY"):
        tools.append(_xclip())
    usable = [(types, read) for types, read in tools if shutil.which(types[0])]
    if not usable:
        raise NoClipboardTool(f"reading an image from the clipboard needs {TOOLS}; none was found")
    types_command, read = usable[0]
    offered = _run(types_command)
    if offered is None:
        return None
    listed = offered.decode("utf-8", "replace").split()
    kind = next((t for t in IMAGE_TYPES if t in listed), None)
    if kind is None:
        return None
    return _run(read(kind)) or None


def _macos_png() -> bytes | None:
    out = _run(["osascript", "-e", "the clipboard as «class PNGf»"])  # fails when it holds no image
    text = (out or b"").decode("utf-8", "replace").strip()
    if not text.startswith("«data PNGf") or not text.endswith("»"):
        return None
    try:
        return bytes.fromhex(text[len("«data PNGf") : -1])
    except ValueError:
        return None


def _run(command: list[str]) -> bytes | None:
    try:
        done = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None
