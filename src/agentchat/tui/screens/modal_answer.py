"""Waiting on a modal from a coroutine: the engine's tool approval and an MCP server's question
both await the user's answer in the middle of a turn, and both must close their modal when the
turn is cancelled meanwhile (Esc, quit), or it would stay up answering nobody."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import ModalScreen

R = TypeVar("R")


async def answer_of(app: App[Any], screen: ModalScreen[R], default: R) -> R:
    """Show `screen` and wait for what it dismisses with (`default` when it gives nothing)."""
    answer: asyncio.Future[R] = asyncio.get_running_loop().create_future()

    def done(result: R | None) -> None:
        if not answer.done():
            answer.set_result(result or default)

    app.push_screen(screen, callback=done)
    try:
        return await answer
    except asyncio.CancelledError:
        if screen.is_attached and app.screen is screen:
            app.pop_screen()
        raise
