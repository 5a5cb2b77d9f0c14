"""Approval policy precedence and the per-conversation ApprovalGate."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from agentchat.config import Config
from agentchat.core.errors import ConfigError
from agentchat.core.messages import ToolCallPart
from agentchat.tools.approval import (
    ApprovalGate,
    Decision,
    ToolPolicies,
    denied_result,
    deny_all,
    resolve_policies,
)
from agentchat.tools.base import Tool
from agentchat.tools.builtin import builtin_tools
from agentchat.tools.registry import ToolRegistry, describe_tools

TOOLS = {t.name: t for t in builtin_tools(Path("."))}


def config(policies: dict[str, Any] | None = None) -> Config:
    return Config(Path("config.toml"), {"tools": {"policies": policies}} if policies is not None else {})


def resolved(**kwargs: Any) -> dict[str, str]:
    policies = resolve_policies(kwargs.pop("config", config()), **kwargs)
    return {name: policies.policy(tool) for name, tool in TOOLS.items()}


def test_tool_defaults_apply_without_settings() -> None:
    got = resolved()
    assert (got["read_file"], got["now"], got["write_file"], got["run_shell"]) == (
        "allow",
        "allow",
        "ask",
        "ask",
    )


def test_each_level_overrides_the_one_below() -> None:
    file = config({"run_shell": "allow", "read_file": "ask", "write_file": "deny"})
    assert resolved(config=file)["run_shell"] == "allow"
    assert resolved(config=file)["read_file"] == "ask"
    # the agent's table beats the config file
    agent = {"run_shell": "ask", "read_file": "allow", "write_file": "ask"}
    by_agent = resolved(config=file, agent_tools=agent)
    assert (by_agent["run_shell"], by_agent["read_file"], by_agent["write_file"]) == ("ask", "allow", "ask")
    # --allow-tool beats the agent (even a deny)
    flags = resolved(config=file, agent_tools={**agent, "run_shell": "deny"}, allow_tools=["run_shell"])
    assert flags["run_shell"] == "allow"


def test_agent_list_limits_what_is_offered_without_changing_policies() -> None:
    policies = resolve_policies(config(), agent_tools=["read_file", "run_shell"])
    assert policies.offered(TOOLS.values()) == ["read_file", "run_shell"]
    assert policies.policy(TOOLS["run_shell"]) == "ask"  # listing a tool is not approving it
    assert policies.policy(TOOLS["list_dir"]) == "deny"
    # --allow-tool can bring an unlisted tool back
    assert resolve_policies(None, agent_tools=["now"], allow_tools=["list_dir"]).offered(TOOLS.values()) == [
        "list_dir",
        "now",
    ]


def test_yes_allows_everything_except_an_explicit_deny() -> None:
    got = resolved(config=config({"write_file": "deny"}), yes=True)
    assert got == {**dict.fromkeys(TOOLS, "allow"), "write_file": "deny"}
    assert "write_file" not in resolve_policies(config({"write_file": "deny"})).offered(TOOLS.values())


def test_bad_policy_values_name_their_place() -> None:
    with pytest.raises(
        ConfigError, match=r"tools\.policies\.run_shell must be \"allow\", \"ask\" or \"deny\""
    ):
        resolve_policies(config({"run_shell": "yes"}))
    with pytest.raises(ConfigError, match=r"the agent's tools\.now must be"):
        resolve_policies(None, agent_tools={"now": "always"})
    with pytest.raises(ConfigError, match="agent's tools must be a table"):
        resolve_policies(None, agent_tools="run_shell")  # type: ignore[arg-type]


def test_describe_tools_rows() -> None:
    rows = describe_tools(ToolRegistry(TOOLS.values()), resolve_policies(config({"run_shell": "deny"})))
    shell = next(r for r in rows if r.name == "run_shell")
    assert (shell.source, shell.policy) == ("built-in", "deny")
    assert shell.description.startswith("Run a shell command")
    assert [r.name for r in rows] == list(TOOLS)


# --- the gate -----------------------------------------------------------------------------------


class Recorder:
    """A scripted face: answers in order and records every question."""

    def __init__(self, *answers: Decision) -> None:
        self.answers = list(answers)
        self.asked: list[tuple[str, str]] = []

    async def __call__(self, call: ToolCallPart, tool: Tool) -> Decision:
        self.asked.append((call.id, tool.name))
        return self.answers.pop(0)


def call(name: str, n: int = 1) -> ToolCallPart:
    return ToolCallPart(id=f"call_{n}", name=name, arguments={})


async def test_allowed_tools_are_not_asked_about() -> None:
    face = Recorder()
    gate = ApprovalGate(resolve_policies(None), face)
    assert await gate.check(call("read_file"), TOOLS["read_file"])
    assert face.asked == []


async def test_allow_once_asks_again_allow_always_is_remembered() -> None:
    face = Recorder("allow_once", "allow_always")
    gate = ApprovalGate(resolve_policies(None), face)
    for n in range(1, 5):
        assert await gate.check(call("run_shell", n), TOOLS["run_shell"])
    assert face.asked == [("call_1", "run_shell"), ("call_2", "run_shell")]
    assert gate.denied == []
    # remembered per tool, and only for this gate (= one conversation)
    other = Recorder("deny")
    assert not await ApprovalGate(resolve_policies(None), other).check(call("run_shell"), TOOLS["run_shell"])
    assert other.asked == [("call_1", "run_shell")]


async def test_denials_are_recorded_once_per_tool() -> None:
    face = Recorder("deny", "deny")
    gate = ApprovalGate(resolve_policies(config({"run_shell": "deny"})), face)
    assert not await gate.check(call("run_shell"), TOOLS["run_shell"])  # policy deny: nobody is asked
    assert not await gate.check(call("write_file"), TOOLS["write_file"])
    assert not await gate.check(call("write_file", 2), TOOLS["write_file"])
    assert face.asked == [("call_1", "write_file"), ("call_2", "write_file")]
    assert gate.denied == ["run_shell", "write_file"]


async def test_no_terminal_approver_denies_every_question() -> None:
    gate = ApprovalGate(resolve_policies(None))
    assert gate.approver is deny_all
    assert await gate.check(call("now"), TOOLS["now"])
    assert not await gate.check(call("write_file"), TOOLS["write_file"])
    assert gate.denied == ["write_file"]
    result = denied_result(call("write_file"))
    assert (result.call_id, result.name, result.is_error) == ("call_1", "write_file", True)
    assert "not run" in result.content and "did not allow" in result.content


async def test_parallel_calls_ask_one_question_at_a_time() -> None:
    release = asyncio.Event()
    asked: list[str] = []

    async def slow_face(c: ToolCallPart, tool: Tool) -> Decision:
        asked.append(c.id)
        await release.wait()
        return "allow_always"

    gate = ApprovalGate(ToolPolicies(), slow_face)
    checks = [asyncio.create_task(gate.check(call("run_shell", n), TOOLS["run_shell"])) for n in (1, 2, 3)]
    await asyncio.sleep(0)  # let every check reach the gate
    assert asked == ["call_1"]
    release.set()
    assert await asyncio.gather(*checks) == [True, True, True]
    assert asked == ["call_1"]
