"""The tools of a session, built the same way for either face: registry, MCP servers and the
approval gate. The face passes only what differs: how it asks the user (its approver)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from agentchat.tools.approval import ApprovalGate, Approver, resolve_policies
from agentchat.tools.mcp import MCPManager
from agentchat.tools.registry import ToolRegistry, build_registry

if TYPE_CHECKING:
    from agentchat.config import Config


def open_tools(
    config: Config, *, workspace: Path | None = None, plugins: bool = True
) -> tuple[ToolRegistry, MCPManager]:
    """Built-ins now; plugins and MCP servers join on `await registry.load()` (servers start
    then, never here). Close the manager when the session ends."""
    mcp = MCPManager.from_config(config)
    return build_registry(config, workspace or config.workspace, mcp=mcp, plugins=plugins), mcp


def approval_gate(
    config: Config,
    approver: Approver,
    *,
    agent_tools: list[str] | dict[str, str] | None = None,
    allow_tools: Iterable[str] = (),
    yes: bool = False,
) -> ApprovalGate:
    """The gate for one conversation: the config's and the agent's policies, `--allow-tool` and
    `--yes`, and the face's way of asking."""
    policies = resolve_policies(config, agent_tools=agent_tools, allow_tools=allow_tools, yes=yes)
    return ApprovalGate(policies, approver)
