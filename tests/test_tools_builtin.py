"""Built-in tools and the registry, driven through `ToolRegistry.call` as the engine drives them."""

from __future__ import annotations

import asyncio
import os
import select
import signal
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from agentchat.config import Config
from agentchat.core.messages import ToolCallPart, ToolResultPart
from agentchat.providers.base import ToolSpec
from agentchat.tools.base import Tool, is_valid_name, sanitize_name
from agentchat.tools.builtin import builtin_tools
from agentchat.tools.registry import ToolRegistry, build_registry

ESCAPE = "path escapes the workspace root"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    (work / "src" / "pkg").mkdir(parents=True)
    (work / "src" / "pkg" / "mod.py").write_text("import os\n\ndef hello():\n    return 'hi'  # greet\n")
    (work / "notes.txt").write_text("first line\nsecond line\nthird line\n")
    (work / ".git").mkdir()
    (work / ".git" / "config").write_text("def hello in git internals\n")
    return work


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "outside"
    secret.mkdir()
    (secret / "secret.txt").write_text("def hello: top secret\n")
    return secret


def registry(root: Path, **kwargs: Any) -> ToolRegistry:
    return ToolRegistry(builtin_tools(root, **kwargs))


async def call(reg: ToolRegistry, name: str, **arguments: Any) -> tuple[ToolResultPart, str]:
    return await reg.call(ToolCallPart(id="call_1", name=name, arguments=arguments))


async def ok(reg: ToolRegistry, name: str, **arguments: Any) -> str:
    result, status = await call(reg, name, **arguments)
    assert (status, result.is_error) == ("done", False), result.content
    assert (result.call_id, result.name) == ("call_1", name)
    return result.content


async def failed(reg: ToolRegistry, name: str, **arguments: Any) -> str:
    result, status = await call(reg, name, **arguments)
    assert (status, result.is_error) == ("failed", True), result.content
    return result.content


# --- read / list / search ---------------------------------------------------------------------


async def test_read_file_whole_and_by_lines(root: Path) -> None:
    reg = registry(root)
    assert await ok(reg, "read_file", path="notes.txt") == "first line\nsecond line\nthird line\n"
    page = await ok(reg, "read_file", path="notes.txt", offset=2, limit=1)
    assert page.startswith("second line\n")
    assert "read again with offset=3" in page
    assert await ok(reg, "read_file", path=str(root / "notes.txt"), offset=3) == "third line\n"


async def test_read_file_errors_are_short_and_relative(root: Path) -> None:
    reg = registry(root)
    (root / "blob.bin").write_bytes(b"\x00\x01\x02")
    assert (
        await failed(reg, "read_file", path="missing.txt") == "error: missing.txt: No such file or directory"
    )
    assert "binary file" in await failed(reg, "read_file", path="blob.bin")
    assert "Is a directory" in await failed(reg, "read_file", path="src")


async def test_list_dir_marks_directories_and_defaults_to_root(root: Path) -> None:
    reg = registry(root)
    assert (await ok(reg, "list_dir")).splitlines() == [".git/", "notes.txt", "src/"]
    assert await ok(reg, "list_dir", path="src/pkg") == "mod.py"
    assert "Not a directory" in await failed(reg, "list_dir", path="notes.txt")


async def test_search_files_regex_plain_text_and_glob(root: Path) -> None:
    reg = registry(root)
    # a regex; .git is skipped
    assert await ok(reg, "search_files", pattern=r"def \w+\(") == "src/pkg/mod.py:3: def hello():"
    # not a valid regex: searched as plain text
    assert await ok(reg, "search_files", pattern="hello(") == "src/pkg/mod.py:3: def hello():"
    assert await ok(reg, "search_files", pattern="line", glob="*.py") == "no matches for 'line'"
    assert (await ok(reg, "search_files", pattern="line", path="notes.txt")).splitlines() == [
        "notes.txt:1: first line",
        "notes.txt:2: second line",
        "notes.txt:3: third line",
    ]


async def test_search_files_caps_matches(root: Path) -> None:
    (root / "many.txt").write_text("match\n" * 500)
    lines = (await ok(registry(root), "search_files", pattern="match")).splitlines()
    assert len(lines) == 201
    assert lines[199] == "many.txt:200: match"
    assert "narrow the search" in lines[200]


# --- write / shell / now ------------------------------------------------------------------------


async def test_write_file_creates_parents_and_replaces(root: Path) -> None:
    reg = registry(root)
    assert await ok(reg, "write_file", path="new/deep/file.txt", content="héllo\n") == (
        "created new/deep/file.txt (7 bytes)"
    )
    assert (root / "new" / "deep" / "file.txt").read_text() == "héllo\n"
    assert await ok(reg, "write_file", path="notes.txt", content="") == "replaced notes.txt (0 bytes)"
    assert (root / "notes.txt").read_text() == ""
    assert "is a directory" in await failed(reg, "write_file", path="src", content="x")


async def test_run_shell_reports_output_and_exit_code_in_the_root(root: Path) -> None:
    reg = registry(root)
    out = await ok(reg, "run_shell", command="pwd; echo oops >&2; exit 3")
    assert out == f"{root.resolve()}\noops\n[exit code: 3]"
    assert await ok(reg, "run_shell", command="true") == "(no output)\n[exit code: 0]"


async def test_run_shell_does_not_wait_for_background_children(root: Path) -> None:
    out = await ok(registry(root), "run_shell", command="sleep 30 & echo $!")
    os.kill(int(out.splitlines()[0]), signal.SIGKILL)
    assert out.endswith("[exit code: 0]")


async def test_run_shell_timeout_from_config_kills_the_process_group(root: Path, tmp_path: Path) -> None:
    config = Config(tmp_path / "config.toml", {"tools": {"shell_timeout": 0.5}})
    reg = build_registry(config, root, plugins=False)
    message = await failed(reg, "run_shell", command="sleep 30 & echo $! > child.pid; echo started; wait")
    assert message.startswith("error: command timed out after 0.5 s and was killed\nstarted")
    assert _exits(int((root / "child.pid").read_text()))


async def test_run_shell_gets_no_api_keys(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model chooses the command: `env` must not show it the user's keys, the config's api_key_env included."""
    secrets = {
        "OPENAI_API_KEY": "sk-oai-SECRET",
        "ANTHROPIC_API_KEY": "sk-ant-SECRET",
        "ANTHROPIC_AUTH_TOKEN": "ant-token-SECRET",
        "OLLAMA_API_KEY": "ollama-SECRET",
        "OR_KEY": "or-SECRET",
    }
    for name, value in {**secrets, "AGENTCHAT_TEST_VISIBLE": "still-here"}.items():
        monkeypatch.setenv(name, value)
    router = {"type": "openai", "base_url": "http://127.0.0.1:9/v1", "api_key_env": "OR_KEY"}
    reg = build_registry(
        Config(tmp_path / "config.toml", {"providers": {"router": router}}), root, plugins=False
    )
    out = await ok(reg, "run_shell", command="env")
    assert "AGENTCHAT_TEST_VISIBLE=still-here" in out  # the rest of the environment is passed on
    assert not [name for name, value in secrets.items() if name in out or value in out]
    bare = await ok(registry(root), "run_shell", command="env")  # without a config: the SDKs' variables
    assert "sk-oai-SECRET" not in bare and "ant-token-SECRET" not in bare and "or-SECRET" in bare


async def test_cancelled_shell_call_kills_its_children(root: Path) -> None:
    """The registry's own deadline (a hung tool) cancels run_shell, which must not leave processes."""
    reg = registry(root, shell_timeout_s=30)
    tool = reg.get("run_shell")
    assert tool is not None
    tool.timeout_s = 0.5
    message = await failed(reg, "run_shell", command="sleep 30 & echo $! > child.pid; wait")
    assert message == "error: run_shell timed out after 0.5 s and was stopped"
    assert _exits(int((root / "child.pid").read_text()))


def _exits(pid: int) -> bool:
    """Whether the process exits (SIGKILL lands asynchronously); waits on a pidfd, not a sleep loop."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([fd], [], [], 5)[0])
    finally:
        os.close(fd)


async def test_now_uses_the_injected_clock(root: Path) -> None:
    moment = datetime(2025, 3, 4, 5, 6, 7, tzinfo=timezone(timedelta(hours=2), "CEST"))
    reg = registry(root, clock=lambda: moment)
    assert await ok(reg, "now") == "2025-03-04T05:06:07+02:00 (Tuesday, CEST)"
    naive = registry(root, clock=lambda: datetime(2025, 3, 4, 5, 6, 7))
    assert (await ok(naive, "now")).startswith("2025-03-04T05:06:07")


async def test_default_policies() -> None:
    tools = {t.name: t.default_policy for t in builtin_tools(Path("."))}
    assert tools == {
        "read_file": "allow",
        "list_dir": "allow",
        "search_files": "allow",
        "now": "allow",
        "write_file": "ask",
        "run_shell": "ask",
    }


# --- the workspace boundary ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("read_file", {"path": "../outside/secret.txt"}),
        ("read_file", {"path": "src/../../outside/secret.txt"}),
        ("read_file", {"path": "{outside}/secret.txt"}),
        ("read_file", {"path": "link/secret.txt"}),
        ("read_file", {"path": "filelink"}),
        ("list_dir", {"path": ".."}),
        ("list_dir", {"path": "link"}),
        ("search_files", {"pattern": "hello", "path": "link"}),
        ("search_files", {"pattern": "hello", "path": ".."}),
        ("write_file", {"path": "../outside/new.txt", "content": "x"}),
        ("write_file", {"path": "link/new.txt", "content": "x"}),
        ("write_file", {"path": "{outside}/new.txt", "content": "x"}),
    ],
)
async def test_paths_outside_the_root_are_refused(
    root: Path, outside: Path, tool: str, arguments: dict[str, str]
) -> None:
    (root / "link").symlink_to(outside)
    (root / "filelink").symlink_to(outside / "secret.txt")
    arguments = {k: v.format(outside=outside) for k, v in arguments.items()}
    message = await failed(registry(root), tool, **arguments)
    assert ESCAPE in message
    assert "secret" not in message.replace("secret.txt", "")
    assert not (outside / "new.txt").exists()


async def test_search_skips_links_that_leave_the_root(root: Path, outside: Path) -> None:
    (root / "link").symlink_to(outside)
    (root / "filelink.txt").symlink_to(outside / "secret.txt")
    assert await ok(registry(root), "search_files", pattern="top secret") == "no matches for 'top secret'"


# --- registry error paths ---------------------------------------------------------------------


def _tool(name: str, run: Any, *, timeout_s: float = 5, schema: dict[str, Any] | None = None) -> Tool:
    return Tool(
        ToolSpec(name, "test tool", schema or {"type": "object", "properties": {}}), run, timeout_s=timeout_s
    )


async def test_unknown_tool(root: Path) -> None:
    message = await failed(registry(root), "delete_everything")
    assert message.startswith("error: unknown tool 'delete_everything'; available: read_file, list_dir")


async def test_arguments_are_checked_before_the_tool_runs(root: Path) -> None:
    reg = registry(root)
    assert "missing required argument 'path'" in await failed(reg, "read_file")
    assert "argument 'offset' must be integer, not string" in await failed(
        reg, "read_file", path="a", offset="2"
    )
    assert "argument 'offset' must be integer, not boolean" in await failed(
        reg, "read_file", path="a", offset=True
    )
    assert "unexpected argument 'mode'" in await failed(reg, "write_file", path="a", content="", mode="w")
    raw = await failed(reg, "read_file", _raw='{"path": "notes.t')
    assert raw == 'error: read_file: the arguments are not valid JSON: \'{"path": "notes.t\''
    assert not (root / "a").exists()


async def test_a_raising_tool_becomes_an_error_result() -> None:
    async def boom(args: dict[str, Any]) -> str:
        raise ValueError("the widget is broken")

    assert (
        await failed(ToolRegistry([_tool("boom", boom)]), "boom") == "error: ValueError: the widget is broken"
    )


async def test_a_hanging_tool_is_cancelled_at_its_timeout() -> None:
    cancelled = asyncio.Event()

    async def hang(args: dict[str, Any]) -> str:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "never"

    message = await failed(ToolRegistry([_tool("hang", hang, timeout_s=0.05)]), "hang")
    assert message == "error: hang timed out after 0.05 s and was stopped"
    assert cancelled.is_set()


async def test_a_tool_raising_timeout_itself_is_not_reported_as_our_timeout() -> None:
    async def slow_upstream(args: dict[str, Any]) -> str:
        raise TimeoutError("upstream API timed out")

    message = await failed(ToolRegistry([_tool("api", slow_upstream)]), "api")
    assert message == "error: TimeoutError: upstream API timed out"


async def test_non_string_output_and_oversized_output() -> None:
    async def number(args: dict[str, Any]) -> Any:
        return 42

    async def huge(args: dict[str, Any]) -> str:
        return "x" * 150_000

    reg = ToolRegistry([_tool("number", number), _tool("huge", huge)])
    assert await failed(reg, "number") == "error: number returned int instead of text"
    content = await ok(reg, "huge")
    assert content.startswith("x" * 100_000 + "\n[truncated: 50000 more characters")


async def test_specs_filter_and_name_clash(root: Path) -> None:
    async def run(args: dict[str, Any]) -> str:
        return ""

    reg = registry(root)
    assert [s.name for s in reg.specs(["now", "read_file", "nope"])] == ["read_file", "now"]
    assert not reg.add(Tool(ToolSpec("now", "impostor"), run, source="plugin:evil"))
    assert reg.get("now") is not None and reg.get("now").source == "built-in"  # type: ignore[union-attr]
    assert reg.errors == {"plugin:evil/now": "tool now clashes with the one from built-in; not loaded"}


def test_tool_names_must_suit_every_provider() -> None:
    async def run(args: dict[str, Any]) -> str:
        return ""

    with pytest.raises(ValueError, match="invalid tool name"):
        Tool(ToolSpec("weather.get", ""), run)
    assert sanitize_name("weather.get/v2 beta") == "weather_get_v2_beta"
    long_a, long_b = sanitize_name("s__" + "a" * 70 + "1"), sanitize_name("s__" + "a" * 70 + "2")
    assert is_valid_name(long_a) and is_valid_name(long_b) and long_a != long_b
