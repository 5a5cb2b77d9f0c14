"""Built-in tools and the registry, driven through `ToolRegistry.call` as the engine drives them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import signal
import socket
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from agentchat.config import Config, load_config
from agentchat.core.errors import ConfigError
from agentchat.core.messages import ToolCallPart, ToolResultPart
from agentchat.core.request import ToolSpec
from agentchat.tools.base import Tool, is_valid_name, sanitize_name
from agentchat.tools.builtin import builtin_options, builtin_tools
from agentchat.tools.registry import ToolRegistry, build_registry
from agentchat.tools.sandbox import bwrap_path, unavailable_reason

ESCAPE = "path escapes the workspace root"
NO_SANDBOX = unavailable_reason(bwrap_path())
needs_sandbox = pytest.mark.skipif(NO_SANDBOX is not None, reason=f"no sandbox on this machine: {NO_SANDBOX}")
# Python's re needs about 2**n steps for `(a+)+$` on n a's and a b: hours for 40, ~20 s for 28.
CATASTROPHIC = "(a+)+$"


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


@pytest.mark.parametrize(
    "child",
    [
        pytest.param("sleep 30", id="in-its-group"),
        # `setsid` (or a daemonising double fork) escapes the process-group kill: the call's marker does not
        pytest.param("setsid sleep 30", id="left-its-group"),
    ],
)
async def test_cancelled_shell_call_kills_its_children(root: Path, child: str) -> None:
    """The registry's own deadline (a hung tool) cancels run_shell, which must not leave processes."""
    reg = registry(root, shell_timeout_s=30)
    tool = reg.get("run_shell")
    assert tool is not None
    tool.timeout_s = 0.5
    message = await failed(reg, "run_shell", command=f"{child} & echo $! > child.pid; wait")
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


# --- every tool can be stopped ------------------------------------------------------------------


async def _stalls_while(awaitable: Any) -> tuple[Any, float, float]:
    """(result, seconds taken, longest gap between event-loop ticks) of awaiting `awaitable`: a long
    gap is what a user sees as a frozen TUI and an ignored Ctrl-C."""
    gaps: list[float] = []

    async def ticker() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.02)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    started = time.monotonic()
    try:
        result = await awaitable
    finally:
        tick.cancel()
    return result, time.monotonic() - started, max(gaps, default=0.0)


async def _child(name: str) -> int:
    """The pid of this process's child whose command line mentions `name`, once it runs."""
    for _ in range(1000):
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/children") as fh:
                for pid in fh.read().split():
                    with contextlib.suppress(OSError), open(f"/proc/{pid}/cmdline", "rb") as cmd:
                        if name.encode() in cmd.read():
                            return int(pid)
        await asyncio.sleep(0.01)
    raise AssertionError(f"no child process {name} started")


@pytest.mark.exclusive  # measures time
async def test_a_catastrophic_search_is_stopped_at_the_tool_timeout_without_freezing_the_app(
    root: Path,
) -> None:
    """Before: `re` held the GIL in the search thread for the whole match, so the 1 s timeout fired
    after 10-20 s (hours for a longer line) and the event loop stood still all that time."""
    (root / "evil.txt").write_text("a" * 28 + "b\n")
    reg = registry(root)
    tool = reg.get("search_files")
    assert tool is not None
    tool.timeout_s = 1.0
    (result, _), elapsed, stall = await _stalls_while(call(reg, "search_files", pattern=CATASTROPHIC))
    assert result.content == "error: search_files timed out after 1 s and was stopped"
    assert elapsed < 3 and stall < 0.5, (elapsed, stall)


@pytest.mark.exclusive  # measures time
async def test_cancelling_a_search_kills_it_at_once(root: Path) -> None:
    """Ctrl-C in `ask` and Escape in the TUI cancel the tool's task: the search process dies with it."""
    (root / "evil.txt").write_text("a" * 40 + "b\n")
    task = asyncio.create_task(call(registry(root), "search_files", pattern=CATASTROPHIC))
    worker = await _child("grep_worker")
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 1
    assert _exits(worker)


async def test_a_search_stops_at_its_own_limit_and_keeps_what_it_found(root: Path) -> None:
    (root / "a_first.txt").write_text("aaaa\n")
    (root / "evil.txt").write_text("a" * 40 + "b\n")
    reg = registry(root, search_timeout_s=0.5)
    partial = await ok(reg, "search_files", pattern=CATASTROPHIC)
    assert partial.startswith("a_first.txt:1: aaaa\n[the search was stopped after 0.5 s before it finished")
    assert "simplify the pattern" in partial and partial.endswith("the matches above were found before that]")
    nothing = await failed(reg, "search_files", pattern=CATASTROPHIC, path="evil.txt")
    assert "stopped after 0.5 s" in nothing and nothing.endswith("no match was found before that")


async def test_a_fifo_is_refused_instead_of_blocking_a_thread_forever(root: Path) -> None:
    """A thread blocked in open() cannot be cancelled, and `ask` waits for its threads at exit."""
    os.mkfifo(root / "pipe")
    reg = registry(root)
    assert await failed(reg, "write_file", path="pipe", content="x") == "error: pipe: not a regular file"
    assert await failed(reg, "read_file", path="pipe") == "error: pipe: not a regular file"


# --- output caps --------------------------------------------------------------------------------


async def test_read_file_shows_the_start_of_a_huge_line_with_a_note(root: Path) -> None:
    """Before: a line was read and decoded whole (a 300 MB line: ~880 MB of memory), and the text
    was cut at 90,000 characters with no note at all."""
    (root / "minified.js").write_text("x" * 5_000_000 + "\nsecond\n")
    content = await ok(registry(root, max_output_bytes=10_000), "read_file", path="minified.js")
    assert len(content.encode()) <= 10_000
    assert content.startswith("x" * 9_400 + "\n[line 1 is longer than the output limit (10,000 bytes)")
    assert "only its first 9,400 bytes are shown (minified.js is 5,000,008 bytes)" in content
    assert content.endswith("the next line is offset=2]")
    assert await ok(registry(root), "read_file", path="minified.js", offset=2) == "second\n"


async def test_read_file_pages_stay_within_the_byte_limit(root: Path) -> None:
    (root / "log.txt").write_text(
        "".join(f"{i:04d} {'.' * 94}\n" for i in range(1, 1001))
    )  # 100 bytes a line
    reg = registry(root, max_output_bytes=10_000)
    first = await ok(reg, "read_file", path="log.txt")
    assert len(first.encode()) <= 10_000
    assert first.startswith("0001 ") and "\n0094 " in first and "\n0095 " not in first
    assert first.endswith(
        "[lines 1-94 shown (9,400 bytes of 100,000); the file continues: read again with offset=95]"
    )
    assert (await ok(reg, "read_file", path="log.txt", offset=95)).startswith("0095 ")
    assert (await ok(reg, "read_file", path="log.txt", offset=999)).startswith("0999 ")
    assert (
        await ok(reg, "read_file", path="log.txt", offset=1001)
        == "(no lines from offset 1001; the file has 1000)"
    )


async def test_read_file_cuts_between_characters_and_counts_a_last_line_without_newline(root: Path) -> None:
    (root / "accents.txt").write_text("é" * 10_000)
    content = await ok(registry(root, max_output_bytes=5_000), "read_file", path="accents.txt")
    assert content.startswith("é" * 2_200 + "\n[line 1 is longer") and "\ufffd" not in content
    (root / "two.txt").write_text("a\nb")
    reg = registry(root)
    assert await ok(reg, "read_file", path="two.txt", offset=2) == "b"
    assert await ok(reg, "read_file", path="two.txt", offset=3) == "(no lines from offset 3; the file has 2)"
    (root / "empty.txt").write_text("")
    assert await ok(reg, "read_file", path="empty.txt") == "(empty file)"


async def test_binary_files_get_a_message_not_a_dump(root: Path) -> None:
    reg = registry(root)
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10)
    (root / "blob.dat").write_bytes(bytes(range(128, 256)) * 40)
    assert await failed(reg, "read_file", path="logo.png") == (
        "error: logo.png: binary file (a PNG image, 2,568 bytes), not shown: read_file shows text only"
    )
    assert "binary file (not UTF-8 text, 5,120 bytes)" in await failed(reg, "read_file", path="blob.dat")
    (root / "latin1.txt").write_bytes("café olé\n".encode("latin-1") * 20)  # mostly text: shown
    assert (await ok(reg, "read_file", path="latin1.txt")).startswith("caf\ufffd ol\ufffd\n")


async def test_run_shell_output_is_capped_head_and_tail(root: Path) -> None:
    out = await ok(
        registry(root, max_output_bytes=5_000),
        "run_shell",
        command="echo the-start; head -c 200000 /dev/zero | tr '\\0' x; echo; echo the-end",
    )
    assert len(out.encode()) <= 5_000 + len("\n[exit code: 0]")
    assert out.startswith("the-start\nxxx") and out.endswith("xxx\nthe-end\n[exit code: 0]")
    assert "bytes of output omitted: it was 200,019 bytes and the limit is 5,000" in out
    assert "send the output to a file in the workspace and read it with read_file" in out


async def test_search_and_list_results_are_capped_in_bytes(root: Path) -> None:
    (root / "wide.txt").write_text(("match " + "w" * 290 + "\n") * 100)
    reg = registry(root, max_output_bytes=5_000)
    found = await ok(reg, "search_files", pattern="match", path="wide.txt")
    assert len(found.encode()) <= 5_000
    assert found.endswith("[first 14 matches shown; narrow the search (path, glob or pattern)]")
    many = root / "many"
    many.mkdir()
    for i in range(500):
        (many / f"file-with-a-long-descriptive-name-{i:04d}.txt").touch()
    listing = await ok(reg, "list_dir", path="many")
    assert len(listing.encode()) <= 5_000 and listing.endswith("[102 of 500 entries shown]")


async def test_search_names_the_files_too_big_to_search(root: Path) -> None:
    (root / "huge.log").write_text("needle\n" * 1_500_000)  # 10.5 MB
    found = await ok(registry(root), "search_files", pattern="needle")
    assert found == "no matches for 'needle'\n[not searched: 1 file(s) over 10 MB (huge.log)]"


def test_tools_settings_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    options = builtin_options(Config(path, {"tools": {"max_output_bytes": 20_000, "sandbox": True}}))
    assert (options["max_output_bytes"], options["sandbox"], options["config_file"]) == (20_000, True, path)
    defaults = builtin_options(Config(path, {}))
    assert (defaults["max_output_bytes"], defaults["sandbox"], defaults["shell_timeout_s"]) == (
        100_000,
        False,
        120,
    )
    for bad, key in [
        ({"max_output_bytes": 100}, "max_output_bytes"),
        ({"max_output_bytes": "1MB"}, "max_output_bytes"),
        ({"sandbox": "yes"}, "sandbox"),
    ]:
        with pytest.raises(ConfigError, match=f"^{path}: tools.{key} must be "):
            builtin_options(Config(path, {"tools": bad}))


# --- run_shell: what it can reach, and the sandbox ----------------------------------------------


@pytest.fixture
def home() -> Iterator[Path]:
    """A directory outside /tmp, which the sandbox replaces with an empty one of its own: what it
    hides or keeps read-only there is then visible to the test."""
    with tempfile.TemporaryDirectory(dir="/var/tmp", prefix="agentchat-test-") as path:
        yield Path(path)


def _world(home: Path, monkeypatch: pytest.MonkeyPatch, sandbox: bool) -> tuple[Path, Path, Path]:
    """A user's config dir with a key in it, a data dir, and a directory outside the workspace."""
    config_dir = home / ".config" / "agentchat"
    config_dir.mkdir(parents=True)
    config_file = config_dir / "config.toml"
    config_file.write_text(
        f'[providers.openai]\napi_key = "sk-file-SECRET"\n[tools]\nsandbox = {str(sandbox).lower()}\n'
    )
    data = home / "data"
    data.mkdir()
    (data / "history.db").write_text("a conversation with a SECRET")
    monkeypatch.setenv("AGENTCHAT_DATA_DIR", str(data))
    outside = home / "outside"
    outside.mkdir()
    return config_file, data, outside


@pytest.mark.parametrize("sandbox", [False, pytest.param(True, marks=needs_sandbox)])
async def test_sandbox_hides_the_keys_and_confines_the_command(
    root: Path, home: Path, monkeypatch: pytest.MonkeyPatch, sandbox: bool
) -> None:
    """Unconfined (the default), an approved command reads the config file's key and writes outside
    the workspace, as README says; sandboxed it cannot, nor reach a server on this machine."""
    config_file, data, outside = _world(home, monkeypatch, sandbox)
    reg = ToolRegistry(builtin_tools(root, **builtin_options(load_config(config_file))))
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    script = (
        f"cat {config_file} {data}/history.db; cat /proc/*/environ | tr '\\0' '\\n' | grep -c SECRET; "
        f"(exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null && echo NET-OPEN || echo NET-CLOSED; "
        f"touch {outside}/written; echo kept > in-workspace.txt; echo tmp > /tmp/scratch && echo TMP-OK; "
        "echo run-entries=$(ls -A /run | wc -l)"
    )
    with listener:
        out = await ok(reg, "run_shell", command=script)
    assert (root / "in-workspace.txt").read_text() == "kept\n"
    assert "TMP-OK" in out
    if not sandbox:
        assert "sk-file-SECRET" in out and "NET-OPEN" in out and (outside / "written").exists()
        return
    assert "SECRET" not in out, out
    assert "NET-CLOSED" in out and not (outside / "written").exists()
    assert "run-entries=0" in out  # no docker, D-Bus or agent sockets to connect to
    assert f"touch: cannot touch '{outside}/written': Read-only file system" in out


async def test_a_requested_sandbox_that_cannot_run_refuses_the_command(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never silently unconfined: no bwrap, or a bwrap that cannot create namespaces here."""
    reg = registry(root, sandbox=True)
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    message = await failed(reg, "run_shell", command="touch ran")
    assert message == (
        "error: not run: [tools] sandbox = true, but bwrap is not installed (the Debian/Ubuntu package `bubblewrap`)"
    )
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "bwrap").write_text(
        "#!/bin/sh\necho 'bwrap: No permissions to create a new namespace' >&2\nexit 1\n"
    )
    (fake_bin / "bwrap").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_bin}:/usr/bin:/bin")
    message = await failed(reg, "run_shell", command="touch ran")
    assert message == (
        "error: not run: [tools] sandbox = true, but bwrap cannot create a sandbox here: "
        "bwrap: No permissions to create a new namespace"
    )
    assert not (root / "ran").exists()


async def test_run_shell_says_what_approving_it_means(root: Path, tmp_path: Path) -> None:
    """The caution every face shows with the approval question, true of the tool as configured."""
    tools = {t.name: t for t in builtin_tools(root)}
    assert "not confined to the workspace" in tools["run_shell"].caution
    assert "API keys" in tools["run_shell"].caution and "sandbox = true" in tools["run_shell"].caution
    assert [name for name, t in tools.items() if t.caution] == ["run_shell"]
    config_dir = tmp_path / "agentchat"
    config_dir.mkdir()
    boxed = {
        t.name: t
        for t in builtin_tools(
            root, sandbox=True, config_file=config_dir / "config.toml", data_dir=tmp_path / "d"
        )
    }
    assert boxed["run_shell"].caution.startswith("sandboxed (bubblewrap): no network, read-only outside")
    assert f"hidden: {config_dir}" in boxed["run_shell"].caution
    assert "sandboxed: no network" in boxed["run_shell"].spec.description


def test_an_orphaned_search_worker_stops_itself(root: Path) -> None:
    """A worker whose parent was killed (kill -9 mid-search) cannot be killed by it: the kernel
    stops it after its CPU limit instead of it spinning for hours (one did for ten minutes)."""
    import json
    import subprocess
    import sys

    from agentchat.tools.search import GREP_WORKER

    (root / "evil.txt").write_text("a" * 40 + "b\n")
    request = {
        "pattern": CATASTROPHIC, "root": str(root), "target": str(root), "glob": None,
        "max_file_bytes": 10_000_000, "line_chars": 300, "skip_dirs": [], "cpu_limit_s": 1,
    }  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-I", "-S", str(GREP_WORKER)],
        input=json.dumps(request).encode(),
        capture_output=True,
        timeout=30,
    )
    assert proc.returncode == -signal.SIGXCPU
