"""What a model can take and how much: context window, max output, image input, PDF input.

The single place for these numbers (the context-window work reads them here too). Sources, in the
order they are overridden: a model's provider (the shipped `data/models.json` for OpenAI's and
Anthropic's own endpoints, Ollama's `/api/show` for Ollama models), then `[models."MODEL"]` in the
config. A model nobody knows is text-only with unknown limits: sending an image to a model that
cannot see fails before anything is sent, never as a provider's 400 after the prompt is stored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from agentchat.core.errors import ConfigError

if TYPE_CHECKING:
    from agentchat.config import Config

KEYS = ("context_window", "max_output_tokens", "vision", "pdf")  # exactly what [models."MODEL"] takes
_DATED = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{8})$")


@dataclass(frozen=True, slots=True)
class Capabilities:
    """None for a limit means unknown. `source` says where the answer came from, for error lines."""

    context_window: int | None = None
    max_output_tokens: int | None = None
    vision: bool = False
    pdf: bool = False
    source: str = "unknown model: text only"


TEXT_ONLY = Capabilities()


@cache
def capability_table() -> dict[str, Capabilities]:
    """The shipped table, read once on first use (importing the core stays cheap)."""
    raw = json.loads(resources.files("agentchat").joinpath("data/models.json").read_text("utf-8"))
    return {
        model: Capabilities(**{k: entry[k] for k in KEYS if k in entry}, source="agentchat's model table")
        for model, entry in raw["models"].items()
    }


def aliases(model: str) -> list[str]:
    """The names a model id may be listed under: itself, then without a date snapshot suffix
    (claude-sonnet-4-5-20250929, gpt-4o-2024-08-06), `-latest` or Ollama's `:latest` tag."""
    names = [model]
    for stripped in (_DATED.sub("", model), model.removesuffix("-latest"), model.removesuffix(":latest")):
        if stripped not in names:
            names.append(stripped)
    return names


def table_capabilities(model: str) -> Capabilities | None:
    """The shipped entry for one of OpenAI's or Anthropic's models; None when it is not listed."""
    table = capability_table()
    return next((table[name] for name in aliases(model) if name in table), None)


def model_overrides(config: Config) -> dict[str, Any]:
    """`[models."MODEL"]` tables: the only config read here (kept in one place to move easily)."""
    return config.section("models")


def _checked(model: str, key: str, value: Any) -> int | bool:
    where = f'models."{model}".{key}'
    if key in ("vision", "pdf"):
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false")
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where} must be a positive whole number of tokens")
    return value


def apply_overrides(model: str, base: Capabilities, overrides: dict[str, Any]) -> Capabilities:
    """Config beats the provider and the table, key by key, so one fact can be corrected alone."""
    name = next((n for n in aliases(model) if n in overrides), None)
    if name is None:
        return base
    table = overrides[name]
    if not isinstance(table, dict):
        raise ConfigError(f'[models."{name}"] must be a table with {", ".join(KEYS)}')
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ConfigError(f'models."{name}": unknown key(s) {", ".join(unknown)} (known: {", ".join(KEYS)})')
    values = {k: _checked(name, k, v) for k, v in table.items()}
    return replace(base, **values, source=f'[models."{name}"] in the config')  # type: ignore[arg-type]


async def capabilities_for(provider: Any, model: str, overrides: dict[str, Any]) -> Capabilities:
    """What `model` on `provider` takes: the provider's answer (its `capabilities(model)`, if it
    has one and knows the model), else text-only, then the config's overrides."""
    discover = getattr(provider, "capabilities", None)
    found = await discover(model) if discover is not None else None
    return apply_overrides(model, found or TEXT_ONLY, overrides)


def ollama_capabilities(show: dict[str, Any]) -> Capabilities:
    """From an Ollama `/api/show` body: `capabilities` lists "vision" for models that see; the
    context length is the architecture's `<arch>.context_length` in `model_info`. Ollama takes no PDFs."""
    caps = show.get("capabilities") or []
    info = show.get("model_info") or {}
    window = next(
        (v for k, v in info.items() if k.endswith(".context_length") and isinstance(v, int) and v > 0), None
    )
    return Capabilities(
        context_window=window, vision="vision" in caps, pdf=False, source="Ollama (/api/show)"
    )


def describe(caps: Capabilities) -> str:
    """A short account of what a model takes, for error lines."""
    took = [name for name in ("vision", "pdf") if getattr(caps, name)]
    return f"takes {' and '.join(took) if took else 'text only'} ({caps.source})"
