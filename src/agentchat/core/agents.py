"""Agents: a named configuration of system prompt, model, tools and sampling that a turn starts from.

Both faces read agents here (the TUI's agent list, `ask -a NAME`), so an agent means the same
thing wherever it is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from agentchat.core.errors import ConfigError

if TYPE_CHECKING:
    from agentchat.config import Config


@dataclass(slots=True)
class Agent:
    """A named configuration of system prompt, model and tools; `default` needs no configuration."""

    name: str
    system: str | None = None
    model: str | None = None
    provider: str | None = None
    tools: list[str] | dict[str, str] | None = None
    temperature: float | None = None
    max_steps: int | None = None
    thinking_budget: int | None = None


def load_agent(config: Config, name: str | None) -> Agent:
    fields = config.agent(name or "default")  # every field type-checked; None: not configured
    if fields is None and name is not None:
        known = ", ".join(sorted(config.section("agents"))) or "none configured"
        raise ConfigError(f"unknown agent {name!r} (agents: {known}); define it under [agents.{name}]")
    return Agent(name or "default", **(fields or {}))
