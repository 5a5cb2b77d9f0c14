"""Built-in tools, confined to one workspace root.

Every path the model gives is resolved (symlinks included) and must stay inside the root; that
check is the whole sandbox for the file tools, so it lives in one place (`Workspace.resolve`).
Blocking file work runs in a thread so a big search never freezes the TUI.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import os
import re
import shutil
import signal
import tempfile
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from agentchat.config import SECRET_ENV
from agentchat.providers.base import ToolSpec
from agentchat.tools.base import Policy, Tool, ToolError

Clock = Callable[[], datetime]

READ_LIMIT_LINES = 2000
READ_BUDGET_CHARS = 90_000  # below the registry's cap so the "read on from offset" note survives
LIST_LIMIT = 1000
SEARCH_LIMIT = 200
SEARCH_LINE_CHARS = 300
SEARCH_MAX_FILE_BYTES = 10_000_000
SHELL_OUTPUT_BYTES = 60_000
SKIP_DIRS = frozenset(
    ".git .hg .svn node_modules __pycache__ .venv .tox .mypy_cache .pytest_cache .ruff_cache".split()
)


def _is_binary(head: bytes) -> bool:
    return b"\0" in head


@contextlib.contextmanager
def _fs_errors(shown: str) -> Iterator[None]:
    """OS errors become short messages with the workspace-relative path, not an absolute one."""
    try:
        yield
    except OSError as exc:
        raise ToolError(f"{shown}: {exc.strerror or exc}") from None


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
    """Holds the workspace, clock, shell timeout and the key variables run_shell must not pass on."""

    def __init__(
        self,
        root: Path,
        *,
        clock: Clock | None = None,
        shell_timeout_s: float = 120.0,
        secret_env: Iterable[str] = SECRET_ENV,
    ) -> None:
        self.ws = Workspace(root)
        self.clock: Clock = clock or (lambda: datetime.now().astimezone())
        self.shell_timeout_s = shell_timeout_s
        self.secret_env = frozenset(SECRET_ENV).union(secret_env)

    def tools(self) -> list[Tool]:
        path = {"type": "string", "description": "Path relative to the workspace root."}
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
                60,
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
                f"stdout and stderr and the exit code; killed after {self.shell_timeout_s:g} s.",
                {"command": {"type": "string", "description": "The command line, run by bash (or sh)."}},
                ["command"],
                self.run_shell,
                "ask",
                self.shell_timeout_s + 10,
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
        target = self.ws.resolve(path)
        shown = self.ws.show(target)
        offset, limit = max(offset, 1), max(limit or READ_LIMIT_LINES, 1)
        if target.exists() and not (target.is_file() or target.is_dir()):
            raise ToolError(f"{shown}: not a regular file")  # a FIFO or device would block the read forever
        with _fs_errors(shown), target.open("rb") as fh:
            if _is_binary(fh.read(8192)):
                raise ToolError(f"{shown}: binary file, not shown")
            fh.seek(0)
            lines: list[str] = []
            used = 0
            lineno = 0
            more = False
            for lineno, raw in enumerate(fh, start=1):
                if lineno < offset:
                    continue
                line = raw.decode("utf-8", errors="replace")
                if len(lines) >= limit or (lines and used + len(line) > READ_BUDGET_CHARS):
                    more = True
                    break
                lines.append(line[:READ_BUDGET_CHARS])
                used += len(lines[-1])
        if not lines:
            return (
                "(empty file)" if lineno == 0 else f"(no lines from offset {offset}; the file has {lineno})"
            )
        text = "".join(lines)
        if more:
            last = offset + len(lines) - 1
            text += f"\n[lines {offset}-{last} shown; the file continues: read again with offset={last + 1}]"
        return text

    async def list_dir(self, args: dict[str, Any]) -> str:
        return await asyncio.to_thread(self._list_dir, args.get("path") or ".")

    def _list_dir(self, path: str) -> str:
        target = self.ws.resolve(path)
        shown = self.ws.show(target)
        with _fs_errors(shown), os.scandir(target) as it:
            entries = sorted((e.name + ("/" if e.is_dir() else "") for e in it), key=str.lower)
        if not entries:
            return f"{shown}: (empty directory)"
        text = "\n".join(entries[:LIST_LIMIT])
        if len(entries) > LIST_LIMIT:
            text += f"\n[{LIST_LIMIT} of {len(entries)} entries shown]"
        return text

    async def search_files(self, args: dict[str, Any]) -> str:
        stop = threading.Event()
        try:
            return await asyncio.to_thread(
                self._search, args["pattern"], args.get("path") or ".", args.get("glob"), stop
            )
        finally:
            stop.set()  # a timed-out or cancelled search stops walking instead of running on in its thread

    def _search(self, pattern: str, path: str, glob: str | None, stop: threading.Event) -> str:
        try:
            regex = re.compile(pattern)
        except re.error:
            regex = re.compile(re.escape(pattern))
        target = self.ws.resolve(path)
        if not target.exists():
            raise ToolError(f"{self.ws.show(target)}: No such file or directory")
        matches: list[str] = []
        for file in self._files(target, glob):
            if stop.is_set():
                break
            for lineno, line in _grep(file, regex):
                if len(matches) == SEARCH_LIMIT:
                    return "\n".join(matches) + f"\n[first {SEARCH_LIMIT} matches shown; narrow the search]"
                matches.append(f"{self.ws.show(file)}:{lineno}: {line[:SEARCH_LINE_CHARS]}")
        return "\n".join(matches) if matches else f"no matches for {pattern!r}"

    def _files(self, target: Path, glob: str | None) -> Iterator[Path]:
        """Files under target in a stable order, skipping VCS/cache dirs and links that leave the root."""
        if target.is_file():
            yield target
            return
        for dirpath, dirnames, filenames in os.walk(target):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
            for name in sorted(filenames):
                file = Path(dirpath, name)
                rel = file.relative_to(self.ws.root).as_posix()
                if glob and not (fnmatch.fnmatch(name, glob) or fnmatch.fnmatch(rel, glob)):
                    continue
                real = file.resolve()
                if real.is_relative_to(self.ws.root) and real.is_file():
                    yield file

    # --- side effects ---------------------------------------------------------------------------
    async def write_file(self, args: dict[str, Any]) -> str:
        return await asyncio.to_thread(self._write_file, args["path"], args["content"])

    def _write_file(self, path: str, content: str) -> str:
        target = self.ws.resolve(path)
        shown = self.ws.show(target)
        if target.is_dir():
            raise ToolError(f"{shown}: is a directory")
        existed = target.exists()
        data = content.encode("utf-8")
        with _fs_errors(shown):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return f"{'replaced' if existed else 'created'} {shown} ({len(data)} bytes)"

    async def run_shell(self, args: dict[str, Any]) -> str:
        # Output goes to a file, not a pipe: a background child that keeps the pipe open would
        # otherwise hold the call until the timeout. The model chose the command, so it gets no keys.
        env = {name: value for name, value in os.environ.items() if name not in self.secret_env}
        with tempfile.TemporaryFile() as out:
            proc = await asyncio.create_subprocess_shell(
                args["command"],
                cwd=self.ws.root,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # its own process group, so a kill reaches every child
                executable=shutil.which("bash"),
            )
            try:
                async with asyncio.timeout(self.shell_timeout_s):
                    code = await proc.wait()
            except TimeoutError:
                raise ToolError(
                    f"command timed out after {self.shell_timeout_s:g} s and was killed\n{_tail(out)}"
                ) from None
            finally:
                if proc.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    await proc.wait()
            return f"{_tail(out) or '(no output)'}\n[exit code: {code}]"

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
) -> Tool:
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    return Tool(ToolSpec(name, description, schema), run, "built-in", policy, timeout_s)


def _grep(file: Path, regex: re.Pattern[str]) -> Iterator[tuple[int, str]]:
    try:
        if file.stat().st_size > SEARCH_MAX_FILE_BYTES:
            return
        with file.open("rb") as fh:
            if _is_binary(fh.read(8192)):
                return
            fh.seek(0)
            for lineno, raw in enumerate(fh, start=1):
                line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                if regex.search(line):
                    yield lineno, line
    except OSError:
        return  # unreadable files are skipped, like grep -s


def _tail(out: IO[bytes]) -> str:
    """The captured output; if it is too long, its head and tail (errors tend to be at the end)."""
    size = out.seek(0, os.SEEK_END)
    out.seek(0)
    if size <= SHELL_OUTPUT_BYTES:
        data = out.read()
    else:
        half = SHELL_OUTPUT_BYTES // 2
        head = out.read(half)
        out.seek(size - half)
        data = head + f"\n[... {size - 2 * half} bytes omitted ...]\n".encode() + out.read()
    return data.decode("utf-8", errors="replace").rstrip("\n")


def builtin_tools(
    root: Path,
    *,
    clock: Clock | None = None,
    shell_timeout_s: float = 120.0,
    secret_env: Iterable[str] = SECRET_ENV,
) -> list[Tool]:
    """`secret_env`: variables kept from run_shell's commands (the SDKs' key variables always are)."""
    return BuiltinTools(root, clock=clock, shell_timeout_s=shell_timeout_s, secret_env=secret_env).tools()
