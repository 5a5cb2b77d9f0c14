"""`agentchat serve` run inside the test process: the real app on uvicorn, on an ephemeral loopback
port, in a thread with its own event loop (no new interpreter per test); the SDKs and `llm` talk
to it over real HTTP, and it talks to the loopback fakes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from agentchat.config import load_config
from agentchat.gateway.server import base_url, make_server
from tests.conftest import UserEnv


@contextmanager
def running_gateway(
    user: UserEnv, *, token: str | None = None, no_log: bool = False, host: str = "127.0.0.1"
) -> Iterator[str]:
    """The gateway serving `user`'s config and history; yields its base URL (no /v1)."""
    server, sock = make_server(load_config(user.config_path), host=host, port=0, token=token, no_log=no_log)
    url = base_url(sock)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the gateway did not start")
            thread.join(0.01)
        yield url
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
