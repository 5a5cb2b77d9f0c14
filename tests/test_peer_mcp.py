"""Published MCP servers nobody here wrote, through agentchat's real MCPManager, registry, engine and CLI.

mcp-server-time and mcp-server-git (PyPI) and @modelcontextprotocol/server-everything (npm) keep our
own test server honest: it agrees with our client because we wrote both. `tests/peers/install_mcp.sh`
installs them (pinned) under .peers/; a test whose server is missing skips and says how to install it.
Ground truth for listings comes from the server itself over raw JSON-RPC, not through the SDK we test.
Run with `pytest -m peers tests/test_peer_mcp.py`.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agentchat.config import Config
from agentchat.core.messages import ToolCallPart, ToolResultPart
from agentchat.tools.mcp import NEEDS_TASKS, MCPManager
from agentchat.tools.mcp.context import fetch_prompt, read_resource
from agentchat.tools.mcp.elicit import Answer, Elicitation
from agentchat.tools.registry import ToolRegistry, build_registry
from tests.conftest import UserEnv
from tests.fakes import openai_fake as oai
from tests.fakes.openai_fake import OpenAIFake
from tests.loopback import free_port

pytestmark = pytest.mark.peers

REPO = Path(__file__).resolve().parent.parent
INSTALL = "tests/peers/install_mcp.sh"
BINS = {
    "time": REPO / ".peers/mcp-py/bin/mcp-server-time",
    "git": REPO / ".peers/mcp-py/bin/mcp-server-git",
    "everything": REPO / ".peers/node/node_modules/.bin/mcp-server-everything",
}
# server-everything's MCP logo PNG has a bad CRC in its iCCP chunk: no decoder we use reads it, so
# the model is told what came back and why it is not shown (a readable image goes as an image).
IMAGE_NOTE = (
    r"\[the tool returned an image \(image/png, 4033 bytes\); not passed on: broken image \(no decoder "
    r"can read it\)\]"
)


def server(name: str, repo: Path | None = None) -> dict[str, Any]:
    """The config table for one real server, or a skip that says why it cannot run here."""
    if name == "everything" and shutil.which("node") is None:
        pytest.skip(f"node is missing: server-everything cannot run (install node, then run {INSTALL})")
    if not BINS[name].exists():
        pytest.skip(f"{BINS[name].name} is not installed: run {INSTALL}")
    args = {"time": ["--local-timezone", "Europe/Paris"], "git": ["--repository", str(repo)]}.get(name, [])
    return {"command": str(BINS[name]), "args": args, "policy": "allow", "timeout": 30}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with one commit and one untracked file."""
    if shutil.which("git") is None:
        pytest.skip("git is missing: mcp-server-git needs it")
    path = tmp_path / "repo"
    path.mkdir()
    git = ["git", "-c", "user.name=Tester", "-c", "user.email=t@example.com", "-C", str(path)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "the first commit"], check=True)
    (path / "notes.txt").write_text("pelican\n")
    return path


async def raw_listing(table: dict[str, Any]) -> tuple[str | None, dict[str, dict[str, Any]]]:
    """(instructions, {tool name: tool}) as the server itself sends them over the 2025 handshake."""
    proc = await asyncio.create_subprocess_exec(
        table["command"],
        *table["args"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdin is not None and proc.stdout is not None
    stdin, stdout = proc.stdin, proc.stdout

    async def send(message: dict[str, Any]) -> None:
        stdin.write(json.dumps({"jsonrpc": "2.0", **message}).encode() + b"\n")
        await stdin.drain()

    async def request(ident: int, method: str, params: dict[str, Any]) -> dict[str, Any]:
        await send({"id": ident, "method": method, "params": params})
        while True:  # skip the server's notifications and requests until our answer
            line = await asyncio.wait_for(stdout.readline(), 30)
            assert line, f"the server closed stdout before answering {method}"
            message = json.loads(line)
            if message.get("id") == ident and "method" not in message:
                assert "result" in message, message
                result: dict[str, Any] = message["result"]
                return result

    try:
        client = {"name": "raw", "version": "0"}
        init = await request(
            1, "initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": client}
        )
        await send({"method": "notifications/initialized"})
        tools: dict[str, dict[str, Any]] = {}
        params: dict[str, Any] = {}
        for ident in range(2, 50):
            page = await request(ident, "tools/list", params)
            tools.update((tool["name"], tool) for tool in page["tools"])
            if not page.get("nextCursor"):
                break
            params = {"cursor": page["nextCursor"]}
        return init.get("instructions"), tools
    finally:
        stdin.close()
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def call(reg: ToolRegistry, name: str, **arguments: Any) -> tuple[ToolResultPart, str]:
    return await reg.call(ToolCallPart(id="call_1", name=name, arguments=arguments))


@pytest.mark.parametrize("name", ["time", "git", "everything"])
async def test_tools_listed_with_schemas_and_instructions_intact(
    name: str, tmp_path: Path, repo: Path
) -> None:
    table = server(name, repo)
    instructions, listed = await raw_listing(table)
    config = Config(tmp_path / "c.toml", {"mcp_servers": {name: table}})
    async with MCPManager.from_config(config) as mcp:
        reg = build_registry(config, tmp_path, mcp=mcp, plugins=False)
        await reg.load()
    task_only = {
        n for n, tool in listed.items() if tool.get("execution", {}).get("taskSupport") == "required"
    }
    # tools that run only as MCP tasks are held back with the reason; every other one is offered as listed
    assert reg.errors == {f"mcp:{name}/{n}": NEEDS_TASKS for n in sorted(task_only)}
    offered = {t.name: t for t in reg.tools if t.source == f"mcp:{name}"}
    assert sorted(offered) == sorted(f"{name}__{n}" for n in listed if n not in task_only)
    for tool_name, tool in listed.items():
        if tool_name in task_only:
            continue
        spec = offered[f"{name}__{tool_name}"].spec
        assert spec.parameters == tool["inputSchema"], tool_name  # $schema, anyOf, defaults: untouched
        assert spec.description == tool.get("description", ""), tool_name
    # the instructions the server sent on initialize reach the registry, keyed by the configured name
    assert reg.instructions == ({name: instructions.strip()} if instructions else {})
    if name == "everything":
        assert "simulate-research-query" in task_only  # defect 6: it was offered and every call failed
        assert "Server instructions are working!" in reg.instructions["everything"]
    else:
        assert task_only == set() and instructions is None


async def test_time_server_calls_and_errors(tmp_path: Path) -> None:
    config = Config(tmp_path / "c.toml", {"mcp_servers": {"time": server("time")}})
    async with MCPManager.from_config(config) as mcp:
        reg = build_registry(config, tmp_path, mcp=mcp, plugins=False)
        await reg.load()
        result, status = await call(reg, "time__get_current_time", timezone="UTC")
        assert status == "done", result.content
        now = json.loads(result.content)
        assert (now["timezone"], now["is_dst"]) == ("UTC", False)
        assert abs((datetime.fromisoformat(now["datetime"]) - datetime.now(UTC)).total_seconds()) < 300

        result, status = await call(
            reg, "time__convert_time", source_timezone="UTC", time="12:00", target_timezone="Asia/Tokyo"
        )
        assert status == "done", result.content
        converted = json.loads(result.content)
        assert converted["target"]["datetime"].endswith("T21:00:00+09:00")
        assert converted["time_difference"] == "+9.0h"

        # errors the server finds are results the model reads, and the server stays usable
        result, status = await call(reg, "time__get_current_time", timezone="Mars/Olympus")
        assert (status, result.is_error) == ("failed", True)
        assert result.content == (
            "error: Error executing tool get_current_time: Invalid timezone: "
            "'No time zone found with key Mars/Olympus'"
        )
        result, status = await call(
            reg, "time__convert_time", source_timezone="UTC", time="25:99", target_timezone="Asia/Tokyo"
        )
        assert (result.content, status) == (
            "error: Error executing tool convert_time: Invalid time format. Expected HH:MM [24-hour format]",
            "failed",
        )
        # a call our own light schema check refuses never reaches the server
        result, status = await call(reg, "time__get_current_time")
        assert status == "failed" and "missing required argument 'timezone'" in result.content
        result, status = await call(reg, "time__get_current_time", timezone="Asia/Tokyo")
        assert status == "done" and json.loads(result.content)["timezone"] == "Asia/Tokyo"


async def test_git_server_calls_on_a_temp_repo(tmp_path: Path, repo: Path) -> None:
    config = Config(tmp_path / "c.toml", {"mcp_servers": {"git": server("git", repo)}})
    async with MCPManager.from_config(config) as mcp:
        reg = build_registry(config, tmp_path, mcp=mcp, plugins=False)
        await reg.load()
        result, status = await call(reg, "git__git_status", repo_path=str(repo))
        assert status == "done", result.content
        assert "Untracked files" in result.content and "notes.txt" in result.content
        result, status = await call(reg, "git__git_log", repo_path=str(repo))
        assert status == "done", result.content
        assert "Message: the first commit" in result.content and "Author: Tester" in result.content
        result, status = await call(reg, "git__git_status", repo_path=str(tmp_path))
        assert (status, result.is_error) == ("failed", True)
        assert result.content.startswith("error: Error executing tool git_status: Repository path")
        assert "is outside the allowed repository" in result.content


async def test_everything_images_resources_and_server_side_errors(tmp_path: Path) -> None:
    config = Config(tmp_path / "c.toml", {"mcp_servers": {"everything": server("everything")}})
    async with MCPManager.from_config(config) as mcp:
        reg = build_registry(config, tmp_path, mcp=mcp, plugins=False)
        await reg.load()
        # an image result succeeds and the model is told an image came back (this one is broken)
        result, status = await call(reg, "everything__get-tiny-image")
        assert status == "done", result.content
        assert re.fullmatch(
            rf"Here's the image you requested:\n{IMAGE_NOTE}\nThe image above is the MCP logo\.",
            result.content,
        )
        result, status = await call(
            reg, "everything__get-annotated-message", messageType="error", includeImage=True
        )
        assert status == "done" and re.fullmatch(rf"Error: Operation failed\n{IMAGE_NOTE}", result.content)

        result, status = await call(reg, "everything__get-resource-reference")
        assert status == "done" and "Resource 1: This is a plaintext resource" in result.content
        result, status = await call(reg, "everything__get-resource-links", count=2)
        assert status == "done" and "[resource link: demo://resource/dynamic/" in result.content
        result, status = await call(reg, "everything__get-structured-content", location="Chicago")
        assert status == "done" and set(json.loads(result.content)) == {
            "temperature",
            "conditions",
            "humidity",
        }

        # the server's own argument validation (a maximum our light check does not know) is an error result
        result, status = await call(reg, "everything__get-resource-links", count=50)
        assert (status, result.is_error) == ("failed", True)
        assert result.content.startswith("error: MCP error -32602: Input validation error")
        result, status = await call(reg, "everything__get-sum", a=2, b=3)
        assert (result.content, status) == ("The sum of 2 and 3 is 5.", "done")


async def test_everything_long_running_tool_with_progress(tmp_path: Path) -> None:
    config = Config(tmp_path / "c.toml", {"mcp_servers": {"everything": server("everything")}})
    progress: list[tuple[str, float, float | None, str | None]] = []
    async with MCPManager.from_config(config, on_progress=lambda *event: progress.append(event)) as mcp:
        reg = build_registry(config, tmp_path, mcp=mcp, plugins=False)
        await reg.load()
        result, status = await call(reg, "everything__trigger-long-running-operation", duration=0.3, steps=3)
        assert (result.content, status) == (
            "Long running operation completed. Duration: 0.3 seconds, Steps: 3.",
            "done",
        )
        assert [(name, value, total) for name, value, total, _ in progress] == [
            ("everything__trigger-long-running-operation", float(step), 3.0) for step in (1, 2, 3)
        ]
        result, status = await call(reg, "everything__echo", message="still here")
        assert (result.content, status) == ("Echo: still here", "done")


async def test_everything_sees_only_a_safe_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """agentchat's keys stay out of a server's environment; what its table sets gets in."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-agentchat-secret")
    table = {**server("everything"), "env": {"GREETING": "hello"}}
    config = Config(tmp_path / "c.toml", {"mcp_servers": {"everything": table}})
    async with MCPManager.from_config(config) as mcp:
        reg = build_registry(config, tmp_path, mcp=mcp, plugins=False)
        await reg.load()
        result, status = await call(reg, "everything__get-env")
    assert status == "done", result.content
    seen = json.loads(result.content)
    assert seen["GREETING"] == "hello" and "PATH" in seen
    assert "OPENAI_API_KEY" not in seen and "sk-agentchat-secret" not in result.content


def test_ask_runs_real_mcp_tools_in_a_tool_loop(
    user_env: UserEnv, openai_fake: OpenAIFake, repo: Path
) -> None:
    """The real CLI: a scripted model calls three servers' tools, one call fails, the turn goes on."""
    tables = {name: server(name, repo) for name in ("time", "git", "everything")}
    config = f'[providers.openai]\napi_key = "sk-test"\nbase_url = "{openai_fake.base_url}"\n'
    for name, table in tables.items():
        config += f"\n[mcp_servers.{name}]\ncommand = {json.dumps(table['command'])}\n"
        config += f'args = {json.dumps(table["args"])}\npolicy = "allow"\n'
    user_env.write_config(config)
    calls: list[tuple[str, str, dict[str, Any] | str]] = [
        (
            "call_1",
            "time__convert_time",
            {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"},
        ),
        ("call_2", "time__get_current_time", {"timezone": "Mars/Olympus"}),
        ("call_3", "everything__get-tiny-image", {}),
        ("call_4", "git__git_log", {"repo_path": str(repo)}),
    ]
    openai_fake.queue(oai.tool_calls(calls), oai.text(["It is 21:00 in Tokyo."]))
    tool_args = [arg for _, name, _ in calls for arg in ("-T", name)]
    proc = user_env.run("ask", *tool_args, "-m", "gpt-4o-mini", "What time is it in Tokyo at noon UTC?")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "It is 21:00 in Tokyo.\n"
    assert "Traceback" not in proc.stderr
    # the task-only tool is named once, with the reason, instead of being offered
    assert f"mcp:everything/simulate-research-query: {NEEDS_TASKS}" in proc.stderr

    first, second = (r.body for r in openai_fake.chat_requests())
    offered = {t["function"]["name"]: t["function"]["parameters"] for t in first["tools"]}
    assert sorted(offered) == sorted(name for _, name, _ in calls)
    assert offered["time__convert_time"]["required"] == ["source_timezone", "time", "target_timezone"]
    results = {m["tool_call_id"]: m["content"] for m in second["messages"] if m["role"] == "tool"}
    assert json.loads(results["call_1"])["time_difference"] == "+9.0h"
    assert results["call_2"].startswith("error: Error executing tool get_current_time: Invalid timezone")
    assert re.fullmatch(
        rf"Here's the image you requested:\n{IMAGE_NOTE}\nThe image above is the MCP logo\.",
        results["call_3"],
    )
    assert "Message: the first commit" in results["call_4"]


def test_tools_command_says_why_a_task_only_tool_is_not_offered(user_env: UserEnv) -> None:
    table = server("everything")
    user_env.write_config(f"[mcp_servers.everything]\ncommand = {json.dumps(table['command'])}\n")
    proc = user_env.run("tools")
    assert proc.returncode == 0, proc.stderr
    assert "everything__get-tiny-image" in proc.stdout and "simulate-research-query" not in proc.stdout
    assert f"mcp:everything/simulate-research-query: {NEEDS_TASKS}" in proc.stderr


@contextmanager
def everything_at(kind: str) -> Iterator[str]:
    """server-everything as a remote server (`streamableHttp` or `sse` mode) on a free loopback
    port; its URL once it says it listens."""
    table = server("everything")
    port = free_port()
    proc = subprocess.Popen(
        ["node", str(Path(table["command"]).resolve()), kind],
        env={**os.environ, "PORT": str(port)},
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # "... listening on port N" / "Server is running on port N"
            if f"on port {port}" in line:
                break
        else:
            pytest.fail(f"server-everything {kind} did not start")
        yield f"http://127.0.0.1:{port}/{'mcp' if kind == 'streamableHttp' else 'sse'}"
    finally:
        proc.terminate()
        proc.wait(10)
        assert proc.stderr is not None
        proc.stderr.close()


@pytest.mark.parametrize("kind", ["streamableHttp", "sse"])
async def test_everything_remote_over_streamable_http_and_sse(tmp_path: Path, kind: str) -> None:
    """The same `url` table for both modes: SSE is found by the 404 its first POST gets. Tools,
    resources and prompts as over stdio; structured content, a resource read, a prompt, and a
    question to the user (elicitation) answered through the face's elicitor."""
    asked: list[Elicitation] = []

    async def elicitor(request: Elicitation) -> Answer:
        asked.append(request)
        return Answer("accept", {"name": "Ada", "check": True})

    with everything_at(kind) as url:
        config = Config(tmp_path / "c.toml", {"mcp_servers": {"everything": {"url": url, "policy": "allow"}}})
        async with MCPManager.from_config(config) as mcp:
            mcp.elicitor = elicitor
            reg = build_registry(config, tmp_path, mcp=mcp, plugins=False)
            await reg.load()
            remote = mcp.servers[0]
            assert remote.seen.transport == {"streamableHttp": "streamable-http"}.get(kind, kind)
            assert reg.errors == {"mcp:everything/simulate-research-query": NEEDS_TASKS}
            names = {t.name for t in reg.tools if t.source == "mcp:everything"}
            assert {"everything__get-sum", "everything__trigger-elicitation-request"} <= names
            assert len(remote.resources) >= 7 and {p.name for p in remote.prompts} >= {
                "simple-prompt",
                "args-prompt",
            }

            result, status = await call(reg, "everything__get-sum", a=2, b=3)
            assert (result.content, status) == ("The sum of 2 and 3 is 5.", "done")
            result, status = await call(reg, "everything__get-structured-content", location="Chicago")
            assert status == "done" and set(json.loads(result.content)) == {
                "temperature",
                "conditions",
                "humidity",
            }
            result, status = await call(reg, "everything__trigger-elicitation-request")
            assert status == "done", result.content
            assert (
                "User provided the requested information" in result.content
                and "- Name: Ada" in result.content
            )
            (request,) = asked
            fields = {f.name: f for f in request.fields}
            assert fields["name"].required and fields["check"].type == "boolean"
            assert fields["untitledMultipleSelectEnum"].choices == [
                "Guitar",
                "Piano",
                "Violin",
                "Drums",
                "Bass",
            ]

            uri = "demo://resource/static/document/features.md"
            ((name, data, media),) = await read_resource(config, f"mcp:everything:{uri}", mcp)
            assert name == f"mcp:everything:{uri}" and data.startswith(b"#") and media == "text/markdown"
            prompt = await fetch_prompt(config, "everything:args-prompt", {"city": "Paris"}, mcp)
            assert "Paris" in prompt.text


def test_mcp_list_against_real_servers(user_env: UserEnv, repo: Path) -> None:
    tables = {name: server(name, repo) for name in ("time", "git", "everything")}
    config = "".join(
        f"[mcp_servers.{name}]\ncommand = {json.dumps(t['command'])}\nargs = {json.dumps(t['args'])}\n"
        for name, t in tables.items()
    )
    user_env.write_config(config)
    proc = user_env.run("mcp", "list", "--json")
    assert proc.returncode == 0, proc.stderr
    listed = {s["name"]: s for s in json.loads(proc.stdout)}
    assert {n: (s["state"], s["transport"]) for n, s in listed.items()} == dict.fromkeys(
        tables, ("connected", "stdio")
    )
    assert listed["time"]["counts"] == {"tools": 2, "resources": 0, "prompts": 0}
    assert listed["everything"]["counts"]["prompts"] == 4
    assert "simulate-research-query" in " ".join(listed["everything"]["notes"])
    proc = user_env.run("mcp", "test", "git")
    assert proc.returncode == 0 and "git  stdio  connected" in proc.stdout
