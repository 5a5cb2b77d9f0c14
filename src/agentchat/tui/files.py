"""The workspace's files for the `@` picker, as git sees them, and the fuzzy ranking of them.

The listing walks the workspace with core's `.gitignore` rules (`agentchat.core.folders`, what
`ask -f DIR` uses), so the picker offers what a directory attachment would consider, binaries
included (an image or a PDF is what one often picks). A workspace that is not a project (the
home directory) can hold millions of files: the walk stops at MAX_FILES, a directory's own files
before its subdirectories', so the shallow ones are the ones listed.

The ranking is a one-pass subsequence match (as fzf's v1): the query's letters in order, the
tightest window ending at the first full match, scored for letters at word starts, consecutive
letters and a match inside the file's name. It is linear in the path, so a keystroke ranks
twenty thousand paths in tens of milliseconds; Textual's own `FuzzySearch` tries every
alignment (exponential in repeated letters) and reads the candidate as markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MAX_FILES = 20_000
_BOUNDARY = "/\\_-. "


@dataclass(frozen=True, slots=True)
class Listing:
    """The workspace's files (posix paths relative to it, in walk order); `capped`: the walk
    stopped at MAX_FILES."""

    files: list[str]
    capped: bool = False


def list_files(top: Path, limit: int = MAX_FILES) -> Listing:
    """Blocking (run it in a thread): every file below `top` that git would not ignore."""
    from agentchat.core.folders import walk_files

    top = top.resolve()
    files: list[str] = []
    for entry in walk_files(top):
        if len(files) == limit:
            return Listing(files, capped=True)
        files.append(Path(entry.path).relative_to(top).as_posix())
    return Listing(files)


@dataclass(frozen=True, slots=True)
class Hit:
    """A path that matches the query; `positions` are the matched characters (to highlight)."""

    path: str
    score: float
    positions: tuple[int, ...]


def match(query: str, path: str) -> Hit | None:
    """`path` if the query's letters appear in it in order (case-insensitive, spaces ignored)."""
    needle = query.lower().replace(" ", "")
    if not needle:
        return Hit(path, 0.0, ())
    hay = path.lower()
    end = _forward(needle, hay, 0)
    if end is None:
        return None
    start = _backward(needle, hay, end)
    positions = _positions(needle, hay, start)
    return Hit(path, _score(path, positions), tuple(positions))


def rank(query: str, paths: list[str]) -> list[Hit]:
    """The matches, best first (then shorter, then by name); with no query, every path as listed."""
    if not query.strip():
        return [Hit(p, 0.0, ()) for p in paths]
    letters = set(query.lower().replace(" ", ""))
    hits = []
    for path in paths:
        if letters <= set(path.lower()):  # cheap test first: most paths fail here
            hit = match(query, path)
            if hit is not None:
                hits.append(hit)
    hits.sort(key=lambda h: (-h.score, len(h.path), h.path))
    return hits


def _forward(needle: str, hay: str, start: int) -> int | None:
    """Where the first full match ends (exclusive), scanning from `start`."""
    index = start
    for letter in needle:
        index = hay.find(letter, index)
        if index < 0:
            return None
        index += 1
    return index


def _backward(needle: str, hay: str, end: int) -> int:
    """The latest start of a match ending by `end`: the tightest window."""
    index = end
    for letter in reversed(needle):
        index = hay.rfind(letter, 0, index)
    return index


def _positions(needle: str, hay: str, start: int) -> list[int]:
    positions, index = [], start
    for letter in needle:
        index = hay.find(letter, index)
        positions.append(index)
        index += 1
    return positions


def _score(path: str, positions: list[int]) -> float:
    name_start = path.rfind("/") + 1
    score = 0.0
    previous = -2
    for index in positions:
        score += 1.0
        if (
            index == 0
            or path[index - 1] in _BOUNDARY
            or (path[index].isupper() and path[index - 1].islower())
        ):
            score += 1.0  # a word's first letter: "ap" for app_py, "mc" for MainController
        if index == previous + 1:
            score += 1.5  # consecutive letters
        previous = index
    if positions[0] >= name_start:
        score += 3.0  # all in the file's own name, not its directories
    score -= (positions[-1] - positions[0] + 1 - len(positions)) * 0.05  # a spread-out match is worth less
    return score
