"""A scriptable loopback HTTP server that the real SDKs talk to.

Each protocol module (openai_fake, anthropic_fake, ollama_fake) subclasses `FakeServer`, routes its
endpoints and builds replies in its own wire format. Tests queue replies; every request is recorded.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


@dataclass
class Reply:
    """One scripted HTTP reply.

    `chunks` are written one by one (flushed), one every `delay_s`; `drop_after` closes the
    socket abruptly after that many chunks, without finishing the body (a dropped stream).
    `hang_s` sleeps before answering (to provoke timeouts). `hold` stops the stream after
    `hold_after` chunks until the test sets it: a reply that stays mid-stream exactly as long as
    the test needs, without a sleep.
    """

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    chunks: list[bytes] = field(default_factory=list)
    content_type: str = "application/json"
    delay_s: float = 0.0
    drop_after: int | None = None
    hang_s: float = 0.0
    chunked: bool = False  # a chunked body even with one chunk or none (an empty stream)
    close_after: bool = False  # close the socket after the body despite keep-alive (llama.cpp)
    hold: threading.Event | None = None  # after `hold_after` chunks, wait (up to 30 s) until it is set
    hold_after: int = 1

    @classmethod
    def json(cls, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
        return cls(status=status, headers=headers or {}, chunks=[json.dumps(body).encode()])


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class FakeServer:
    """Runs a ThreadingHTTPServer on 127.0.0.1 in a daemon thread, on an ephemeral port unless `port`
    names one (a fake run as its own process for a peer that is configured before it starts)."""

    def __init__(self, port: int = 0) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[Recorded] = []
        # model -> context window: a chat request over it is refused as the real API refuses it
        self.windows: dict[str, int] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def handle(self) -> None:
                try:
                    super().handle()
                except (ConnectionResetError, BrokenPipeError):  # the client hung up: that is its right
                    self.close_connection = True

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode(errors="replace")
                rec = Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with server._lock:
                    server.requests.append(rec)
                reply = server.route(rec)
                server._send(self, reply)

            do_GET = do_POST = do_DELETE = _handle

        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._httpd.daemon_threads = True
        # stop() waits for the loop to see the shutdown: up to one poll interval per fake, and a
        # run starts hundreds of them (at 0.05 s that was ~10 s of the default run).
        self._thread = threading.Thread(
            target=lambda: self._httpd.serve_forever(poll_interval=0.005), daemon=True
        )

    # --- lifecycle -----------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- scripting -----------------------------------------------------------------------------
    def queue(self, *replies: Reply) -> FakeServer:
        with self._lock:
            self.replies.extend(replies)
        return self

    def next_reply(self) -> Reply:
        with self._lock:
            if self.replies:
                return self.replies.popleft()
        return self.unscripted()

    def over_window(self, body: Any) -> tuple[int, int] | None:
        """(the request's tokens, the model's window) when `windows` gives the model one and the
        request does not fit it; None otherwise."""
        if not isinstance(body, dict) or body.get("model") not in self.windows:
            return None
        tokens, window = wire_tokens(body), self.windows[body["model"]]
        return (tokens, window) if tokens > window else None

    def chat_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST" and self.is_chat(r.path)]

    # --- to override ---------------------------------------------------------------------------
    def is_chat(self, path: str) -> bool:
        raise NotImplementedError

    def route(self, req: Recorded) -> Reply:
        if req.method == "POST" and self.is_chat(req.path):
            return self.next_reply()
        return Reply.json({"error": f"no route for {req.method} {req.path}"}, status=404)

    def unscripted(self) -> Reply:
        return Reply.json({"error": "the fake server has no scripted reply left"}, status=500)

    # --- wire ----------------------------------------------------------------------------------
    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        if reply.hang_s:
            time.sleep(reply.hang_s)
        handler.send_response(reply.status)
        handler.send_header("content-type", reply.content_type)
        for k, v in reply.headers.items():
            handler.send_header(k, v)
        streaming = len(reply.chunks) > 1 or reply.drop_after is not None or reply.chunked
        if streaming:
            handler.send_header("transfer-encoding", "chunked")
        else:
            body = reply.chunks[0] if reply.chunks else b""
            handler.send_header("content-length", str(len(body)))
        handler.end_headers()
        if not streaming:
            try:
                handler.wfile.write(reply.chunks[0] if reply.chunks else b"")
                handler.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                handler.close_connection = True
            return
        try:
            due = time.monotonic()
            for i, chunk in enumerate(reply.chunks):
                if reply.drop_after is not None and i >= reply.drop_after:
                    handler.close_connection = True
                    handler.connection.shutdown(2)  # abrupt: no terminating zero-length chunk
                    return
                handler.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                handler.wfile.flush()
                if reply.hold is not None and i + 1 == reply.hold_after:
                    reply.hold.wait(30)  # the test acts while the reply is mid-stream
                    due = time.monotonic()
                if reply.delay_s:  # paced on a schedule, so sleep overshoot does not slow the rate
                    due += reply.delay_s
                    time.sleep(max(due - time.monotonic(), 0.0))
            handler.wfile.write(b"0\r\n\r\n")
            handler.wfile.flush()
            if reply.close_after:
                # uvicorn closes a beat late: a client that reuses the kept-alive connection at
                # once has already sent its next request when the close arrives.
                handler.close_connection = True
                handler.connection.settimeout(5)
                try:
                    handler.connection.recv(1)
                except OSError:
                    pass
                handler.connection.shutdown(2)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True


def sse(data: Any, event: str | None = None) -> bytes:
    """One server-sent event frame."""
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def wire_tokens(body: dict[str, Any]) -> int:
    """The fakes' tokenizer: 4 characters a token (about what the real ones average on English
    and code) over every string of the prompt, plus 4 per message for the role markers."""
    prompt = [body.get("system"), body.get("messages"), body.get("tools")]
    return sum(len(s) for s in _strings(prompt)) // 4 + 4 * len(body.get("messages") or [])
