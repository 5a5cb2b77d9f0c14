"""tests/mcp_test_server.py served over HTTP in this process: Streamable HTTP at /mcp and the older
SSE transport at /sse, by uvicorn on a loopback port in a thread of its own (no second Python to
start, so the tests stay fast). `status_app` answers every request with one fixed HTTP status
(a 401 with WWW-Authenticate, a 500) for the bad-input tests.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run an ASGI app on 127.0.0.1 (a free port); yields its base URL, stops it on exit."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical", lifespan="on")
    server = uvicorn.Server(config)
    started = threading.Event()

    def run() -> None:
        loop = asyncio.new_event_loop()
        task = loop.create_task(server.serve())
        while not server.started and not task.done():
            loop.run_until_complete(asyncio.sleep(0.01))
        started.set()
        loop.run_until_complete(task)
        left = asyncio.all_tasks(loop)  # a request still hanging (force_exit): ended, not abandoned
        for pending in left:
            pending.cancel()
        loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(10), "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = server.force_exit = True  # a request left hanging must not hold the exit
        thread.join(10)


@contextmanager
def mcp_server_at(
    kind: str, server: Any = None, headers: list[dict[str, str]] | None = None
) -> Iterator[str]:
    """The URL of an MCPServer (by default the test server) over `kind`: "http" (Streamable HTTP)
    or "sse". Each request's headers are appended to `headers` when it is given."""
    if server is None:
        from tests.mcp_test_server import server

    app = server.sse_app() if kind == "sse" else server.streamable_http_app()
    if headers is not None:
        app = _recording(app, headers)
    with serve(app) as base:
        yield f"{base}/sse" if kind == "sse" else f"{base}/mcp"


def status_app(status: int, headers: dict[str, str] | None = None) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": b"no"})

    return app


def _recording(app: Any, seen: list[dict[str, str]]) -> Any:
    async def recorder(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            seen.append({k.decode(): v.decode() for k, v in scope["headers"]})
        await app(scope, receive, send)

    return recorder
