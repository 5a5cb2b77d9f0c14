"""Our errors as HTTP statuses and each API's error body, and the statuses back as `ask`'s exit
codes (`ask --via`), so a failure means the same through the gateway as without it."""

from __future__ import annotations

import re

from agentchat.core.errors import (
    AgentchatError,
    AuthError,
    BadRequestError,
    BudgetError,
    ConfigError,
    ProviderError,
    ProviderNetworkError,
    RateLimitError,
    StreamInterrupted,
    UnavailableError,
    UnknownModelError,
    UsageError,
)
from agentchat.core.structured import EXIT_INVALID


class InvalidReply(AgentchatError):
    """The reply failed a request's response_format schema twice (`ask --schema`'s exit 7)."""


# status -> (OpenAI error type, Anthropic error type)
_TYPES = {
    400: ("invalid_request_error", "invalid_request_error"),
    401: ("authentication_error", "authentication_error"),
    404: ("invalid_request_error", "not_found_error"),
    422: ("invalid_request_error", "invalid_request_error"),
    429: ("rate_limit_error", "rate_limit_error"),
    500: ("server_error", "api_error"),
    502: ("server_error", "api_error"),
    503: ("server_error", "overloaded_error"),
    504: ("timeout", "api_error"),
}


def status_for(exc: BaseException) -> int:
    if isinstance(exc, InvalidReply):
        return 422
    if isinstance(exc, UnknownModelError):
        return 404
    if isinstance(exc, (UsageError, ConfigError, BadRequestError, BudgetError)):
        return 400
    if isinstance(exc, AuthError):
        return 401
    if isinstance(exc, RateLimitError):
        return 429
    if isinstance(exc, (ProviderNetworkError, StreamInterrupted)):
        return 504
    if isinstance(exc, UnavailableError):
        return 503
    if isinstance(exc, ProviderError):
        return 502
    return 500


# An absolute path in an error's text (the server's config file, its data directory): not inside a
# URL or a relative name such as openai/gpt-4o; its directories may hold spaces (Application
# Support); group 1 is its last part, the file name.
_PART = r"[^\s/'\"`,;()]+"
_LOCAL_PATH = re.compile(rf"(?<![\w:/.~-])/(?:{_PART}(?: {_PART})*/)+({_PART})")


def server_message(exc: BaseException) -> str:
    """The whole error, for the server's own log (stderr)."""
    if isinstance(exc, AgentchatError):
        return str(exc)
    return f"internal error: {type(exc).__name__}: {exc}"


def message_for(exc: BaseException) -> str:
    """The error as a (possibly remote) client reads it: a local path is cut to its file name, so
    the server's directories are not disclosed (its log keeps them: `server_message`)."""
    return _LOCAL_PATH.sub(r"\1", server_message(exc))


def openai_error(status: int, message: str) -> dict[str, object]:
    """OpenAI's shape; `status` is ours, so a mid-stream error event carries it too."""
    kind = _TYPES.get(status, _TYPES[500])[0]
    code = "model_not_found" if status == 404 else None
    return {"error": {"message": message, "type": kind, "param": None, "code": code, "status": status}}


def anthropic_error(status: int, message: str) -> dict[str, object]:
    kind = _TYPES.get(status, _TYPES[500])[1]
    return {"type": "error", "error": {"type": kind, "message": message}, "status": status}


def exit_code_for(status: int) -> int:
    """What `ask` exits with when the gateway answered `status`."""
    if status in (401, 403):
        return AuthError.exit_code
    if status in (429, 502, 503, 529):
        return ProviderError.exit_code
    if status == 504:
        return ProviderNetworkError.exit_code
    if status == 422:
        return EXIT_INVALID
    if 400 <= status < 500:
        return UsageError.exit_code
    return 1
