"""The search behind `search_files`, run as its own process so that it can always be stopped.

Python's `re` holds the GIL for the whole of one match, so a pattern that backtracks
catastrophically (`(a+)+$` against a long line of `a`s and a `b`) freezes every thread of the
process that runs it: the event loop, the tool timeout, Ctrl-C and the TUI's Escape. In a child
process it freezes only the child, which the tool kills at its deadline or on cancellation.

This file is run by path with `python -I -S` (no site, no environment), so it imports the standard
library only. It reads one JSON request on stdin and writes one JSON object per line on stdout:
`{"match": [path, line number, text]}`, `{"skipped": path}` for files too big to search, and
`{"done": true}` at the end. Paths are relative to the workspace root; links that leave the root
are not followed, so the confinement is the same as the other file tools'.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def files(root: Path, target: Path, glob: str | None, skip_dirs: frozenset[str]) -> Iterator[Path]:
    """Files under target in a stable order, skipping VCS/cache dirs and links that leave the root."""
    if target.is_file():
        yield target
        return
    for dirpath, dirnames, filenames in os.walk(target):
        dirnames[:] = sorted(d for d in dirnames if d not in skip_dirs)
        for name in sorted(filenames):
            file = Path(dirpath, name)
            rel = file.relative_to(root).as_posix()
            if glob and not (fnmatch.fnmatch(name, glob) or fnmatch.fnmatch(rel, glob)):
                continue
            real = file.resolve()
            if real.is_relative_to(root) and real.is_file():  # is_file: no FIFO that would block the read
                yield file


def grep(file: Path, regex: re.Pattern[str]) -> Iterator[tuple[int, str]]:
    """(line number, line) of each matching line; binary and unreadable files have none."""
    with file.open("rb") as fh:
        head = fh.read(8192)
        if b"\0" in head:
            return
        fh.seek(0)
        for lineno, raw in enumerate(fh, start=1):
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if regex.search(line):
                yield lineno, line


def search(request: dict[str, Any], emit: Any) -> None:
    try:
        regex = re.compile(request["pattern"])
    except re.error:  # not a valid regex: searched as the plain text the model most likely meant
        regex = re.compile(re.escape(request["pattern"]))
    root, target = Path(request["root"]), Path(request["target"])
    max_bytes, line_chars = request["max_file_bytes"], request["line_chars"]
    for file in files(root, target, request.get("glob"), frozenset(request["skip_dirs"])):
        rel = file.relative_to(root).as_posix()
        try:
            if file.stat().st_size > max_bytes:
                emit({"skipped": rel})
                continue
            for lineno, line in grep(file, regex):
                emit({"match": [rel, lineno, line[:line_chars]]})
        except OSError:
            continue  # unreadable files are skipped, like grep -s


CPU_LIMIT_S = 45  # past the tool's own deadline: only a worker whose parent died gets this far


def limit_cpu(seconds: int) -> None:
    """An orphan (its parent killed before it could kill this worker) must not spin forever on a
    catastrophic pattern: the kernel stops it after `seconds` of CPU time."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    except (ImportError, ValueError, OSError):
        pass


def main() -> None:
    out = sys.stdout
    request = json.loads(sys.stdin.read())
    limit_cpu(int(request.get("cpu_limit_s", CPU_LIMIT_S)))

    def emit(obj: dict[str, Any]) -> None:
        out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        out.flush()  # the parent reads matches as they come, so a stopped search keeps them

    search(request, emit)
    emit({"done": True})


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:  # the parent has enough matches and stopped reading
        pass
