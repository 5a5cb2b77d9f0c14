"""`agentchat ask --via URL` (or `[gateway] url`): the turn goes to a running `agentchat serve`,
the warm path. No SDK is imported and no history is opened here: the gateway routes, retries,
fails over, prices and stores the turn; this process only reads the reply stream.

The reply is turned back into the engine's events, so the same writer prints it: stdout, stderr,
`--json`, `-u` and the exit codes are what `ask` gives without `--via`. A gateway's HTTP error
maps to the exit code of the error it stands for (gateway/errors.py).

A URL from `[gateway] url` is a preference, not an order: an `ask` using what the gateway does not
take (files, tools, -c ...) or finding no gateway listening runs the usual way. With `--via` both
are errors (exit 2 and 5).
"""

from __future__ import annotations

import http.client
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from agentchat.cli.common import err, run_answer
from agentchat.core import events as ev
from agentchat.core.errors import AgentchatError, ProviderNetworkError, UsageError
from agentchat.core.messages import Usage

if TYPE_CHECKING:
    from agentchat.cli.output import AnswerWriter
    from agentchat.cli.session import AskOptions
    from agentchat.config import Config

TIMEOUT_S = 600.0
# What a gateway turn cannot carry: (AskOptions field, the flag the user typed).
UNSUPPORTED = (
    ("files", "-f/--file"),
    ("tools", "-T/--tool"),
    ("allow_tools", "--allow-tool"),
    ("yes", "-y/--yes"),
    ("cont", "-c/--continue"),
    ("cid", "--cid"),
    ("resume", "--resume"),
    ("fallbacks", "--fallback"),
    ("max_cost", "--max-cost"),
    ("max_steps", "--max-steps"),
    ("thinking_budget", "--thinking-budget"),
    ("schema", "--schema"),
    ("compact", "--compact"),
)


class GatewayReplyError(AgentchatError):
    """The gateway refused or failed the turn; `exit_code` is that of the error it reported."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class _NoGateway(Exception):
    """Nothing listens at the URL (a configured gateway that is not running)."""


def run_via(config: Config, opts: AskOptions) -> int | None:
    """The exit code, or None when a configured (not --via) gateway cannot take this ask."""
    url = opts.via or config.gateway.url
    assert url is not None
    used = [flag for name, flag in UNSUPPORTED if getattr(opts, name, None) not in (None, False, [], "")]
    if used:
        if opts.via is None:
            return None
        raise UsageError(f"--via sends a plain turn to the gateway; it does not take {', '.join(used)}")
    if opts.text is None:
        raise UsageError("--via needs a prompt")
    from agentchat.cli.output import make_writer, stdout_is_terminal

    writer = make_writer(
        as_json=opts.as_json, hold_messages=False, show_usage=opts.usage, terminal=stdout_is_terminal()
    )
    writer.summary.max_tokens = opts.max_tokens

    def answer() -> int | None:
        try:
            return _ask(url, config.gateway.token, opts, writer)
        except _NoGateway:  # before any output: nothing for the writer to end
            if opts.via is None:
                return None
            raise ProviderNetworkError(
                f"no gateway answers at {url}: start one with `agentchat serve`"
            ) from None

    return run_answer(writer, opts.no_log, answer)


def _request(opts: AskOptions) -> dict[str, Any]:
    model = opts.model or "default"
    if opts.provider:
        model = f"{opts.provider}/{opts.model or ''}"
    messages = [{"role": "system", "content": opts.system}] if opts.system else []
    body: dict[str, Any] = {
        "model": model,
        "messages": [*messages, {"role": "user", "content": opts.text}],
        "stream": opts.stream,
    }
    if opts.stream:
        body["stream_options"] = {"include_usage": True}
    if opts.temperature is not None:
        body["temperature"] = opts.temperature
    if opts.max_tokens is not None:  # --max-tokens: the gateway holds the reply to it
        body["max_tokens"] = opts.max_tokens
    return body


def _connect(url: str) -> tuple[http.client.HTTPConnection, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--via takes an http:// or https:// URL, not {url!r}")
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    path = parts.path.rstrip("/")
    path = path[: -len("/v1")] if path.endswith("/v1") else path
    return kind(parts.hostname, parts.port, timeout=TIMEOUT_S), f"{path}/v1/chat/completions"


def _ask(url: str, token: str | None, opts: AskOptions, writer: AnswerWriter) -> int:
    conn, path = _connect(url)
    headers = {"content-type": "application/json", "accept": "text/event-stream, application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    if opts.no_log:
        headers["x-agentchat-no-log"] = "1"
    if opts.agent:
        headers["x-agentchat-agent"] = opts.agent
    try:
        conn.request("POST", path, body=json.dumps(_request(opts)).encode(), headers=headers)
        response = conn.getresponse()
    except ConnectionRefusedError:
        raise _NoGateway from None
    except (OSError, http.client.HTTPException) as exc:
        raise ProviderNetworkError(f"gateway at {url}: {exc}") from None
    try:
        if response.status != 200:
            raise _error(response.status, response.read())
        conv = response.getheader("x-agentchat-conversation-id")
        provider = response.getheader("x-agentchat-provider") or ""
        model = response.getheader("x-agentchat-model") or ""
        writer.turn_started(ev.TurnStarted(int(conv) if conv else 0, None, provider, model))
        writer.start_message(ev.AssistantStarted(0, provider, model))
        if opts.stream:
            extension = _stream(response, writer)
        else:
            extension = _whole(response, writer)
    except (OSError, http.client.HTTPException) as exc:
        raise ProviderNetworkError(f"the gateway's reply broke off: {exc}") from None
    finally:
        conn.close()
    return _finish(extension, writer, conv)


def _error(status: int, raw: bytes) -> GatewayReplyError:
    from agentchat.gateway.errors import exit_code_for

    try:
        message = json.loads(raw)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = f"the gateway answered HTTP {status}"
    return GatewayReplyError(str(message), exit_code_for(status))


def _stream(response: http.client.HTTPResponse, writer: AnswerWriter) -> dict[str, Any]:
    extension: dict[str, Any] = {}
    for raw in response:
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        chunk = json.loads(line[6:])
        if "error" in chunk:
            error = chunk["error"]
            raise _error(int(error.get("status") or 502), json.dumps(chunk).encode())
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("reasoning_content"):
                writer.thinking(delta["reasoning_content"])
            if delta.get("content"):
                writer.text(delta["content"])
        extension = chunk.get("agentchat") or extension
    return extension


def _whole(response: http.client.HTTPResponse, writer: AnswerWriter) -> dict[str, Any]:
    body = json.loads(response.read())
    message = body["choices"][0]["message"]
    if message.get("reasoning_content"):
        writer.thinking(message["reasoning_content"])
    if message.get("content"):
        writer.text(message["content"])
    extension: dict[str, Any] = body.get("agentchat") or {}
    return extension


def _finish(x: dict[str, Any], writer: AnswerWriter, conv: str | None) -> int:
    from agentchat.cli.ask import EXIT_EMPTY_REPLY

    usage = Usage(input_tokens=x.get("input_tokens"), output_tokens=x.get("output_tokens"))
    writer.summary.conversation_id = x.get("conversation_id") or (int(conv) if conv else None)
    writer.end_message(
        ev.AssistantFinished(
            x.get("message_id") or 0,
            x.get("provider") or writer.summary.provider or "",
            x.get("model") or writer.summary.model or "",
            x.get("status") or "complete",
            x.get("finish_reason"),
            usage,
            x.get("cost"),
            x.get("ttft_s"),
            x.get("total_s"),
        )
    )
    if not x.get("message_id"):
        writer.summary.message_id = None
    if x.get("context_tokens") is not None:  # the gateway measured it as a direct ask does
        writer.summary.context_tokens = x["context_tokens"]
        writer.summary.context_window = x.get("context_window")
    writer.finish()
    if failed := writer.output_failed():
        return failed
    if writer.summary.status == "empty":
        err(
            f"the model returned an empty reply (finish reason: {writer.summary.finish_reason or 'none given'})"
        )
        return EXIT_EMPTY_REPLY
    return 0
