"""Helpers for tests that drain a provider's or the engine's event stream."""

from __future__ import annotations

from typing import Any

import pytest

from agentchat.core.errors import ProviderError
from agentchat.core.events import TextDelta


async def collect(provider: Any, request: Any) -> list[Any]:
    return [event async for event in provider.stream(request)]


async def collect_until_error(provider: Any, request: Any) -> tuple[list[Any], ProviderError]:
    """The events yielded before the stream failed, and the neutral error it failed with."""
    events: list[Any] = []
    with pytest.raises(ProviderError) as info:
        async for event in provider.stream(request):
            events.append(event)
    return events, info.value


def text_of(events: list[Any]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))
