"""How an error reaches the user in the TUI: a notification with a heading, never a crash."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentchat.core.errors import (
    AgentchatError,
    AuthError,
    ProviderNetworkError,
    RateLimitError,
    StreamInterrupted,
    UnavailableError,
    UnknownModelError,
)

if TYPE_CHECKING:
    from textual.widget import Widget


def error_title(exc: AgentchatError) -> str:
    """A heading a user understands at a glance; the message has the details and the fix."""
    if isinstance(exc, AuthError):
        return "Key missing or rejected (f2: key status)"
    if isinstance(exc, RateLimitError):
        return "Rate limited"
    if isinstance(exc, UnavailableError | ProviderNetworkError):
        return "Provider unreachable"
    if isinstance(exc, StreamInterrupted):
        return "Reply interrupted (partial kept)"
    if isinstance(exc, UnknownModelError):
        return "Unknown model (ctrl+l: models)"
    return "Error"


def notify_error(node: Widget, exc: AgentchatError, *, timeout: float | None = None) -> None:
    """The message as written (provider text may hold brackets: no markup)."""
    node.notify(str(exc), title=error_title(exc), severity="error", timeout=timeout, markup=False)
