"""The MCP client beyond stdio tools: remote transports, bad servers, live tool lists, cancellation,
elicitation, progress, resources and prompts, the `mcp` commands, images to the model.

Servers are our SDK-built test server (tests/mcp_test_server.py): over stdio as a subprocess, over
Streamable HTTP and SSE served by uvicorn in this process (tests/mcp_http.py). Published servers
are in tests/test_peer_mcp.py (`-m peers`).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentchat.config import Config
from agentchat.config.mcp import server_config
from agentchat.core.errors import ConfigError
from agentchat.core.messages import ToolCallPart
from agentchat.tools.mcp import MCPManager
from agentchat.tools.mcp.elicit import Answer, Elicitation
from agentchat.tools.registry import build_registry
from tests.conftest import UserEnv
from tests.fakes import openai_fake as oai
from tests.fakes.openai_fake import OpenAIFake
from tests.mcp_http import mcp_server_at, serve, status_app

SERVER = str(Path(__file__).with_name("mcp_test_server.py"))


def stdio(**extra: Any) -> dict[str, Any]:
    return {"command": sys.executable, "args": [SERVER], "policy": "allow", **extra}


def config(tmp_path: Path, **servers: dict[str, Any]) -> Config:
    return Config(tmp_path / "config.toml", {"mcp_servers": servers})


# --- configuration -------------------------------------------------------------------------------


def test_other_clients_entries_paste_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """Claude Desktop's stdio entry, Claude Code's / VS Code's `type = "http"`, Cline's
    `disabled` and `autoApprove`: each table reads as written there."""
    desktop = server_config("fs", {"command": "npx", "args": ["-y", "server"], "env": {"A": "1"}})
    assert (desktop.transport, desktop.command, desktop.args, desktop.env) == (
        "stdio",
        "npx",
        ["-y", "server"],
        {"A": "1"},
    )
    remote = server_config("docs", {"type": "http", "url": "https://x/mcp", "headers": {"X-Key": "${K}"}})
    assert (remote.transport, remote.transport_set, remote.headers) == ("http", True, {"X-Key": "${K}"})
    auto = server_config("a", {"url": "https://x/mcp"})
    assert (auto.transport, auto.transport_set) == ("http", False)  # SSE is tried if HTTP is refused
    assert server_config("s", {"url": "https://x/sse", "transport": "sse"}).transport == "sse"
    assert server_config("c", {"url": "https://x", "type": "streamableHttp"}).transport == "http"
    cline = server_config(
        "c", {"command": "x", "disabled": True, "autoApprove": ["read"], "tools": {"w": "deny"}}
    )
    assert (cline.enabled, cline.tool_policies) == (False, {"read": "allow", "w": "deny"})

    for table, message in [
        ({"command": "x", "url": "https://x"}, "give either `command`"),
        ({"url": "ftp://x"}, "must be an http:// or https:// URL"),
        ({"url": "https://x", "transport": "websocket"}, "transport must be one of"),
        ({"command": "x", "type": "sse"}, "does not go with `command`"),
        ({"url": "https://x", "enabled": "yes"}, "must be true or false"),
    ]:
        with pytest.raises(ConfigError, match=message):
            server_config("bad", table)


# --- remote transports ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["http", "sse"])
async def test_remote_server_tools_resources_and_prompts(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same URL table for both: Streamable HTTP, and SSE found by the 405 the first POST gets.
    The configured headers, their ${VAR}s filled from the environment, go with every request."""
    monkeypatch.setenv("H15_TOKEN", "s3cret")
    seen: list[dict[str, str]] = []
    with mcp_server_at(kind, headers=seen) as url:
        headers = {"Authorization": "Bearer ${H15_TOKEN}", "X-Team": "${H15_UNSET:-blue}"}
        cfg = config(tmp_path, remote={"url": url, "policy": "allow", "headers": headers})
        async with MCPManager.from_config(cfg) as mcp:
            reg = build_registry(cfg, tmp_path, mcp=mcp, plugins=False)
            await reg.load()
            assert mcp.errors == {}
            server = mcp.servers[0]
            assert server.seen.transport == {"http": "streamable-http"}.get(kind, kind)
            result, status = await reg.call(ToolCallPart("c1", "remote__add", {"a": 2, "b": 3}))
            assert (result.content, status) == ("5", "done")
            assert [str(r.uri) for r in server.resources] == ["note://greeting", "note://pixel"]
            assert [p.name for p in server.prompts] == ["review"]
    assert seen and all((h["authorization"], h["x-team"]) == ("Bearer s3cret", "blue") for h in seen)


async def test_bad_servers_are_one_line_each_and_never_hang(tmp_path: Path) -> None:
    """401 (OAuth), 500, unreachable, a server that never answers initialize, garbage on stdout:
    each one line, all within their timeouts, and the good server still works."""
    oauth = status_app(401, {"WWW-Authenticate": 'Bearer resource_metadata="https://a/.well-known/x"'})

    async def never(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await asyncio.sleep(3600)

    garbage = "import sys\nfor line in sys.stdin: print('{not json', flush=True)"
    with (
        serve(oauth) as auth,
        serve(status_app(500)) as broken,
        serve(never) as mute,
        serve(status_app(404)) as nowhere,
    ):
        cfg = config(
            tmp_path,
            oauth={"url": f"{auth}/mcp"},
            broken={"url": f"{broken}/mcp"},
            gone={"url": "http://127.0.0.1:9/mcp"},
            nowhere={"url": f"{nowhere}/mcp"},  # 404: SSE is tried too, the first answer reported
            mute={"url": f"{mute}/mcp", "startup_timeout": 0.5},
            garbage={"command": sys.executable, "args": ["-c", garbage], "startup_timeout": 0.5},
            good=stdio(),
        )
        start = time.monotonic()
        async with MCPManager.from_config(cfg) as mcp:
            tools = await mcp.start()
            assert time.monotonic() - start < 5
            assert {t.source for t in tools} == {"mcp:good"}
            errors = dict(mcp.errors)
    assert errors["oauth"] == (
        f"{auth}/mcp requires authorization (HTTP 401) (WWW-Authenticate: Bearer "
        'resource_metadata="https://a/.well-known/x"): it signs in with OAuth, which agentchat does '
        'not do; give a token in headers = { Authorization = "Bearer ${TOKEN}" }'
    )
    assert errors["broken"] == f"{broken}/mcp answered HTTP 500 over streamable-http"
    assert errors["nowhere"] == f"{nowhere}/mcp answered HTTP 404 over streamable-http"
    assert errors["gone"] == "cannot reach http://127.0.0.1:9/mcp: All connection attempts failed"
    assert errors["mute"] == "did not start within 0.5 s"
    assert (
        errors["garbage"] == "did not start within 0.5 s: it sent something that is not JSON-RPC: '{not json'"
    )
    assert all("\n" not in e for e in errors.values())


async def test_an_unset_header_variable_names_the_variable_not_the_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("H15_MISSING", raising=False)
    cfg = config(
        tmp_path, r={"url": "http://127.0.0.1:9/mcp", "headers": {"Authorization": "Bearer ${H15_MISSING}"}}
    )
    async with MCPManager.from_config(cfg) as mcp:
        await mcp.start()
    assert mcp.errors == {
        "r": "mcp_servers.r.headers.Authorization uses ${H15_MISSING}, which is not set in the environment"
    }


async def test_a_server_listing_500_tools_is_offered_them(tmp_path: Path) -> None:
    from mcp.server.mcpserver import MCPServer

    many = MCPServer("many")
    for i in range(500):
        many.add_tool(lambda: "ok", name=f"t{i}", description="x")
    with mcp_server_at("http", many) as url:
        async with MCPManager.from_config(config(tmp_path, many={"url": url})) as mcp:
            assert len(await mcp.start()) == 500 and mcp.errors == {}


# --- live behaviour ------------------------------------------------------------------------------


@pytest.mark.parametrize("legacy", [False, True], ids=["2026", "2025"])
async def test_list_changed_refreshes_the_offered_tools(tmp_path: Path, legacy: bool) -> None:
    env = {"MCP_TEST_LEGACY": "1"} if legacy else {}
    cfg = config(tmp_path, demo=stdio(env=env))
    async with MCPManager.from_config(cfg) as mcp:
        reg = build_registry(cfg, tmp_path, mcp=mcp, plugins=False)
        await reg.load()
        assert reg.get("demo__extra") is None
        result, status = await reg.call(ToolCallPart("c1", "demo__grow", {}))
        assert status == "done", result.content
        for _ in range(100):  # the notice travels on its own stream: wait for it, not for a time
            if mcp.servers[0].changed:
                break
            await asyncio.sleep(0.02)
        await reg.load()  # between requests
        assert reg.get("demo__extra") is not None
        result, status = await reg.call(ToolCallPart("c2", "demo__extra", {}))
        assert (result.content, status) == ("extra here", "done")


async def test_cancelling_a_call_tells_the_server(tmp_path: Path) -> None:
    marker = tmp_path / "cancelled"
    cfg = config(tmp_path, demo=stdio(env={"MCP_TEST_CANCELLED": str(marker)}))
    async with MCPManager.from_config(cfg) as mcp:
        reg = build_registry(cfg, tmp_path, mcp=mcp, plugins=False)
        await reg.load()
        call = asyncio.ensure_future(reg.call(ToolCallPart("c1", "demo__hold", {})))
        await asyncio.sleep(0.5)  # the call reaches the server
        call.cancel()  # what Escape / Ctrl-C does to a running turn
        for _ in range(200):
            if marker.exists():
                break
            await asyncio.sleep(0.02)
        assert marker.read_text() == "cancelled"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (Answer("accept", {"guests": 3, "confirm": True}), "booked for 3 (confirmed: True)"),
        (Answer("decline"), "booking declined"),
    ],
)
async def test_elicitation_asks_through_the_face(tmp_path: Path, answer: Answer, expected: str) -> None:
    asked: list[Elicitation] = []

    async def elicitor(request: Elicitation) -> Answer:
        asked.append(request)
        return answer

    # A 2025-era connection: a 2026 server asks through an input-required result instead, which the
    # SDK routes to the same callback (our test server's SDK asks only the 2025 way).
    cfg = config(tmp_path, demo=stdio(env={"MCP_TEST_LEGACY": "1"}))
    async with MCPManager.from_config(cfg) as mcp:
        mcp.elicitor = elicitor
        reg = build_registry(cfg, tmp_path, mcp=mcp, plugins=False)
        await reg.load()
        result, status = await reg.call(ToolCallPart("c1", "demo__book", {}))
    assert (result.content, status) == (expected, "done")
    (request,) = asked
    assert (request.server, request.message) == ("demo", "How many guests?")
    assert [(f.name, f.type, f.required) for f in request.fields] == [
        ("guests", "integer", True),
        ("confirm", "boolean", True),
    ]


# --- through the CLI -----------------------------------------------------------------------------


def mcp_config(user_env: UserEnv, fake: OpenAIFake | None = None, extra: str = "", url: str = "") -> None:
    """[mcp_servers.demo]: the test server over stdio, or at `url` (served by this process: no
    second Python to start per `ask`)."""
    provider = (
        f'[providers.openai]\napi_key = "sk-test-123456"\nbase_url = "{fake.base_url}"\n' if fake else ""
    )
    where = (
        f"url = {json.dumps(url)}\n"
        if url
        else (f"command = {json.dumps(sys.executable)}\nargs = [{json.dumps(SERVER)}]\n")
    )
    user_env.write_config(f'{provider}[mcp_servers.demo]\n{where}policy = "allow"\n{extra}')


@pytest.fixture(scope="module")
def demo_url() -> Iterator[str]:
    with mcp_server_at("http") as url:
        yield url


def test_mcp_list_and_test_commands(user_env: UserEnv) -> None:
    mcp_config(
        user_env,
        extra='[mcp_servers.gone]\nurl = "http://127.0.0.1:9/mcp"\n[mcp_servers.off]\ncommand = "x"\nenabled = false\n',
    )
    proc = user_env.run("mcp", "list", "--json")
    assert proc.returncode == 0, proc.stderr
    listed = {s["name"]: s for s in json.loads(proc.stdout)}
    demo = listed["demo"]
    assert (demo["transport"], demo["state"], demo["error"]) == ("stdio", "connected", None)
    assert demo["counts"] == {"tools": 10, "resources": 2, "prompts": 1}
    assert demo["prompts"] == ["review"] and "note://greeting" in demo["resources"]
    assert (listed["gone"]["state"], listed["gone"]["transport"]) == ("failed", "streamable-http")
    assert listed["off"]["state"] == "disabled"

    proc = user_env.run("mcp", "list")
    assert "demo  stdio  connected  (10 tools, 2 resources, 1 prompts)" in proc.stdout
    assert "gone  streamable-http  failed: cannot reach http://127.0.0.1:9/mcp" in proc.stdout

    proc = user_env.run("mcp", "test", "demo")
    assert proc.returncode == 0 and "connected" in proc.stdout
    proc = user_env.run("mcp", "test", "gone")
    assert (proc.returncode, proc.stdout) == (5, "")
    assert proc.stderr.strip().endswith(
        "mcp gone: cannot reach http://127.0.0.1:9/mcp: All connection attempts failed"
    )
    proc = user_env.run("mcp", "test", "nope")
    assert proc.returncode == 2 and "no MCP server named 'nope'" in proc.stderr


def test_ask_takes_a_resource_and_a_prompt(user_env: UserEnv, openai_fake: OpenAIFake, demo_url: str) -> None:
    mcp_config(user_env, openai_fake, url=demo_url)
    openai_fake.queue(oai.text(["ok"]), oai.text(["ok"]))
    proc = user_env.run(
        "ask", "-m", "gpt-4o-mini", "--mcp-prompt", "demo:review", "--arg", "language=Rust",
        "-f", "mcp:demo:note://greeting", "Be brief.",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    user = openai_fake.chat_requests()[0].body["messages"][-1]
    assert user["content"] == (
        '<file name="mcp:demo:note://greeting">\nhello from the resource\n</file>\n\n'
        "Review this Rust code for bugs.\n\nBe brief."
    )
    proc = user_env.run("ask", "-f", "mcp:demo:note://nothing", "hi")
    assert proc.returncode == 2 and "mcp:demo:note://nothing" not in proc.stdout
    assert proc.stderr.count("\n") == 1 and "Unknown resource" in proc.stderr
    proc = user_env.run("ask", "--mcp-prompt", "demo:review", "hi")
    assert proc.returncode == 2 and proc.stderr.startswith("agentchat: error: MCP server demo: ")
    assert proc.stderr.count("\n") == 1  # the missing argument: the server's own words
    proc = user_env.run("ask", "--mcp-prompt", "nobody:review", "hi")
    assert proc.returncode == 2 and "no MCP server named 'nobody'" in proc.stderr


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-3.5-turbo"])
def test_tool_images_and_progress_in_ask(
    user_env: UserEnv, openai_fake: OpenAIFake, model: str, demo_url: str
) -> None:
    """An image a tool returns reaches a vision model as an image, any other as a note; the
    call's progress is shown on stderr."""
    mcp_config(user_env, openai_fake, url=demo_url)
    calls: list[tuple[str, str, dict[str, Any] | str]] = [
        ("call_1", "demo__picture", {}),
        ("call_2", "demo__count", {"steps": 2}),
    ]
    openai_fake.queue(oai.tool_calls(calls, model=model), oai.text(["seen"], model=model))
    proc = user_env.run("ask", "-m", model, "-T", "demo__picture", "-T", "demo__count", "look")
    assert proc.returncode == 0, proc.stderr
    assert (
        "tool demo__count 1/2 · step 1\n" in proc.stderr and "tool demo__count 2/2 · step 2\n" in proc.stderr
    )
    messages = openai_fake.chat_requests()[1].body["messages"]
    tool = next(m for m in messages if m.get("tool_call_id") == "call_1")
    assert (
        tool["content"] == "Here is the picture:\n[image: demo__picture image 1 (image/png, 1x1), attached]"
    )
    last = messages[-1]
    assert last["role"] == "user"
    if model == "gpt-4o":
        assert [p["type"] for p in last["content"]] == ["image_url"]
        assert last["content"][0]["image_url"]["url"].startswith("data:image/png;base64,")
    else:
        assert "not sent: gpt-3.5-turbo does not take images" in last["content"]
        assert "demo__picture image 1: not sent" in proc.stderr


def test_ask_without_a_terminal_declines_a_server_question(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    """No controlling terminal (a new session, as under cron or a CI runner): the question is
    declined, the user told why, and the turn goes on."""
    mcp_config(user_env, openai_fake, extra='env = { MCP_TEST_LEGACY = "1" }\n')
    openai_fake.queue(oai.tool_calls([("call_1", "demo__book", {})]), oai.text(["No booking."]))
    proc = user_env.popen(
        "ask", "-m", "gpt-4o-mini", "-T", "demo__book", "book",
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    out, err = proc.communicate(timeout=60)
    assert (proc.returncode, out) == (0, "No booking.\n"), err
    assert (
        "mcp: server demo asked for input (How many guests?) but there is no terminal to ask on: declined"
        in err
    )
    tool = [m for m in openai_fake.chat_requests()[1].body["messages"] if m["role"] == "tool"]
    assert tool[0]["content"] == "booking declined"


def test_ask_asks_a_server_question_on_the_terminal(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    """With a controlling terminal the question is asked there, a wrong value asked again."""
    pexpect = pytest.importorskip("pexpect", reason="pexpect is needed to give ask a controlling terminal")
    mcp_config(user_env, openai_fake, extra='env = { MCP_TEST_LEGACY = "1" }\n')
    openai_fake.queue(oai.tool_calls([("call_1", "demo__book", {})]), oai.text(["Booked."]))
    child = pexpect.spawn(
        sys.executable,
        ["-m", "agentchat", "ask", "-m", "gpt-4o-mini", "-T", "demo__book", "book"],
        env=dict(user_env.env, TERM="dumb"),
        cwd=str(user_env.root),
        encoding="utf-8",
        timeout=30,
    )
    child.expect("MCP server demo asks: How many guests\\?")
    child.expect("Guests \\(integer, required\\): ")
    child.sendline("many")
    child.expect("Guests must be a whole number")
    child.expect("Guests \\(integer, required\\): ")
    child.sendline("4")
    child.expect("Confirm \\(boolean, required\\): ")
    child.sendline("y")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    tool = [m for m in openai_fake.chat_requests()[1].body["messages"] if m["role"] == "tool"]
    assert tool[0]["content"] == "booked for 4 (confirmed: True)"


def test_a_tool_added_mid_turn_is_offered_in_the_next_request(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    """The model calls `grow` (the server announces a new tool); the very next request of the same
    turn offers it, and the model's call of it runs."""
    mcp_config(user_env, openai_fake)  # stdio: growing changes that server process only
    openai_fake.queue(
        oai.tool_calls([("call_1", "demo__grow", {})]),
        oai.tool_calls([("call_2", "demo__extra", {})]),
        oai.text(["done"]),
    )
    proc = user_env.run("ask", "-m", "gpt-4o-mini", "--yes", "grow and use it")
    assert proc.returncode == 0, proc.stderr
    first, second, third = (r.body for r in openai_fake.chat_requests())
    offered = [{t["function"]["name"] for t in body["tools"]} for body in (first, second)]
    assert "demo__extra" not in offered[0] and "demo__extra" in offered[1]
    tool = [m for m in third["messages"] if m.get("tool_call_id") == "call_2"]
    assert tool[0]["content"] == "extra here"
