"""A directory as attachments: its text files, as git would see them.

`.gitignore` files are respected from the repository's root down (or from the directory itself
outside a repository), as is `.git/info/exclude`; `.git` itself and binaries (NUL bytes or not
UTF-8; images and PDFs too: only text is taken from a directory) are skipped. The walk stops
taking files at the directory caps and says what it skipped in one summary line.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentchat.core.errors import UsageError


@dataclass(slots=True)
class _Tally:
    included: int = 0
    total: int = 0
    binary: int = 0
    ignored: int = 0
    too_big: int = 0
    unreadable: int = 0
    over_cap: int = 0
    files: list[tuple[str, bytes]] = field(default_factory=list)


class _Ignores:
    """The .gitignore rules that apply below one directory, deepest file deciding first, as git does."""

    def __init__(self, top: Path) -> None:
        import pathspec

        self._pathspec = pathspec
        self.specs: list[tuple[Path, Any]] = []  # (base directory, spec), shallow to deep
        root = _repo_root(top)
        if root is not None:  # the rules of the directories above it apply too, as in git
            self._add(root, root / ".git" / "info" / "exclude")
            parts = top.relative_to(root).parts
            for depth in range(len(parts)):
                directory = root.joinpath(*parts[:depth])
                self._add(directory, directory / ".gitignore")

    def _add(self, base: Path, file: Path) -> bool:
        try:
            lines = file.read_text("utf-8", errors="replace").splitlines()
        except OSError:
            return False
        self.specs.append((base, self._pathspec.GitIgnoreSpec.from_lines(lines)))
        return True

    def enter(self, directory: Path) -> int:
        """Read `directory`'s .gitignore; how many specs to drop on leaving it."""
        return 1 if self._add(directory, directory / ".gitignore") else 0

    def ignored(self, path: Path, is_dir: bool) -> bool:
        for base, spec in reversed(self.specs):
            try:
                rel = path.relative_to(base).as_posix()
            except ValueError:
                continue
            result = spec.check_file(rel + "/" if is_dir else rel)
            if result.include is not None:
                return bool(result.include)
        return False


def _repo_root(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return None


def walk_files(top: Path, skipped: Callable[[str], None] | None = None) -> Iterator[os.DirEntry[str]]:
    """Every file below `top` that git would not ignore: a directory's own files (in name order)
    before its subdirectories', so a caller that stops early has the shallow ones. `skipped` hears
    "ignored" or "unreadable" for what the walk passes over. Both `ask -f DIR` and the TUI's `@`
    picker list through here, so they agree on what a workspace holds."""
    ignores = _Ignores(top)
    todo: list[tuple[Path, int]] = [(top, -1)]  # (directory, specs to drop after it); -1: enter it
    while todo:
        directory, pushed = todo.pop()
        if pushed >= 0:  # every directory below this one is done: its .gitignore no longer applies
            del ignores.specs[len(ignores.specs) - pushed :]
            continue
        todo.append((directory, ignores.enter(directory)))
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            entries = []
            if skipped:
                skipped("unreadable")
        subdirectories: list[Path] = []
        for entry in entries:
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_file = not is_dir and entry.is_file()
            except OSError:
                if skipped:
                    skipped("unreadable")
                continue
            if entry.name == ".git" or ignores.ignored(path, is_dir):
                if skipped:
                    skipped("ignored")
            elif is_dir:
                subdirectories.append(path)
            elif is_file:
                yield entry
        todo += [(d, -1) for d in reversed(subdirectories)]  # popped in name order


def read_folder(top: Path, shown: str, limits: Any) -> tuple[list[tuple[str, bytes]], str]:
    """[(name as shown, bytes)] of the directory's text files, in walk order, and the summary line.
    Nothing usable is an error naming what was found instead."""
    from agentchat.core.intake import is_text, size_text

    top = top.resolve()
    tally = _Tally()
    prefix = shown.rstrip("/\\") or shown

    def skip(why: str) -> None:
        if why == "ignored":
            tally.ignored += 1
        else:
            tally.unreadable += 1

    for entry in walk_files(top, skip):
        _take(Path(entry.path), entry, tally, limits, top, prefix, is_text)
    if not tally.files:
        found = _skipped(tally) or "it is empty"
        raise UsageError(f"{shown}: no text files to attach ({found})")
    note = f"{shown}: {tally.included} text files ({size_text(tally.total)}) included"
    skipped = _skipped(tally)
    return tally.files, note + (f"; skipped {skipped}" if skipped else "")


def _take(
    path: Path, entry: os.DirEntry[str], tally: _Tally, limits: Any, top: Path, prefix: str, is_text: Any
) -> None:
    try:
        size = entry.stat().st_size
    except OSError:
        tally.unreadable += 1
        return
    if size > limits.max_file_bytes:
        tally.too_big += 1
        return
    if tally.total + size > limits.max_dir_bytes or tally.included >= limits.max_dir_files:
        tally.over_cap += 1
        return
    try:
        with open(path, "rb") as fh:
            data = fh.read(limits.max_file_bytes + 1)
    except OSError:
        tally.unreadable += 1
        return
    if not data or not is_text(data):
        tally.binary += 1
        return
    if tally.total + len(data) > limits.max_dir_bytes:
        tally.over_cap += 1
        return
    tally.files.append((f"{prefix}/{path.relative_to(top).as_posix()}", data))
    tally.included += 1
    tally.total += len(data)


def _skipped(tally: _Tally) -> str:
    counts = (
        (tally.binary, "binary or empty"),
        (tally.ignored, "ignored (.gitignore, .git)"),
        (tally.too_big, "over the per-file limit"),
        (tally.over_cap, "over the directory limit (attachments.max_dir_bytes / max_dir_files)"),
        (tally.unreadable, "unreadable"),
    )
    return ", ".join(f"{n} {what}" for n, what in counts if n)
