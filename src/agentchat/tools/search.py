"""search_files' side of the search: start grep_worker.py, read its matches, stop it.

The worker is a child process because Python's `re` holds the GIL for the whole of one match: a
catastrophic pattern run in a thread froze the event loop, so neither the tool timeout nor Ctrl-C
nor the TUI's Escape could act. A process is killed at once, whatever it is doing: at the search's
own time limit (the model then gets the matches found so far and why it stopped), when enough
matches are in, or when the call is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from agentchat.tools.base import ToolError

SEARCH_LIMIT = 200
SEARCH_LINE_CHARS = 300
SEARCH_MAX_FILE_BYTES = 10_000_000
SEARCH_TIMEOUT_S = 30.0
GREP_WORKER = Path(__file__).with_name("grep_worker.py")
SKIP_DIRS = frozenset(
    ".git .hg .svn node_modules __pycache__ .venv .tox .mypy_cache .pytest_cache .ruff_cache".split()
)


async def search(
    pattern: str, root: Path, target: Path, glob: str | None, *, budget: int, timeout_s: float
) -> str:
    """Matching lines as `path:line: text` (at most SEARCH_LIMIT, `budget` bytes), stopped after
    `timeout_s`; the worker never outlives the call."""
    request = {
        "pattern": pattern,
        "root": str(root),
        "target": str(target),
        "glob": glob,
        "skip_dirs": sorted(SKIP_DIRS),
        "max_file_bytes": SEARCH_MAX_FILE_BYTES,
        "line_chars": SEARCH_LINE_CHARS,
    }
    found = _Matches(budget)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-I",  # isolated: no PYTHON* variables, no user site, no current directory on the path
        "-S",  # no site-packages: the worker needs the standard library only, and starts faster
        str(GREP_WORKER),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        limit=1 << 20,
    )
    deadline = asyncio.timeout(timeout_s)
    try:
        assert proc.stdin is not None and proc.stdout is not None
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            proc.stdin.write(json.dumps(request).encode())
            await proc.stdin.drain()
            proc.stdin.close()
        async with deadline:
            async for line in proc.stdout:
                if not found.add(json.loads(line)):
                    break
    except TimeoutError:
        if not deadline.expired():
            raise
    finally:  # also on cancellation (Ctrl-C, Escape, the registry's deadline)
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        await proc.wait()
    if deadline.expired():
        return found.stopped(timeout_s)
    if not (found.done or found.full):
        assert proc.stderr is not None
        last = (await proc.stderr.read()).decode(errors="replace").strip().splitlines()
        raise ToolError(f"the search failed: {last[-1] if last else f'exit code {proc.returncode}'}")
    return found.text(pattern)


class _Matches:
    """search_files' result as the worker's lines arrive: at most SEARCH_LIMIT matches and `budget`
    bytes; `add` says whether to read on."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.lines: list[str] = []
        self.used = 0
        self.skipped: list[str] = []
        self.done = False
        self.full = False

    def add(self, item: dict[str, Any]) -> bool:
        if "match" in item:
            path, lineno, line = item["match"]
            entry = f"{path}:{lineno}: {line}"
            size = len(entry.encode()) + 1
            if len(self.lines) == SEARCH_LIMIT or self.used + size > self.budget:
                self.full = True
                return False
            self.lines.append(entry)
            self.used += size
        elif "skipped" in item:
            self.skipped.append(item["skipped"])
        elif item.get("done"):
            self.done = True
        return True

    def _notes(self) -> str:
        if not self.skipped:
            return ""
        names = ", ".join(self.skipped[:5]) + (", …" if len(self.skipped) > 5 else "")
        return (
            f"\n[not searched: {len(self.skipped)} file(s) over {SEARCH_MAX_FILE_BYTES // 1_000_000} MB "
            f"({names})]"
        )

    def text(self, pattern: str) -> str:
        if not self.lines:
            return f"no matches for {pattern!r}" + self._notes()
        text = "\n".join(self.lines)
        if self.full:
            text += f"\n[first {len(self.lines)} matches shown; narrow the search (path, glob or pattern)]"
        return text + self._notes()

    def stopped(self, after_s: float) -> str:
        why = (
            f"the search was stopped after {after_s:g} s before it finished (a pattern with nested "
            "repetition such as (a+)+ can take forever on some lines): simplify the pattern or narrow "
            "the path or glob"
        )
        if not self.lines:
            raise ToolError(f"{why}; no match was found before that")
        return "\n".join(self.lines) + f"\n[{why}; the matches above were found before that]" + self._notes()
