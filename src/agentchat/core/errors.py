"""Neutral error classes: adapters translate SDK exceptions into these, faces map them to exit codes."""

from __future__ import annotations


class AgentchatError(Exception):
    """Base class; `exit_code` is what `agentchat ask` exits with."""

    exit_code = 1


class ConfigError(AgentchatError):
    exit_code = 2


class UsageError(AgentchatError):
    exit_code = 2


class UnknownModelError(AgentchatError):
    exit_code = 2


class BudgetError(AgentchatError):
    """A spending limit (monthly budget or --max-cost) would be exceeded; nothing was sent."""

    exit_code = 2


class StoreError(AgentchatError):
    """The history database is corrupt, locked past the timeout, or unwritable."""

    exit_code = 1


class ProviderError(AgentchatError):
    """A failure reported by or on the way to a provider.

    `retryable` says whether the engine may try again; `retry_after` is the server's wish in seconds.
    """

    exit_code = 4
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.status = status
        self.retry_after = retry_after


class AuthError(ProviderError):
    """Missing or rejected key (401/403)."""

    exit_code = 3


class BadRequestError(ProviderError):
    """The provider refused the request itself (400, 404 unknown model, 422...)."""

    exit_code = 2


class RateLimitError(ProviderError):
    retryable = True


class UnavailableError(ProviderError):
    """408, 409, 5xx, Anthropic 529: the provider is down or overloaded."""

    retryable = True


class ProviderNetworkError(ProviderError):
    """Connection refused, DNS failure, timeout."""

    exit_code = 5
    retryable = True


class NotListening(ProviderNetworkError):
    """Connection refused on this machine: a local server (Ollama, llama.cpp) is not running.
    Retrying within seconds cannot start it, so the user hears at once instead of after backoff."""

    retryable = False


class StreamInterrupted(ProviderError):
    """The stream broke after it had started; never retried silently (the partial is kept)."""

    exit_code = 5


def error_for_status(
    status: int, message: str, *, provider: str | None = None, retry_after: float | None = None
) -> ProviderError:
    """One mapping from HTTP status to error class, shared by every adapter."""
    if status in (401, 403):
        cls: type[ProviderError] = AuthError
    elif status == 429:
        cls = RateLimitError
    elif status in (408, 409) or status >= 500:
        cls = UnavailableError
    elif 400 <= status < 500:
        cls = BadRequestError
    else:
        cls = ProviderError
    return cls(message, provider=provider, status=status, retry_after=retry_after)


def parse_retry_after(headers: object) -> float | None:
    """Seconds to wait from `retry-after-ms` or `retry-after` (seconds; HTTP dates are ignored)."""
    get = getattr(headers, "get", None)
    if get is None:
        return None
    ms = get("retry-after-ms")
    if ms:
        try:
            return max(float(ms) / 1000.0, 0.0)
        except ValueError:
            pass
    secs = get("retry-after")
    if secs:
        try:
            return max(float(secs), 0.0)
        except ValueError:
            return None
    return None


def redact(text: str, *secrets: str | None) -> str:
    """Remove keys from text that may be shown or stored (server messages sometimes echo them).

    A key also appears stripped, or escaped as an HTTP library quotes a header it refused
    (`b'Bearer sk-x\\r'`): every form goes, longest first so no escaped tail is left behind.
    """
    forms: set[str] = set()
    for secret in filter(None, secrets):
        forms |= {secret, secret.strip(), repr(secret)[1:-1], repr(secret.encode())[2:-1]}
    for form in sorted(forms, key=len, reverse=True):
        if len(form) >= 4:
            text = text.replace(form, "***")
    return text
