"""MCPManager against a real stdio MCP server (tests/mcp_test_server.py, built with the SDK's server side)."""

from __future__ import annotations

import gc
import logging
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from agentchat.config import Config
from agentchat.core.messages import ToolCallPart, ToolResultPart
from agentchat.tools.approval import resolve_policies
from agentchat.tools.mcp import NEEDS_TASKS, MCPManager
from agentchat.tools.registry import ToolRegistry, build_registry

SERVER = str(Path(__file__).with_name("mcp_test_server.py"))
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360606060000000050001a5f645400000000049454e44ae426082"
)


def alive(pid: int) -> bool:
    """True for a running process; a zombie (exited, never reaped) counts as alive: it is a leak."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def run(reg: ToolRegistry, name: str, **arguments: Any) -> tuple[ToolResultPart, str]:
    return await reg.call(ToolCallPart(id="call_1", name=name, arguments=arguments))


async def test_mcp_servers_end_to_end(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    markers = {name: tmp_path / f"{name}.pid" for name in ("demo", "other")}
    config = Config(
        tmp_path / "config.toml",
        {
            "mcp_servers": {
                "demo": {
                    "command": sys.executable,
                    "args": [SERVER],
                    "env": {"MCP_TEST_MARKER": str(markers["demo"])},
                    "policy": "allow",
                    "tools": {"fail": "deny"},
                    "timeout": 0.5,
                },
                "other": {
                    "command": sys.executable,
                    "args": [SERVER],
                    "env": {"MCP_TEST_MARKER": str(markers["other"])},
                },
                "missing": {"command": "agentchat-no-such-server"},
                "broken": {"args": ["server.js"]},
            }
        },
    )
    caplog.set_level(logging.WARNING)
    gc.collect()  # what earlier tests left for the collector must not be counted against MCP
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with MCPManager.from_config(config) as mcp:
            reg = build_registry(config, tmp_path, mcp=mcp, plugins=False)
            assert reg.get("demo__add") is None
            assert not any(m.exists() for m in markers.values())  # nothing spawned before tools are used

            await reg.load()
            await reg.load()  # once per session
            pids = {name: int(m.read_text()) for name, m in markers.items()}
            assert all(alive(pid) for pid in pids.values())

            mcp_tools = {t.name: t for t in reg.tools if t.source.startswith("mcp:")}
            assert sorted(mcp_tools) == sorted(
                f"{server}__{tool}"
                for server in ("demo", "other")
                for tool in "add text_echo fail crash wait picture count hold book grow".split()
            )
            add = mcp_tools["demo__add"]
            assert (add.source, add.spec.description) == ("mcp:demo", "Add two integers.")
            assert add.spec.parameters["required"] == ["a", "b"]
            assert reg.errors == {
                "mcp:missing": "cannot run 'agentchat-no-such-server': No such file or directory",
                "mcp:broken": "mcp_servers.broken: `command` (a local server) or `url` (a remote one) is required",
            }
            policies = resolve_policies(config)
            assert {n: policies.policy(t) for n, t in mcp_tools.items() if n.endswith(("add", "fail"))} == {
                "demo__add": "allow",
                "demo__fail": "deny",
                "other__add": "ask",
                "other__fail": "ask",
            }

            result, status = await run(reg, "demo__add", a=2, b=3)
            assert (result.content, status, result.name) == ("5", "done", "demo__add")
            result, status = await run(reg, "other__text_echo", text="héllo wörld")
            assert (result.content, status) == ("héllo wörld", "done")
            result, status = await run(reg, "demo__fail", message="the disk is on fire")
            assert (result.is_error, status) == (True, "failed")
            assert (
                result.content == "error: Error executing tool fail: the disk is on fire"
            )  # the server's text
            result, status = await run(reg, "demo__wait", seconds=30)
            assert (result.content, status) == (
                "error: demo__wait timed out after 0.5 s and was stopped",
                "failed",
            )
            result, status = await run(reg, "demo__add", a=1, b=1)  # still usable after a timed-out call
            assert (result.content, status) == ("2", "done")
            # a server that dies mid-call fails that call (no hang) and leaves the others working
            result, status = await run(reg, "other__crash")
            assert (result.content, status) == ("error: MCP server other stopped during the call", "failed")
            result, status = await run(reg, "other__add", a=1, b=1)
            assert (result.content, status) == ("error: MCP server other stopped during the call", "failed")
            result, status = await run(reg, "demo__add", a=1, b=2)
            assert (result.content, status) == ("3", "done")

        assert not any(alive(pid) for pid in pids.values())
        result, status = await run(reg, "demo__add", a=1, b=1)
        assert (result.content, status) == ("error: MCP server demo is not running", "failed")
        del mcp, reg
        gc.collect()
    noise = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    noise += [r.getMessage() for r in caplog.records if "destroyed" in r.getMessage() or r.name == "asyncio"]
    assert noise == []


async def test_startup_failures_are_one_line_each(tmp_path: Path) -> None:
    crash = "import sys; print('Traceback...', file=sys.stderr); print('KeyError: API_TOKEN', file=sys.stderr); sys.exit(1)"
    config = Config(
        tmp_path / "config.toml",
        {
            "mcp_servers": {
                "crash": {"command": sys.executable, "args": ["-c", crash]},
                # reads stdin to the end and never answers `initialize`
                "mute": {
                    "command": sys.executable,
                    "args": ["-c", "import sys; sys.stdin.read()"],
                    "startup_timeout": 0.3,
                },
                "bad": {"command": "x", "policy": "sometimes", "timeout": 0},
            }
        },
    )
    async with MCPManager.from_config(config) as mcp:
        assert await mcp.start() == []
        assert mcp.errors == {
            "bad": 'mcp_servers.bad.policy must be "allow", "ask" or "deny", not \'sometimes\'',
            "crash": "MCPError: Connection closed (stderr: KeyError: API_TOKEN)",
            "mute": "did not start within 0.3 s",
        }


async def test_no_servers_configured_costs_nothing(tmp_path: Path) -> None:
    config = Config(tmp_path / "config.toml", {})
    async with MCPManager.from_config(config) as mcp:
        assert await mcp.start() == []
        assert mcp.errors == {}


async def test_legacy_server_instructions_images_progress_and_task_only_tools(tmp_path: Path) -> None:
    """What server-everything showed (a 2025-era server): instructions, an image, progress, a task-only tool."""
    config = Config(
        tmp_path / "config.toml",
        {
            "mcp_servers": {
                "old": {"command": sys.executable, "args": [SERVER], "env": {"MCP_TEST_LEGACY": "1"}},
                "new": {"command": sys.executable, "args": [SERVER]},
            }
        },
    )
    progress: list[tuple[str, float, float | None, str | None]] = []
    async with MCPManager.from_config(config, on_progress=lambda *event: progress.append(event)) as mcp:
        reg = build_registry(config, tmp_path, mcp=mcp, plugins=False)
        assert reg.instructions == {}
        await reg.load()
        # the tool that runs only as a task is held back, with the reason, instead of failing every call
        assert reg.get("old__research") is None and reg.get("old__add") is not None
        assert reg.errors == {"mcp:old/research": NEEDS_TASKS}
        # both eras' instructions reach the registry, keyed by the configured server name
        instructions = "Use add for arithmetic.\nNever call crash."
        assert reg.instructions == {"old": instructions, "new": instructions}

        for server in ("old", "new"):
            result, status, images = await reg.call_with_media(ToolCallPart("c", f"{server}__picture"))
            assert status == "done"
            name = f"{server}__picture image 1"
            assert result.content == f"Here is the picture:\n[image: {name} (image/png, 1x1), attached]"
            assert [(i.kind, i.name, i.data) for i in images] == [("image", name, PNG)]
            result, status = await run(reg, f"{server}__count", steps=3)
            assert (result.content, status) == ("counted to 3", "done")
            assert progress == [(f"{server}__count", float(n), 3.0, f"step {n}") for n in (1, 2, 3)]
            progress.clear()


async def test_a_failing_progress_hook_does_not_fail_the_call(tmp_path: Path) -> None:
    config = Config(
        tmp_path / "c.toml", {"mcp_servers": {"demo": {"command": sys.executable, "args": [SERVER]}}}
    )

    def broken(*event: object) -> None:
        raise RuntimeError("the face is gone")

    async with MCPManager.from_config(config, on_progress=broken) as mcp:
        reg = build_registry(config, tmp_path, mcp=mcp, plugins=False)
        await reg.load()
        result, status = await run(reg, "demo__count", steps=2)
        assert (result.content, status) == ("counted to 2", "done")


def test_server_instructions_reach_the_model_only_with_its_tools(user_env: Any, openai_fake: Any) -> None:
    """A server's `instructions` join the system prompt of a turn that offers its tools (after the
    conversation's own prompt, framed as the server's), and only then."""
    from tests.fakes import openai_fake as oai

    user_env.write_config(
        f'[providers.openai]\napi_key = "sk-test-123456"\nbase_url = "{openai_fake.base_url}"\n'
        f"[mcp_servers.demo]\ncommand = {sys.executable!r}\nargs = [{SERVER!r}]\n"
    )
    openai_fake.queue(oai.text(["one"]), oai.text(["two"]))
    proc = user_env.run("ask", "-m", "gpt-4o-mini", "-s", "Be terse.", "-T", "demo__add", "hi")
    assert proc.returncode == 0, proc.stderr
    system = openai_fake.chat_requests()[0].body["messages"][0]
    assert system == {
        "role": "system",
        "content": "Be terse.\n\nInstructions from MCP server 'demo' (for using its tools):\n"
        "Use add for arithmetic.\nNever call crash.",
    }
    proc = user_env.run("ask", "-c", "-T", "read_file", "again")
    assert proc.returncode == 0, proc.stderr
    assert openai_fake.chat_requests()[1].body["messages"][0] == {"role": "system", "content": "Be terse."}
