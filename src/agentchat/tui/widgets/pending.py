"""The line under a sent message until the reply's first token: "connecting to openai…" or
"loading model smollm2…", with a spinner and the seconds waited, so a prompt never seems to
vanish while a provider connects or the embedded model loads (2-7 s on a first message)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from agentchat.tui.plain import clean
from agentchat.tui.tcss import tcss_beside

if TYPE_CHECKING:
    from textual.timer import Timer

SPINNER = "◐◓◑◒"
TICK_S = 0.1


class PendingReply(Static):
    DEFAULT_CSS = tcss_beside(__file__)

    def __init__(self, label: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(id="pending")
        self.label = label
        self.clock = clock
        self.started = clock()
        self.frame = 0
        self._timer: Timer | None = None

    def on_mount(self) -> None:
        self.update(self._text())
        self._timer = self.set_interval(TICK_S, self._tick)

    def _tick(self) -> None:
        self.frame += 1
        self.update(self._text())

    def _text(self) -> Text:
        waited = self.clock() - self.started
        text = Text(f"{SPINNER[self.frame % len(SPINNER)]} ", style="bold")
        text.append(clean(self.label), style="italic")
        if waited >= 1:
            text.append(f"  {waited:.0f} s", style="dim")
        return text

    def relabel(self, label: str) -> None:
        self.label = label
        self.update(self._text())

    def freeze(self) -> None:
        """Stop the spinner where it started (a screenshot must not depend on when it is taken)."""
        if self._timer is not None:
            self._timer.stop()
        self.frame, self.started = 0, self.clock()
        self.update(self._text())
