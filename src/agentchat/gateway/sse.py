"""Sending a server-sent-event stream: frames leave in the request's own task, coalesced.

A provider's frames often arrive in bursts (one network read holds several tokens); sending each
as its own write costs a system call and a wake-up of the client per token. Frames are queued and
a flush is scheduled for when the producer next waits for the network, so a burst leaves as one
write and a lone token leaves at once: no timer, no added latency.

A client that hangs up cancels the request's task: the engine stores the partial reply as
interrupted, as it does for Ctrl-C in `ask`, and the response ends quietly.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from starlette.types import Receive, Scope, Send

MAX_QUEUED = 256  # frames queued behind a slow client before the producer waits for it


class EventStream:
    """An ASGI response of SSE frames (the API's own framing, done by the caller)."""

    def __init__(self, frames: AsyncIterator[bytes], headers: dict[str, str]) -> None:
        self.frames = frames
        self.raw_headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-cache"),
            *((k.encode(), v.encode()) for k, v in headers.items()),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        task = asyncio.current_task()
        assert task is not None
        gone = asyncio.Event()
        queued: list[bytes] = []
        flushing: asyncio.Task[None] | None = None

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()
            task.cancel()

        async def flush() -> None:
            nonlocal flushing
            try:
                while queued:
                    body = b"".join(queued)
                    queued.clear()
                    await send({"type": "http.response.body", "body": body, "more_body": True})
            finally:
                flushing = None

        watcher = asyncio.create_task(watch())
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            async for frame in self.frames:
                queued.append(frame)
                if flushing is None:
                    flushing = asyncio.create_task(flush())  # runs once the producer waits
                elif len(queued) >= MAX_QUEUED:
                    await flushing
            if flushing is not None:
                await flushing
            await send({"type": "http.response.body", "body": b"".join(queued), "more_body": False})
        except asyncio.CancelledError:
            if not gone.is_set():
                raise
            task.uncancel()
        finally:
            watcher.cancel()
            if flushing is not None:
                flushing.cancel()
            aclose = getattr(self.frames, "aclose", None)
            if aclose is not None:
                await aclose()
