"""Built-in tools, confined to one workspace root.

Every path the model gives is resolved (symlinks included) and must stay inside the root; that
check is the whole sandbox for the file tools, so it lives in one place (`Workspace.resolve`).
run_shell is a shell and is not confined by it: `[tools] sandbox = true` runs it in bubblewrap
(see sandbox.py), and the tool's `caution` says which of the two the user is approving.

Every tool must be stoppable (its timeout, Ctrl-C, Escape): file work runs in a thread and only
ever blocks on a bounded read of a regular file; the regex search runs in a child process
(grep_worker.py), because a catastrophic pattern holds the GIL and would freeze the whole app;
run_shell kills everything it started. Every result is capped at `max_output_bytes` at the
source, reading no more than it shows, with a note telling the model how to see the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
from collections.abc import Awaitable, Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec

from agentchat.config import SECRET_ENV
from agentchat.config.sections import MAX_OUTPUT_BYTES
from agentchat.core.request import Policy, ToolSpec
from agentchat.tools.base import Tool, ToolError
from agentchat.tools.reading import fit, read_page
from agentchat.tools.sandbox import Sandbox, describe, hidden_paths
from agentchat.tools.search import SEARCH_TIMEOUT_S, search
from agentchat.tools.shell import run_command

if TYPE_CHECKING:
    from agentchat.config import Config

Clock = Callable[[], datetime]
P = ParamSpec("P")

NOTE_ROOM = 600  # bytes kept free in every capped result for the note that says how to see more
READ_LIMIT_LINES = 2000
LIST_LIMIT = 1000


@contextlib.contextmanager
def _fs_errors(shown: str) -> Iterator[None]:
    """OS errors become short messages with the workspace-relative path, not an absolute one."""
    try:
        yield
    except OSError as exc:
        raise ToolError(f"{shown}: {exc.strerror or exc}") from None


def _open_regular(target: Path, shown: str, flags: int) -> int:
    """A descriptor for a regular file, opened without blocking. A FIFO or device (even one swapped
    in after a check) would block the thread forever: it cannot be cancelled, and `ask` waits for its
    threads at exit. O_NONBLOCK makes such an open return (or fail) at once; fstat then refuses it."""
    fd = os.open(target, flags | os.O_NONBLOCK | os.O_CLOEXEC, 0o666)
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise ToolError(f"{shown}: {'Is a directory' if stat.S_ISDIR(mode) else 'not a regular file'}")
    os.set_blocking(fd, True)
    return fd


class Workspace:
    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def resolve(self, path: str) -> Path:
        """The real path for `path` (relative to the root, or absolute), refused if it leaves the root."""
        candidate = (self.root / path).resolve()
        if not candidate.is_relative_to(self.root):
            raise ToolError(f"{path}: path escapes the workspace root")
        return candidate

    def show(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix() or "."


class BuiltinTools:
    """Holds the workspace, clock, limits, the sandbox setting and the key variables run_shell must
    not pass on. `secret_env`: variables kept from run_shell's commands (the SDKs' key variables
    always are). `config_file` and `data_dir` are agentchat's, which a sandboxed run_shell does not
    see (see `builtin_options`)."""

    def __init__(
        self,
        root: Path,
        *,
        clock: Clock | None = None,
        shell_timeout_s: float = 120.0,
        secret_env: Iterable[str] = SECRET_ENV,
        max_output_bytes: int = MAX_OUTPUT_BYTES,
        sandbox: bool = False,
        config_file: Path | None = None,
        data_dir: Path | None = None,
        search_timeout_s: float = SEARCH_TIMEOUT_S,
    ) -> None:
        self.ws = Workspace(root)
        self.clock: Clock = clock or (lambda: datetime.now().astimezone())
        self.shell_timeout_s = shell_timeout_s
        self.secret_env = frozenset(SECRET_ENV).union(secret_env)
        self.max_output_bytes = max_output_bytes
        self.budget = max_output_bytes - NOTE_ROOM  # what a result may hold before its note
        self.search_timeout_s = search_timeout_s
        hidden = hidden_paths(self.ws.root, config_file, data_dir)
        self.sandbox = Sandbox(self.ws.root, hidden) if sandbox else None

    def shell_caution(self) -> str:
        """What approving run_shell means, for the approval question of every face."""
        if self.sandbox is not None:
            return describe(self.sandbox.hidden)
        return (
            "not confined to the workspace: the command runs with your rights, so it can read any file "
            "you can (agentchat's config with your API keys, and agentchat's own environment through "
            "/proc), change files anywhere you can and use the network. [tools] sandbox = true "
            "confines it."
        )

    def tools(self) -> list[Tool]:
        path = {"type": "string", "description": "Path relative to the workspace root."}
        confined = (
            " It runs sandboxed: no network, read-only outside the workspace (a private /tmp)."
            if self.sandbox is not None
            else ""
        )
        return [
            _tool(
                "read_file",
                "Read a UTF-8 text file from the workspace. Long files are returned in pages of lines; "
                "use offset (1-based first line) and limit (number of lines) to read further.",
                {
                    "path": path,
                    "offset": {
                        "type": "integer",
                        "minimum": 1,
                        "description": "First line to return (1-based).",
                    },
                    "limit": {"type": "integer", "minimum": 1, "description": "Maximum number of lines."},
                },
                ["path"],
                self.read_file,
                "allow",
                30,
            ),
            _tool(
                "list_dir",
                "List a directory in the workspace; subdirectories end with '/'.",
                {"path": {**path, "default": "."}},
                [],
                self.list_dir,
                "allow",
                30,
            ),
            _tool(
                "search_files",
                "Search file contents in the workspace for a regular expression (or plain text). "
                "Returns matches as path:line: text.",
                {
                    "pattern": {"type": "string", "description": "Python regular expression or plain text."},
                    "path": {**path, "description": "Directory or file to search (default: the root)."},
                    "glob": {"type": "string", "description": "Only files whose name matches, e.g. '*.py'."},
                },
                ["pattern"],
                self.search_files,
                "allow",
                self.search_timeout_s + 10,  # a backstop: the search stops itself at search_timeout_s
            ),
            _tool(
                "write_file",
                "Write a UTF-8 text file in the workspace, replacing it if it exists; parent directories "
                "are created.",
                {
                    "path": path,
                    "content": {"type": "string", "description": "The complete new file content."},
                },
                ["path", "content"],
                self.write_file,
                "ask",
                30,
            ),
            _tool(
                "run_shell",
                "Run a shell command in the workspace root (non-interactive, no stdin). Returns the combined "
                f"stdout and stderr and the exit code; killed after {self.shell_timeout_s:g} s.{confined}",
                {"command": {"type": "string", "description": "The command line, run by bash (or sh)."}},
                ["command"],
                self.run_shell,
                "ask",
                self.shell_timeout_s + 10,
                self.shell_caution(),
            ),
            _tool(
                "now",
                "The current local date and time with timezone (ISO 8601) and the weekday.",
                {},
                [],
                self.now,
                "allow",
                5,
            ),
        ]

    # --- read-only ----------------------------------------------------------------------------
    async def read_file(self, args: dict[str, Any]) -> str:
        return await asyncio.to_thread(
            self._read_file, args["path"], args.get("offset", 1), args.get("limit")
        )

    def _read_file(self, path: str, offset: int, limit: int | None) -> str:
        """A page of lines; it reads only what it shows (plus the skipped lines, in chunks), so a
        300 MB file, or one line of 300 MB, costs no more memory than a small one."""
        target = self.ws.resolve(path)
        shown = self.ws.show(target)
        offset, limit = max(offset, 1), max(limit or READ_LIMIT_LINES, 1)
        with _fs_errors(shown), open(_open_regular(target, shown, os.O_RDONLY), "rb") as fh:
            return read_page(fh, shown, offset, limit, self.budget, self.max_output_bytes)

    async def list_dir(self, args: dict[str, Any]) -> str:
        return await asyncio.to_thread(self._list_dir, args.get("path") or ".")

    def _list_dir(self, path: str) -> str:
        target = self.ws.resolve(path)
        shown = self.ws.show(target)
        with _fs_errors(shown), os.scandir(target) as it:
            entries = sorted((e.name + ("/" if e.is_dir() else "") for e in it), key=str.lower)
        if not entries:
            return f"{shown}: (empty directory)"
        kept = fit(entries[:LIST_LIMIT], self.budget)
        text = "\n".join(kept)
        if len(kept) < len(entries):
            text += f"\n[{len(kept)} of {len(entries)} entries shown]"
        return text

    async def search_files(self, args: dict[str, Any]) -> str:
        target = self.ws.resolve(args.get("path") or ".")
        if not target.exists():
            raise ToolError(f"{self.ws.show(target)}: No such file or directory")
        return await search(
            args["pattern"],
            self.ws.root,
            target,
            args.get("glob"),
            budget=self.budget,
            timeout_s=self.search_timeout_s,
        )

    # --- side effects ---------------------------------------------------------------------------
    async def write_file(self, args: dict[str, Any]) -> str:
        return await asyncio.to_thread(self._write_file, args["path"], args["content"])

    def _write_file(self, path: str, content: str) -> str:
        target = self.ws.resolve(path)
        shown = self.ws.show(target)
        if target.is_dir():
            raise ToolError(f"{shown}: is a directory")
        existed = target.exists()
        if existed and not target.is_file():
            raise ToolError(f"{shown}: not a regular file")  # opening a FIFO blocks its thread forever
        data = content.encode("utf-8")
        with _fs_errors(shown):
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(_open_regular(target, shown, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), "wb") as fh:
                fh.write(data)
        return f"{'replaced' if existed else 'created'} {shown} ({len(data)} bytes)"

    async def run_shell(self, args: dict[str, Any]) -> str:
        # The model chose the command, so it gets no keys (and, sandboxed, cannot read agentchat's).
        env = {name: value for name, value in os.environ.items() if name not in self.secret_env}
        return await run_command(
            args["command"],
            cwd=self.ws.root,
            env=env,
            timeout_s=self.shell_timeout_s,
            max_bytes=self.max_output_bytes,
            sandbox=self.sandbox,
        )

    async def now(self, args: dict[str, Any]) -> str:
        moment = self.clock()
        if moment.tzinfo is None:
            moment = moment.astimezone()
        return f"{moment.isoformat(timespec='seconds')} ({moment.strftime('%A')}, {moment.tzname()})"


def _tool(
    name: str,
    description: str,
    properties: dict[str, Any],
    required: list[str],
    run: Callable[[dict[str, Any]], Awaitable[str]],
    policy: Policy,
    timeout_s: float,
    caution: str = "",
) -> Tool:
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    return Tool(ToolSpec(name, description, schema), run, "built-in", policy, timeout_s, caution)


def builtin_options(config: Config) -> dict[str, Any]:
    """The keyword arguments of `builtin_tools` that the config decides (its `[tools]` view)."""
    from agentchat.config import data_dir as user_data_dir

    tools = config.tools
    return {
        "shell_timeout_s": tools.shell_timeout_s,
        "max_output_bytes": tools.max_output_bytes,
        "sandbox": tools.sandbox,
        "secret_env": config.secret_env(),
        "config_file": config.path,
        "data_dir": user_data_dir(),
    }


def _listing(make: Callable[P, BuiltinTools]) -> Callable[P, list[Tool]]:
    """A function taking what `make` takes and giving its tools: the options are declared once,
    on `BuiltinTools`."""

    def tools(*args: P.args, **kwargs: P.kwargs) -> list[Tool]:
        return make(*args, **kwargs).tools()

    return tools


builtin_tools = _listing(BuiltinTools)
