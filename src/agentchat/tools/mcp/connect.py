"""Opening one MCP connection: stdio, Streamable HTTP or SSE, and saying in one line why it failed.

Remote servers are tried over Streamable HTTP first. One that answers the first POST with 404 or
405 speaks only the older SSE transport (the spec's backwards-compatibility rule), so the same URL
is tried over SSE, unless `transport` was set explicitly. Every HTTP response is seen by a hook,
so a 401 is reported as what it is (the server wants OAuth or a token), not as the SDK's generic
"Server returned an error response".
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from agentchat.config.mcp import MCPServerConfig
from agentchat.tools.base import describe_error

if TYPE_CHECKING:
    import httpx2
    from mcp import Client

# The SDK logs what a server does wrong (a line that is not JSON-RPC, with a traceback); unhandled,
# Python's last-resort handler would print it over `ask`'s stderr or the TUI. agentchat reports
# such failures itself, in one line; a user who configures logging still gets the SDK's records.
logging.getLogger("mcp").addHandler(logging.NullHandler())

# Longest wait for the HTTP stream of a call's reply; the per-call `timeout` bounds calls anyway.
SSE_READ_TIMEOUT_S = 300.0


@dataclass(slots=True)
class Seen:
    """What the HTTP hook saw: the status of the last error response and its WWW-Authenticate."""

    status: int | None = None
    method: str | None = None
    authenticate: str | None = None
    stderr: IO[str] | None = None  # a stdio server's stderr, kept for error messages
    transport: str = ""  # the transport that was used: stdio, streamable-http or sse
    garbage: str | None = None  # the first thing the server sent that was not JSON-RPC

    async def hook(self, response: httpx2.Response) -> None:
        if response.status_code >= 400:
            self.status, self.method = response.status_code, response.request.method
            self.authenticate = response.headers.get("www-authenticate")

    def wants_sse(self) -> bool:
        """The spec's rule: a 4xx to the first POST means an SSE-only server (not 401/403: those
        are about the user, and say so)."""
        return (
            self.method == "POST"
            and self.status is not None
            and 400 <= self.status < 500
            and (self.status not in (401, 403))
        )


def _client_info() -> Any:
    from mcp import Implementation

    import agentchat

    return Implementation(name="agentchat", version=agentchat.__version__)


def _http_client(cfg: MCPServerConfig, seen: Seen) -> httpx2.AsyncClient:
    """The HTTP client of one remote server: its headers, its start-up timeout, the status hook."""
    import httpx2

    timeout = httpx2.Timeout(cfg.startup_timeout_s, read=SSE_READ_TIMEOUT_S)
    return httpx2.AsyncClient(headers=cfg.headers, timeout=timeout, event_hooks={"response": [seen.hook]})


@asynccontextmanager
async def _transport(cfg: MCPServerConfig, seen: Seen, kind: str) -> AsyncIterator[Any]:
    if kind == "stdio":
        from mcp import StdioServerParameters
        from mcp.client.stdio import stdio_client

        params = StdioServerParameters(
            command=cfg.command,
            args=cfg.args,
            env=cfg.env or None,
            cwd=Path(cfg.cwd).expanduser() if cfg.cwd else None,
        )
        seen.stderr = tempfile.TemporaryFile("w+")
        # Server stderr goes to a file: its logs must not scribble over the TUI or `ask` output.
        async with stdio_client(params, errlog=seen.stderr) as streams:
            yield streams
    elif kind == "sse":
        from mcp.client.sse import sse_client

        async with sse_client(
            cfg.url or "",
            timeout=cfg.startup_timeout_s,
            sse_read_timeout=SSE_READ_TIMEOUT_S,
            # What the SDK passes its factory (headers, timeout, auth) is what `cfg` already says.
            httpx_client_factory=lambda headers=None, timeout=None, auth=None: _http_client(cfg, seen),
        ) as streams:
            yield streams
    else:
        from mcp.client.streamable_http import streamable_http_client

        async with (
            _http_client(cfg, seen) as http,
            streamable_http_client(cfg.url or "", http_client=http) as streams,
        ):
            yield streams


@asynccontextmanager
async def connect(cfg: MCPServerConfig, seen: Seen, **callbacks: Any) -> AsyncIterator[Client]:
    """A started client (handshake done) over the configured transport, SSE on fallback.
    `callbacks` go to the SDK's Client (elicitation, the message handler...)."""
    from mcp import Client

    kinds = [cfg.transport]
    if cfg.transport == "http" and not cfg.transport_set:
        kinds.append("sse")
    first: tuple[Exception, int | None] | None = None  # how Streamable HTTP failed, before SSE was tried
    for index, kind in enumerate(kinds):
        seen.transport = {"http": "streamable-http"}.get(kind, kind)
        seen.status = None
        try:
            client = Client(_transport(cfg, seen, kind), client_info=_client_info(), **callbacks)
            await client.__aenter__()
        except Exception as exc:
            if index + 1 < len(kinds) and seen.wants_sse():
                first = exc, seen.status
                continue
            if first is not None:  # neither spoke: the Streamable HTTP answer is the one to report
                seen.transport, seen.status = "streamable-http", first[1]
                raise first[0] from None
            raise
        try:
            yield client
        finally:
            await client.__aexit__(None, None, None)
        return


def explain(cfg: MCPServerConfig, seen: Seen, exc: BaseException) -> str:
    """One line: what went wrong with this server, in the user's terms. The URL shown is the one
    configured (`${VAR}`s unexpanded), so a token in it never reaches a message."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if seen.status == 401:
        how = f" (WWW-Authenticate: {seen.authenticate[:160]})" if seen.authenticate else ""
        if "authorization" in {h.lower() for h in cfg.headers}:
            return f"{cfg.url} refused the Authorization header (HTTP 401){how}"
        return (
            f"{cfg.url} requires authorization (HTTP 401){how}: it signs in with OAuth, which "
            'agentchat does not do; give a token in headers = { Authorization = "Bearer ${TOKEN}" }'
        )
    if seen.status == 403:
        return f"{cfg.url} refused access (HTTP 403)"
    if seen.status is not None and cfg.url:
        return f"{cfg.url} answered HTTP {seen.status} over {seen.transport}"
    if isinstance(exc, OSError) and exc.strerror and not cfg.url:
        return f"cannot run {cfg.command!r}: {exc.strerror}"
    name = type(exc).__name__
    if cfg.url and name in ("ConnectError", "ConnectTimeout", "ReadTimeout", "RemoteProtocolError"):
        return f"cannot reach {cfg.url}: {str(exc) or name}"
    return with_stderr(seen, describe_error(exc).splitlines()[0])


def with_stderr(seen: Seen, message: str) -> str:
    """The message plus what the server sent that was not JSON-RPC, or else its last stderr line
    (which usually says what went wrong)."""
    if seen.garbage is not None:
        return f"{message}: it sent something that is not JSON-RPC: {seen.garbage}"
    if seen.stderr is None or seen.stderr.closed:
        return message
    seen.stderr.seek(0)
    lines = [line.strip() for line in seen.stderr.read().splitlines() if line.strip()]
    return f"{message} (stderr: {lines[-1][:200]})" if lines else message
