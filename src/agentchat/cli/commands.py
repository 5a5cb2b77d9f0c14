"""Small listing commands: models, agents, tools.

Model names come from a provider's listing and tool descriptions from MCP servers: listings are for
people, so their text is `clean`ed (no escape sequences) in a pipe too.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from agentchat.cli.common import err, guarded, load
from agentchat.core.text import clean


def register(app: typer.Typer) -> None:
    app.command("models")(models)
    app.command("agents")(agents)
    app.command("tools")(tools)


@guarded
def models(
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Ask every usable provider for its models now.")
    ] = False,
) -> int:
    """Per provider: configured and discovered models, and where each came from."""
    from agentchat.cli import state
    from agentchat.core.routing import DEFAULT_MODELS, Router
    from agentchat.providers import list_models

    config = load(state.config_path)
    router = Router(config, discover=list_models)

    async def refresh_all() -> None:
        for name in config.provider_names():
            settings = config.provider(name)
            if not router.usable(settings):
                continue
            try:
                await router.refresh(settings)
            except Exception as exc:  # one provider failing must not hide the others
                err(f"{name}: could not list models: {exc}")

    if refresh or not any(router.cache.models(n) for n in config.provider_names()):
        asyncio.run(refresh_all())
    for provider, rows in router.known_models().items():
        default = DEFAULT_MODELS.get(provider)
        if provider == "local":
            if not router.local_available():
                continue
            rows = rows or [(default or "smollm2", "embedded")]
        print(f"{clean(provider)}:")
        if not rows:
            hint = f" (default {default})" if default else ""
            print(f"  (none listed){hint}")
        for model, source in rows:
            print(clean(f"  {model:<40} {source}"))
    return 0


@guarded
def agents() -> int:
    """Named agents from the config (and the default agent)."""
    from agentchat.cli import state
    from agentchat.core.agents import load_agent

    config = load(state.config_path)
    for name in config.agent_names():
        agent = load_agent(config, None if name == "default" else name)
        model = agent.model or (f"{agent.provider} default" if agent.provider else "routing default")
        tools = agent.tools if agent.tools is not None else "none in ask, all in the TUI"
        system = (agent.system or "").replace("\n", " ")
        system = (system[:50] + "…") if len(system) > 50 else system
        print(clean(f"{name:<14} model={model}  tools={tools}  system={system or '-'}"))
    return 0


@guarded
def tools() -> int:
    """Every available tool with its source and approval policy (MCP servers are started to list theirs)."""
    from agentchat.cli import state

    config = load(state.config_path)
    rows, errors = asyncio.run(_tool_rows(config))
    for row in rows:
        summary = row.description.splitlines()[0] if row.description else ""
        print(clean(f"{row.name:<32} {row.source:<20} {row.policy:<6} {summary}"))
    for where, message in errors.items():
        err(f"{where}: {message}")
    return 0


async def _tool_rows(config):  # type: ignore[no-untyped-def]
    from agentchat.tools.approval import resolve_policies
    from agentchat.tools.mcp import MCPManager
    from agentchat.tools.registry import build_registry, describe_tools

    mcp = MCPManager.from_config(config)
    try:
        registry = build_registry(config, config.workspace, mcp=mcp)
        await registry.load()
        return describe_tools(registry, resolve_policies(config)), dict(registry.errors)
    finally:
        await mcp.aclose()
