"""Agents: a named configuration of system prompt, model, tools and sampling that a turn starts from.

Both faces read agents here (the TUI's agent list, `ask -a NAME`), so an agent means the same
thing wherever it is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentchat.core.errors import ConfigError

if TYPE_CHECKING:
    from agentchat.config import Config
    from agentchat.core.messages import AttachmentPart, Message
    from agentchat.core.request import ToolSpec
    from agentchat.core.turn import TurnRequest

DEFAULT_AGENT = "default"  # needs no configuration; [agents.default] may still give it settings


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
    max_output_tokens: int | None = None  # the reply's length limit unless `--max-tokens` sets one


def load_agent(config: Config, name: str | None) -> Agent:
    """The named agent (None: the default one), every field checked; an unknown name is an error."""
    fields = config.agent(name or DEFAULT_AGENT)  # every field type-checked; None: not configured
    if fields is None and name is not None:
        known = ", ".join(sorted(config.section("agents"))) or "none configured"
        raise ConfigError(f"unknown agent {name!r} (agents: {known}); define it under [agents.{name}]")
    return Agent(name or DEFAULT_AGENT, **(fields or {}))


@dataclass(slots=True, kw_only=True)
class Choices:
    """What the user chose for one turn on top of the agent: `ask`'s flags, the TUI's pickers.
    None means "not chosen": the agent's setting (or the conversation's own) applies."""

    model: str | None = None
    provider: str | None = None
    system: str | None = None  # "" clears the conversation's system prompt
    temperature: float | None = None
    thinking_budget: int | None = None
    max_steps: int | None = None
    max_tokens: int | None = None
    tool_names: list[str] | None = None  # None: every tool the policies offer
    fallbacks: list[str] = field(default_factory=list)
    max_cost: float | None = None
    stream: bool = True
    # Files, directories, URLs and stdin read by core.intake.read_inputs (`ask -f`, the TUI's chips).
    attachments: list[AttachmentPart] = field(default_factory=list)
    schema: dict[str, Any] | None = None  # `ask --schema`: a JSON Schema the reply must match
    # The gateway's client: its history the store lacks, and the tools it runs itself (TurnRequest).
    history: list[Message] = field(default_factory=list)
    client_tools: list[ToolSpec] = field(default_factory=list)


def assemble_turn(
    config: Config,
    agent: Agent,
    prompt: str | None,
    *,
    conversation_id: int | None = None,
    parent_id: int | None = None,
    from_root: bool = False,
    choices: Choices | None = None,
) -> TurnRequest:
    """Agent + the user's choices + the conversation -> the engine's request. Both faces build every
    turn here, so a setting means the same in `ask` and in the TUI (a face-parity test holds them
    to the same request body).

    The system prompt: a chosen one wins; a continued conversation keeps the one it stored unless a
    named agent brings its own; a new conversation takes the agent's. Model and provider: chosen,
    else the agent's, else (the engine decides) the conversation's own, else the default.
    """
    from agentchat.core.turn import DEFAULT_MAX_STEPS, TurnRequest

    c = choices or Choices()
    default = agent.name == DEFAULT_AGENT
    if c.system is not None:
        system: str | None = c.system
    elif conversation_id is not None and default:
        system = None
    else:
        system = agent.system
    return TurnRequest(
        prompt=prompt,
        conversation_id=conversation_id,
        parent_id=parent_id,
        from_root=from_root,
        model=c.model or agent.model,
        provider=c.provider or agent.provider,
        system=system,
        agent=None if default else agent.name,
        temperature=c.temperature if c.temperature is not None else agent.temperature,
        max_tokens=c.max_tokens or agent.max_output_tokens,
        max_steps=c.max_steps or agent.max_steps or config.max_steps or DEFAULT_MAX_STEPS,
        stream=c.stream,
        fallbacks=list(c.fallbacks),
        tool_names=c.tool_names,
        max_cost=c.max_cost,
        thinking_budget=c.thinking_budget or agent.thinking_budget,
        attachments=list(c.attachments),
        schema=c.schema,
        history=list(c.history),
        client_tools=list(c.client_tools),
    )
