"""A loopback Ollama server speaking `/api/chat` NDJSON, `/api/tags`, `/api/show` and `/api/version`.

Builders return a `Reply` in the streamed wire format (one JSON object per line, exactly one `\\n`
each, no blank lines, metrics on the final `done:true` line). When a request says `stream: false`
the server collapses a scripted stream into the single JSON object Ollama would send instead, so
the same builders serve both modes:

    with OllamaFake() as fake:
        fake.queue(text(["Hel", "lo"]), tool_calls([("get_weather", {"city": "Paris"})]))
        fake.queue(error(404, "model 'nope' not found"), midstream_error(["partial"], "boom"))
        fake.models = ["llama3.2:latest", "qwen3:8b"]   # what /api/tags lists

Pacing and breakage: `text(..., delay_s=0.01)`, `text(..., drop_after=3)` (or any `Reply` field via
`dataclasses.replace`). `fake.client_closed` is set when the client hung up on a stream early.
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.base import FakeServer, Recorded, Reply

MODEL = "llama3.2"
NDJSON = "application/x-ndjson"
CREATED_AT = "2025-07-07T20:22:19.184789Z"
VERSION = "0.12.6"
DEFAULT_MODELS = ("llama3.2:latest", "qwen3:8b")


def line(message: dict[str, Any], *, done: bool = False, model: str = MODEL, **extra: Any) -> bytes:
    """One NDJSON object in the server's field order, terminated by exactly one newline."""
    obj = {
        "model": model,
        "created_at": CREATED_AT,
        "message": {"role": "assistant", **message},
        "done": done,
    }
    obj.update(extra)
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


def final_line(
    *, prompt_eval_count: int | None, eval_count: int | None, done_reason: str, model: str = MODEL
) -> bytes:
    """The `done:true` line with the nanosecond metrics; a None count is left out, as Go omits zeros."""
    metrics: dict[str, Any] = {
        "done_reason": done_reason,
        "total_duration": 4883583458,
        "load_duration": 1334875,
    }
    if prompt_eval_count is not None:
        metrics |= {"prompt_eval_count": prompt_eval_count, "prompt_eval_duration": 342546000}
    if eval_count is not None:
        metrics |= {"eval_count": eval_count, "eval_duration": 4535599000}
    return line({"content": ""}, done=True, model=model, **metrics)


def text(
    chunks: list[str],
    *,
    thinking: list[str] | None = None,
    prompt_eval_count: int | None = 26,
    eval_count: int | None = 8,
    done_reason: str = "stop",
    delay_s: float = 0.0,
    drop_after: int | None = None,
) -> Reply:
    """A streamed answer: thinking fragments (with empty content, as Ollama sends them), then text."""
    lines = [line({"content": "", "thinking": t}) for t in thinking or []]
    lines += [line({"content": c}) for c in chunks]
    lines.append(
        final_line(prompt_eval_count=prompt_eval_count, eval_count=eval_count, done_reason=done_reason)
    )
    return Reply(chunks=lines, content_type=NDJSON, delay_s=delay_s, drop_after=drop_after)


def tool_calls(
    calls: list[tuple[str, Any]],
    *,
    chunks: list[str] | None = None,
    prompt_eval_count: int | None = 169,
    eval_count: int | None = 15,
) -> Reply:
    """Complete calls on one line, with the `id`/`index` a current server adds and `done_reason`
    "stop", which is what Ollama says even for tool calls.

    Ollama itself always sends the arguments as an object; any other value (a JSON string, perhaps
    broken, as an OpenAI-style Ollama-protocol server sends it; a list; None) is sent as given."""
    wire = [
        {"id": f"call_srv{i:04d}", "function": {"index": i, "name": name, "arguments": args}}
        for i, (name, args) in enumerate(calls)
    ]
    lines = [line({"content": c}) for c in chunks or []]
    lines.append(line({"content": "", "tool_calls": wire}))
    lines.append(final_line(prompt_eval_count=prompt_eval_count, eval_count=eval_count, done_reason="stop"))
    return Reply(chunks=lines, content_type=NDJSON)


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    """An HTTP error with Ollama's `{"error": "..."}` body."""
    return Reply(
        status=status,
        headers=headers or {},
        chunks=[json.dumps({"error": message}).encode()],
        content_type="application/json; charset=utf-8",
    )


def midstream_error(chunks_before: list[str], message: str) -> Reply:
    """Status 200, some text, then the `{"error": ...}` line Ollama ends a failed generation with."""
    lines = [line({"content": c}) for c in chunks_before]
    lines.append(json.dumps({"error": message}).encode() + b"\n")
    return Reply(chunks=lines, content_type=NDJSON)


def collapse(reply: Reply) -> Reply:
    """A scripted stream as the one JSON object Ollama sends for `stream: false`."""
    objs = [json.loads(chunk) for chunk in reply.chunks]
    failed = next((o["error"] for o in objs if "error" in o), None)
    if failed is not None:
        return error(500, failed)
    message: dict[str, Any] = {"role": "assistant", "content": ""}
    for obj in objs:
        part = obj["message"]
        message["content"] += part.get("content", "")
        if part.get("thinking"):
            message["thinking"] = message.get("thinking", "") + part["thinking"]
        message.setdefault("tool_calls", []).extend(part.get("tool_calls", []))
    if not message["tool_calls"]:
        del message["tool_calls"]
    return replace(
        reply, chunks=[json.dumps({**objs[-1], "message": message}).encode()], content_type="application/json"
    )


class OllamaFake(FakeServer):
    """`models` is what `/api/tags` lists; `/api/show` knows exactly those, and says what each can
    do from `capabilities` (by model name without its tag; default: completion and tools)."""

    def __init__(self) -> None:
        super().__init__()
        self.models: list[str] = list(DEFAULT_MODELS)
        self.capabilities: dict[str, list[str]] = {}
        self.client_closed = threading.Event()

    def is_chat(self, path: str) -> bool:
        return path == "/api/chat"

    def route(self, req: Recorded) -> Reply:
        if req.method == "POST" and self.is_chat(req.path):
            reply = self.next_reply()
            wants_stream = not (isinstance(req.body, dict) and req.body.get("stream") is False)
            if wants_stream or reply.content_type != NDJSON or reply.drop_after is not None:
                return reply
            return collapse(reply)
        if req.method == "GET" and req.path == "/api/tags":
            return Reply.json({"models": [_tag(name) for name in self.models]})
        if req.method == "GET" and req.path == "/api/version":
            return Reply.json({"version": VERSION})
        if req.method == "POST" and req.path == "/api/show":
            return self._show(req.body.get("model", "") if isinstance(req.body, dict) else "")
        return super().route(req)

    def _show(self, model: str) -> Reply:
        if model not in self.models and f"{model}:latest" not in self.models:
            return error(404, f"model '{model}' not found")
        family = model.split(":")[0]
        return Reply.json(
            {
                "modelfile": f'# Modelfile generated by "ollama show"\nFROM {model}\n',
                "parameters": "num_keep 24",
                "template": "{{ .Prompt }}",
                "details": _details(family),
                "model_info": {
                    "general.architecture": family,
                    f"{family}.context_length": self.windows.get(model, 8192),
                },
                "capabilities": self.capabilities.get(family, ["completion", "tools"]),
                "modified_at": "2025-05-04T17:37:44.706015396-07:00",
            }
        )

    def _send(self, handler: BaseHTTPRequestHandler, reply: Reply) -> None:  # type: ignore[override]
        """Also notes a stream the client hung up on (the base marks it by closing the connection)."""
        FakeServer._send(handler, reply)
        if reply.drop_after is None and getattr(handler, "close_connection", False):
            self.client_closed.set()


def _details(family: str) -> dict[str, Any]:
    return {
        "parent_model": "",
        "format": "gguf",
        "family": family,
        "families": [family],
        "parameter_size": "3.2B",
        "quantization_level": "Q4_K_M",
    }


def _tag(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "model": name,
        "modified_at": "2025-05-04T17:37:44.706015396-07:00",
        "size": 2019393189,
        "digest": "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
        "details": _details(name.split(":")[0]),
    }
