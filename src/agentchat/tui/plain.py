"""Text from a model, a user, a tool or the store, made into something a widget shows as it is.

Textual parses a `str` handed to most widgets as console markup (Static, Label, Button, Tree and
DataTable labels, OptionList options, Collapsible and border titles): `[/b]` in a reply or a title
raised MarkupError and aborted the turn or the app. It also writes escape sequences in the text
to the terminal as they are. So such text goes to a widget as `Content` or Rich `Text` built
from `clean(text)` (agentchat.core.text), never as a `str`.
"""

from __future__ import annotations

from rich.text import Text
from textual.content import Content

from agentchat.core.text import StreamCleaner, clean

__all__ = ["StreamCleaner", "clean", "plain", "plain_text"]


def plain(text: str) -> Content:
    """For Textual widgets: no markup, no control sequences."""
    return Content(clean(text))


def plain_text(text: str, style: str = "") -> Text:
    """For Rich renderables (a Group, a Tree label, a DataTable cell): no markup, no control sequences."""
    return Text(clean(text), style=style)
