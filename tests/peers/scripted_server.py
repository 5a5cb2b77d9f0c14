"""A scripted OpenAI-compatible server in its own process, for real peers to talk to.

A peer under test (a LiteLLM proxy, llama.cpp's server replaying a turn) is another process that
must reach the model over real HTTP, so the scripted model runs as one too: `OpenAIFake`, started
by ``python -m tests.peers.scripted_server [--port N]``. A test scripts it with the fake's own
reply builders and reads back what reached it through a control endpoint (``/_control/…``)::

    from tests.fakes.openai_fake import text, tool_calls
    from tests.peers.scripted_server import scripted_server

    with scripted_server() as backend:               # backend.base_url ends in /v1
        backend.queue(tool_calls([("call_1", "now", {})]), text(["Done."]))
        ...                                          # point the peer at backend.base_url
        body = backend.chat_requests()[1].body       # what the peer sent on the second turn

Replies cross the process boundary as JSON (`Reply` and `ChatReply`, chunks base64), so every
builder of `tests.fakes.openai_fake` works unchanged, including errors, pacing and dropped streams.
Control requests are not recorded. The server exits when its stdin closes, so a killed test
process leaves no server behind.
"""

from __future__ import annotations

import argparse
import base64
import json
import select
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tests.fakes.base import Recorded, Reply
from tests.fakes.openai_fake import ChatReply, OpenAIFake

REPO = Path(__file__).resolve().parents[2]
CONTROL = "/_control"
READY = "scripted_server listening on "
CHAT_PATH = "/v1/chat/completions"
_KINDS: dict[str, type[Reply]] = {"Reply": Reply, "ChatReply": ChatReply}


# --- the wire form of a scripted reply -----------------------------------------------------------


def reply_to_json(reply: Reply) -> dict[str, Any]:
    """A `Reply` (or `ChatReply`) as JSON; chunks are bytes, so they travel base64-encoded."""
    kind = type(reply).__name__
    if kind not in _KINDS:
        raise TypeError(f"cannot send a {kind} to the scripted server (only {', '.join(_KINDS)})")
    data = asdict(reply)
    data["chunks"] = [base64.b64encode(chunk).decode() for chunk in reply.chunks]
    return {"kind": kind, "fields": data}


def reply_from_json(data: dict[str, Any]) -> Reply:
    fields = dict(data["fields"])
    fields["chunks"] = [base64.b64decode(chunk) for chunk in fields["chunks"]]
    return _KINDS[data["kind"]](**fields)


# --- the server process --------------------------------------------------------------------------


class ControlledOpenAIFake(OpenAIFake):
    """`OpenAIFake` plus the control endpoint another process scripts it through:

    - ``POST /_control/queue`` — a JSON list of `reply_to_json` objects, queued in order;
    - ``GET /_control/requests`` — every request recorded so far (control requests excluded);
    - ``GET /_control/pending`` — how many queued replies are still unused;
    - ``POST /_control/models`` — a JSON list: what ``GET /v1/models`` lists;
    - ``POST /_control/reset`` — forget queued replies and recorded requests.
    """

    def route(self, req: Recorded) -> Reply:
        if not req.path.startswith(CONTROL + "/"):
            return super().route(req)
        with self._lock:
            self.requests.remove(req)  # the control channel is not traffic under test
        action = req.path[len(CONTROL) + 1 :].split("?")[0]
        if req.method == "POST" and action == "queue":
            self.queue(*(reply_from_json(item) for item in req.body or []))
            return Reply.json({"queued": len(req.body or [])})
        if req.method == "GET" and action == "requests":
            with self._lock:
                return Reply.json([asdict(r) for r in self.requests])
        if req.method == "GET" and action == "pending":
            with self._lock:
                return Reply.json({"pending": len(self.replies)})
        if req.method == "POST" and action == "models":
            self.models = list(req.body or [])
            return Reply.json({"models": self.models})
        if req.method == "POST" and action == "reset":
            with self._lock:
                self.replies.clear()
                self.requests.clear()
            return Reply.json({"reset": True})
        return Reply.json({"error": f"no control action {req.method} {action}"}, status=404)


def main(argv: list[str] | None = None) -> None:
    """Serve until stdin closes (the parent ended, however it ended) or SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0 (default): any free port")
    args = parser.parse_args(argv)
    server = ControlledOpenAIFake(args.port).start()
    print(f"{READY}{server.port}", flush=True)
    try:
        sys.stdin.buffer.read()
    finally:
        server.stop()


# --- the test side -------------------------------------------------------------------------------


class ScriptedServerError(RuntimeError):
    """The scripted server did not start, or its control endpoint failed."""


class ScriptedServer:
    """The test's handle on a running scripted server process."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """What an OpenAI client (or a peer's `api_base`) points at."""
        return f"{self.root}/v1"

    def queue(self, *replies: Reply) -> None:
        """Queue replies (built with `tests.fakes.openai_fake`'s builders), answered in order."""
        self._control("POST", "queue", [reply_to_json(r) for r in replies])

    def requests(self) -> list[Recorded]:
        """Every request that reached the server, oldest first."""
        return [Recorded(**r) for r in self._control("GET", "requests")]

    def chat_requests(self) -> list[Recorded]:
        """The ``POST /v1/chat/completions`` requests, oldest first."""
        return [r for r in self.requests() if r.method == "POST" and r.path.split("?")[0] == CHAT_PATH]

    def pending(self) -> int:
        """Queued replies not used yet (0 after a test means nothing was retried or skipped)."""
        return int(self._control("GET", "pending")["pending"])

    def set_models(self, models: list[str]) -> None:
        self._control("POST", "models", models)

    def reset(self) -> None:
        """Forget queued replies and recorded requests (between tests sharing one server)."""
        self._control("POST", "reset", None)

    def _control(self, method: str, action: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            f"{self.root}{CONTROL}/{action}",
            data=data if method == "POST" else None,
            method=method,
            headers={"content-type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read())
        except OSError as exc:
            raise ScriptedServerError(
                f"scripted server control {action} failed: {exc}{self._log_tail()}"
            ) from exc

    def _log_tail(self) -> str:
        text = self.log.read_text(errors="replace").strip() if self.log.exists() else ""
        return f"\n--- scripted server log (tail) ---\n{text[-2000:]}" if text else ""

    def stop(self) -> None:
        """Close its stdin (it exits on EOF); terminate, then kill, if it lingers."""
        if self.process.poll() is None:
            if self.process.stdin:
                self.process.stdin.close()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.terminate()
                try:
                    self.process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()


def start(port: int = 0, *, timeout_s: float = 15.0, log: Path | None = None) -> ScriptedServer:
    """Start the server process and wait for the line that says it listens (no sleep-polling)."""
    log = log or Path(tempfile.mkstemp(prefix="scripted_server.", suffix=".log")[1])
    with log.open("ab") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.peers.scripted_server", "--port", str(port)],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
        )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout_s)
    line = process.stdout.readline().decode(errors="replace") if ready else ""
    if not line.startswith(READY):
        server = ScriptedServer(process, 0, log)
        server.stop()
        why = "exited" if process.poll() is not None else f"did not start within {timeout_s:g} s"
        raise ScriptedServerError(f"scripted server {why}: {line.strip()!r}{server._log_tail()}")
    return ScriptedServer(process, int(line[len(READY) :]), log)


@contextmanager
def scripted_server(port: int = 0, *, timeout_s: float = 15.0) -> Iterator[ScriptedServer]:
    """A scripted server for the duration of the block; always stopped."""
    server = start(port, timeout_s=timeout_s)
    try:
        yield server
    finally:
        server.stop()
        server.log.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
