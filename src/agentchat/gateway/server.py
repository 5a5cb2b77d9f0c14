"""Running the gateway: the address checks, the token, uvicorn.

Loopback (127.0.0.1, ::1, localhost) is the default and needs no token unless one is given. Any
other address reaches other machines, so it is refused without a token: a gateway spends the
user's provider keys for whoever can reach it.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from agentchat.core.errors import UsageError

if TYPE_CHECKING:
    import uvicorn

    from agentchat.config import Config

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
BACKLOG = 2048  # uvicorn's default: it listens again with it


def is_loopback(host: str) -> bool:
    """Every address the name stands for is a loopback one (a name that does not resolve is not)."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return False
    return bool(infos) and all(
        ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in infos
    )


def new_token() -> str:
    return secrets.token_urlsafe(24)


def check_bind(host: str, token: str | None) -> None:
    if token is None and not is_loopback(host):
        raise UsageError(
            f"refusing to serve on {host} without a token: it is not a loopback address, so other "
            "machines could spend your provider keys; pass --token TOKEN (or --token alone to generate one)"
        )


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so a taken port is one line, not a server's traceback."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)[
            0
        ]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise UsageError(f"cannot serve on {host}: {exc.strerror or exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        # Listening before the URL is announced: a client that connects at once (a script that
        # started the server) waits in the backlog while the server starts, instead of being refused.
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def make_server(
    config: Config, *, host: str, port: int, token: str | None, no_log: bool
) -> tuple[uvicorn.Server, socket.socket]:
    """The server and its bound socket (`server.run(sockets=[sock])` serves; tests run it in a
    thread and stop it with `server.should_exit`)."""
    check_bind(host, token)
    sock = bind(host, port)
    import uvicorn

    from agentchat.gateway.app import build_app
    from agentchat.gateway.service import Gateway

    app = build_app(Gateway(config, no_log=no_log), token)
    # httptools parses HTTP and uvloop runs the loop in C: a streamed token costs the gateway less
    # than with the pure-Python h11 and asyncio (bench/bench_gateway.py).
    config_ = uvicorn.Config(
        app,
        http="httptools",
        loop="asyncio" if sys.platform == "win32" else "uvloop",
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=3,
    )
    return uvicorn.Server(config_), sock


def serve(
    config: Config,
    *,
    host: str,
    port: int,
    token: str | None,
    no_log: bool,
    announce: Callable[[str], None],
) -> int:
    """Serve until interrupted. `announce` gets the URL once the socket is bound (the token, when
    generated, is the caller's to show)."""
    server, sock = make_server(config, host=host, port=port, token=token, no_log=no_log)
    announce(base_url(sock))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it shut down for: stopping is normal
        pass
    finally:
        sock.close()
    return 0
