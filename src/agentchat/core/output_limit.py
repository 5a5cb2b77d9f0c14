"""A reply's length limit: what the user asked for (`--max-tokens`, an agent's `max_output_tokens`)
held to what the model can write, and how a reply cut by the limit is told.

The model's own limit comes from its capabilities (the shipped table, `[models."MODEL"]
max_output_tokens`): a request above it would be refused by the API, so it is lowered, with a
notice. A limit set in the config is also the default when nobody asked for one; the shipped table
is not, since asking every reply for a model's whole output (64,000 tokens) only inflates cost
estimates and budget holds. Without either, each provider keeps its own default (Anthropic's
adapter 4,096, the embedded model 1,024, the others the model's).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from agentchat.core.capabilities import aliases, model_overrides

if TYPE_CHECKING:
    from agentchat.config import Config
    from agentchat.core.capabilities import Capabilities
    from agentchat.core.request import ChatRequest

LENGTH = "length"  # the neutral finish reason of a reply cut by its limit, from every provider


def configured_limit(config: Config, model: str) -> int | None:
    """`[models."MODEL"] max_output_tokens` (checked where capabilities are read), or None."""
    overrides = model_overrides(config)
    name = next((n for n in aliases(model) if n in overrides), None)
    table = overrides.get(name) if name else None
    value = table.get("max_output_tokens") if isinstance(table, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def limit_output(request: ChatRequest, caps: Capabilities | None, config: Config) -> str | None:
    """Set `request.max_tokens` within the model's limit; a notice when the asked-for one was lowered."""
    configured = configured_limit(config, request.model)
    if request.max_tokens is None:
        request.max_tokens = configured
        return None
    if caps is None or caps.max_output_tokens is None or request.max_tokens <= caps.max_output_tokens:
        return None
    asked, cap = request.max_tokens, caps.max_output_tokens
    request.max_tokens = cap
    return (
        f"max tokens {asked:,} is above what {request.model} can write ({cap:,}, {caps.source}); "
        f"asking for {cap:,}"
    )


# The limit an adapter sends itself when the request has none (the Messages API requires one; the
# embedded model would otherwise loop on), unless `[providers.X] max_tokens` sets another.
ADAPTER_DEFAULT_MAX_TOKENS = {"anthropic": 4096, "local": 1024}


def applied_limit(max_tokens: int | None, provider_type: str, extra: Mapping[str, Any]) -> int | None:
    """The limit a reply is held to: the request's, else the adapter's own (`[providers.X]
    max_tokens`, else its default above), else None: the model's own, which the API does not tell.
    The adapters send what this returns, and `ask` names it when a reply is cut."""
    if max_tokens is not None:
        return max_tokens
    default = ADAPTER_DEFAULT_MAX_TOKENS.get(provider_type)
    return None if default is None else int(extra.get("max_tokens") or default)


def cut_notice(limit: int | None) -> str:
    """What `ask` says on stderr when a reply stopped at its output limit (`limit` tokens, when known)."""
    size = f" ({limit:,} tokens)" if limit is not None else ""
    return f"reply cut at the output limit{size}; raise it with --max-tokens"
