"""The Provider protocol every adapter implements, and the wire helpers the adapters share.

The request, tool and settings types they receive are neutral and live in core/request.py."""

from __future__ import annotations

import ast
import ipaddress
import json
import re
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, Protocol

from agentchat.core.errors import AuthError, NotListening, ProviderNetworkError, redact
from agentchat.core.events import ProviderEvent
from agentchat.core.request import ChatRequest, ProviderSettings, ToolSpec

CONNECT_TIMEOUT_S = 10.0  # how long any adapter waits to connect; the read timeout is the config's
DETAIL_CHARS = 300  # the most of a server's own error text one error line carries


class Provider(Protocol):
    settings: ProviderSettings

    def stream(self, request: ChatRequest) -> AsyncGenerator[ProviderEvent, None]:
        """Yield neutral events; raise `agentchat.core.errors.ProviderError` subclasses on failure.

        Errors before the first event must be raised as their class (AuthError, RateLimitError...);
        a break after events were yielded is StreamInterrupted.
        """
        ...

    async def list_models(self) -> list[str]: ...

    async def aclose(self) -> None: ...


# --- wire helpers shared by the adapters whose formats agree (OpenAI-style function tools) ---------


def function_tools(tools: list[ToolSpec]) -> list[dict[str, Any]]:
    """Tools in the `{"type": "function", "function": {...}}` shape OpenAI and Ollama share."""
    return [
        {
            "type": "function",
            "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
        }
        for t in tools
    ]


def parse_arguments(text: str) -> dict[str, Any]:
    """Tool arguments from their JSON text; invalid JSON is kept as `_raw` so the tool layer can
    tell the model what went wrong (and the turn goes on) instead of the turn failing."""
    try:
        value = json.loads(text) if text.strip() else {}
    except ValueError:
        return {"_raw": text}
    return value if isinstance(value, dict) else {"_raw": text}


def flagged_result_text(content: str, is_error: bool) -> str:
    """For formats with no error flag on tool results: the text itself must say it failed."""
    if is_error and not content.lstrip().lower().startswith("error"):
        return f"Error: {content}"
    return content


def tool_finish(reason: str | None, had_tool_calls: bool) -> str | None:
    """Servers (Ollama, some OpenAI-compatible ones) end a tool-calling turn with "stop" or nothing;
    the engine needs "tool_calls" to run the loop."""
    if reason == "function_call" or (had_tool_calls and reason in (None, "stop")):
        return "tool_calls"
    return reason


def rate_limit_hook(provider: str) -> Callable[[Any], Awaitable[None]]:
    """An HTTP response hook that reads the provider's rate-limit headers (x-ratelimit-*,
    anthropic-ratelimit-*) into its client-side limiter, so the next request waits for the reset."""
    from agentchat.core.ratelimit import observe_rate_headers

    async def hook(response: Any) -> None:
        observe_rate_headers(provider, response.headers)

    return hook


# --- error text shared by the adapters --------------------------------------------------------


def error_line(settings: ProviderSettings, text: str, limit: int | None = None) -> str:
    """One readable line, starting with the provider name, with the key removed (before any cut,
    so a truncated key cannot slip through)."""
    line = redact(" ".join(text.split()), settings.api_key)
    return f"{settings.name}: {line[:limit] if limit else line}"


def sampling_hint(status: int, detail: str) -> str:
    """Some models refuse a sampling parameter (Anthropic's newest, OpenAI's reasoning models):
    the error line says which setting to drop, since the user may not know it was sent."""
    if 400 <= status < 500 and "temperature" in detail.lower():
        return " (this model does not accept a temperature: leave out -t/--temperature or the agent's temperature)"
    return ""


_VALIDATION = re.compile(r"^\s*(\d+) validation errors?\b", re.IGNORECASE)
_TRACEBACK = re.compile(r"\n\s*(?:Traceback \(most recent call last\)|File \")")


def is_validation_failure(text: str) -> bool:
    """A request a server's schema rejected (pydantic's "N validation errors", which llama.cpp's
    server sends as HTTP 500): sending it again gives the same answer, so it is never retried."""
    return _VALIDATION.match(text) is not None


def server_detail(text: str) -> str:
    """A server's error text as one readable line of at most DETAIL_CHARS: a pydantic validation
    dump (about 2 KB from llama.cpp's server) becomes its most telling entry, and a Python
    traceback appended to the message is dropped."""
    found = _VALIDATION.match(text)
    if found:
        entries = []
        for line in text.splitlines()[1:]:
            try:
                entry = ast.literal_eval(line.strip())
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                continue
            if isinstance(entry, dict) and "msg" in entry:
                entries.append(entry)
        if entries:
            # Union arms the value was never meant for fail with literal_error/missing; the real
            # problem is the other kind.
            telling = next(
                (e for e in entries if e.get("type") not in ("literal_error", "missing")), entries[0]
            )
            text = f"invalid request: {_location(telling.get('loc', ()))}: {telling['msg']}"
            count = int(found.group(1))
            if count > 1:
                text += f" (and {count - 1} more validation errors)"
    text = " ".join(_TRACEBACK.split(text, maxsplit=1)[0].split())
    return text if len(text) <= DETAIL_CHARS else text[: DETAIL_CHARS - 1] + "…"


def _location(loc: object) -> str:
    """('body', 'messages', 1, 'ChatCompletionRequestAssistantMessage', 'content') -> messages[1].content"""
    out = ""
    for step in loc if isinstance(loc, tuple | list) else ():
        if isinstance(step, int):
            out += f"[{step}]"
        elif isinstance(step, str) and step != "body" and not step[:1].isupper():
            out += f".{step}" if out else step
    return out or "request"


def network_error(
    settings: ProviderSettings, text: str, exc: BaseException, url: str | None
) -> ProviderNetworkError:
    """A transport failure as a network error; a refused connection to this machine is NotListening,
    which the engine does not retry (Ollama or llama.cpp's server is simply not running)."""
    cls = NotListening if _refused(exc) and is_loopback(url) else ProviderNetworkError
    return cls(error_line(settings, text), provider=settings.name)


def _refused(exc: BaseException | None) -> bool:
    seen = 0
    while exc is not None and seen < 20:  # httpx wraps the OSError three levels down
        if isinstance(exc, ConnectionRefusedError):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def is_loopback(url: str | None) -> bool:
    from urllib.parse import urlsplit

    text = url or ""
    host = urlsplit(text if "://" in text else f"http://{text}").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def key_hint(settings: ProviderSettings) -> str:
    return settings.key_hint or f"providers.{settings.name}.api_key"


_COMMAND_KEYS: dict[str, str] = {}  # api_key_cmd -> its key, for this process only
KEY_COMMAND_TIMEOUT_S = 60.0  # a password manager may wait for a passphrase


def resolve_key(settings: ProviderSettings) -> str | None:
    """The API key, running `api_key_cmd` the first time any provider needs it (`pass show
    openai`, `op read ...`). Its output is never stored, logged or shown: only its first line is
    used, and a failure names the provider and the command's own error line (exit 3)."""
    if settings.api_key or not settings.key_command:
        return settings.api_key
    command = settings.key_command
    key = _COMMAND_KEYS.get(command)
    if key is None:
        key = _COMMAND_KEYS[command] = _run_key_command(settings.name, command)
    settings.api_key = key  # so error lines redact it too
    return key


def _run_key_command(provider: str, command: str) -> str:
    import subprocess

    def failed(why: str) -> AuthError:
        return AuthError(f"{provider}: api_key_cmd {command!r} failed: {why}", provider=provider)

    try:
        done = subprocess.run(
            command, shell=True, stdin=subprocess.DEVNULL, capture_output=True, timeout=KEY_COMMAND_TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        raise failed(f"no answer within {KEY_COMMAND_TIMEOUT_S:g} s") from None
    except OSError as exc:
        raise failed(exc.strerror or str(exc)) from None
    lines = done.stdout.decode("utf-8", "replace").splitlines()
    key = lines[0].strip() if lines else ""
    if done.returncode != 0 or not key:
        errors = [
            line.strip() for line in done.stderr.decode("utf-8", "replace").splitlines() if line.strip()
        ]
        why = f"exit {done.returncode}" if done.returncode else "it printed no key"
        raise failed(f"{why}{': ' + errors[-1][:200] if errors else ''}")
    if any(ch.isspace() or not ch.isprintable() for ch in key):
        raise failed("its first line holds whitespace or control characters, not a key")
    return key


def require_key(settings: ProviderSettings) -> None:
    """A provider that needs a key fails before sending anything, naming where to set one."""
    if not resolve_key(settings):
        raise AuthError(f"no API key for {settings.name}: set {key_hint(settings)}", provider=settings.name)


def auth_message(settings: ProviderSettings, status: int, detail: str) -> str:
    what = "the API key was rejected" if settings.api_key else "the server requires an API key"
    return error_line(settings, f"{what} (HTTP {status}: {detail}); set {key_hint(settings)}")
