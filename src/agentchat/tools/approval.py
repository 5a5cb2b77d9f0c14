"""Which tool calls run without asking, which need the user's yes, and which never run.

A tool's policy is resolved from, lowest to highest precedence: the tool's own default, the config
file's `[tools.policies]` table, the agent's `tools` setting, `--allow-tool NAME`, then `--yes`
(allow everything that did not resolve to "deny"). The face supplies the question itself as an
async callback, so this module knows no terminal and no widget.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from agentchat.config.sections import policy_table
from agentchat.core.messages import ToolCallPart, ToolResultPart
from agentchat.core.request import Policy
from agentchat.tools.base import Tool

if TYPE_CHECKING:
    from agentchat.config import Config

Decision = Literal["allow_once", "allow_always", "deny"]
Approver = Callable[[ToolCallPart, Tool], Awaitable[Decision]]


@dataclass(slots=True)
class ToolPolicies:
    """The resolved settings; `policy(tool)` applies the precedence chain.

    `agent` is None when the agent does not restrict tools; otherwise the tools it names (a list
    keeps their policies, a table sets them) and every other tool resolves to "deny".
    """

    config: dict[str, Policy] = field(default_factory=dict)
    agent: dict[str, Policy | None] | None = None
    allow: frozenset[str] = frozenset()
    yes: bool = False

    def policy(self, tool: Tool) -> Policy:
        policy = self.config.get(tool.name, tool.default_policy)
        if self.agent is not None:
            policy = (self.agent[tool.name] or policy) if tool.name in self.agent else "deny"
        if tool.name in self.allow or (self.yes and policy != "deny"):
            return "allow"
        return policy

    def offered(self, tools: Iterable[Tool]) -> list[str]:
        """Names to offer the model: a tool that can never run is not worth the tokens."""
        return [t.name for t in tools if self.policy(t) != "deny"]


def resolve_policies(
    config: Config | None,
    *,
    agent_tools: list[str] | dict[str, str] | None = None,
    allow_tools: Iterable[str] = (),
    yes: bool = False,
) -> ToolPolicies:
    """Validate and combine the sources; a bad value is a ConfigError that names where it is."""
    config_table = config.tools.policies if config else {}
    agent: dict[str, Policy | None] | None = None
    if isinstance(agent_tools, list):
        agent = {str(name): None for name in agent_tools}
    elif agent_tools is not None:
        agent = dict(policy_table(agent_tools, "the agent's tools"))
    return ToolPolicies(config_table, agent, frozenset(allow_tools), yes)


async def deny_all(call: ToolCallPart, tool: Tool) -> Decision:
    """The approver when nobody can be asked (no terminal): every "ask" becomes a denial."""
    return "deny"


def denied_result(call: ToolCallPart) -> ToolResultPart:
    """What the model reads when a call was not allowed, so it can carry on without the tool."""
    return ToolResultPart(
        call.id, f"error: {call.name} was not run: the user did not allow it", is_error=True, name=call.name
    )


class ApprovalGate:
    """Applies the policies for one conversation and remembers "allow always" answers for its lifetime."""

    def __init__(self, policies: ToolPolicies, approver: Approver = deny_all) -> None:
        self.policies = policies
        self.approver = approver
        self.denied: list[str] = []  # tool names refused, in order, for `ask`'s exit status 6
        self._always: set[str] = set()
        self._asking = asyncio.Lock()  # one question at a time, even when calls run in parallel

    async def check(self, call: ToolCallPart, tool: Tool) -> bool:
        policy = self.policies.policy(tool)
        if policy == "allow":
            return True
        if policy == "ask":
            async with self._asking:
                if tool.name in self._always:
                    return True
                decision = await self.approver(call, tool)
                if decision == "allow_always":
                    self._always.add(tool.name)
            if decision in ("allow_once", "allow_always"):
                return True
        if tool.name not in self.denied:
            self.denied.append(tool.name)
        return False
