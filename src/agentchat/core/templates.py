"""Prompt templates: Markdown files a user runs by name, as `/NAME args` in the TUI and
`agentchat ask --template NAME args...`, so both faces read the same files the same way.

Where: `<config dir>/templates/NAME.md` (beside config.toml), then `.agentchat/templates/NAME.md`
in the workspace; a workspace template replaces the user's of the same name (the project knows
better). A file may start with YAML front matter between `---` lines, parsed with PyYAML's safe
loader (a maintained parser: quoting, lists and multi-line strings behave as YAML says):

    ---
    description: Review a file for bugs
    model: claude-sonnet-4-6
    provider: anthropic
    system: You are a careful reviewer.
    tools: [read_file, search_files]
    ---
    Review $1 for bugs. Focus: $ARGUMENTS

`$ARGUMENTS` is every argument joined by spaces, `$1`, `$2`... one each (missing ones are empty).
A body with no placeholder at all gets the arguments as a paragraph of their own, so words the
user typed are never dropped silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentchat.core.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from agentchat.config import Config

SUFFIX = ".md"
WORKSPACE_DIR = Path(".agentchat") / "templates"
FIELDS = ("description", "model", "provider", "system", "tools")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_PLACEHOLDER = re.compile(r"\$(ARGUMENTS|\d+)")
_parsed: dict[tuple[Path, int, int], Template] = {}  # (path, mtime_ns, size) -> what it held
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*(?:\r?\n|\Z)", re.DOTALL | re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    path: Path
    body: str
    description: str | None = None
    model: str | None = None
    provider: str | None = None
    system: str | None = None
    tools: list[str] | None = None  # None: the agent's (or the face's) own choice of tools

    @property
    def summary(self) -> str:
        """What a listing shows: the description, else the body's first line."""
        first = next((line.strip() for line in self.body.splitlines() if line.strip()), "")
        return self.description or first

    def render(self, args: Sequence[str]) -> str:
        """The prompt: placeholders filled from `args`."""
        body = self.body.strip("\n")
        if not _PLACEHOLDER.search(body):
            joined = " ".join(args)
            return f"{body}\n\n{joined}" if joined else body

        def fill(match: re.Match[str]) -> str:
            key = match.group(1)
            if key == "ARGUMENTS":
                return " ".join(args)
            index = int(key)
            return args[index - 1] if 0 < index <= len(args) else ""

        return _PLACEHOLDER.sub(fill, body)

    def fill(
        self, model: str | None, provider: str | None, system: str | None, tools: list[str] | None
    ) -> tuple[str | None, str | None, str | None, list[str] | None]:
        """(model, provider, system, tools) for a turn: what was chosen for it explicitly (ask's
        flags) stays, the template gives the rest. Model and provider go as a pair, so `-m` never
        meets the template's provider (a claude model sent to openai)."""
        if model is None and provider is None:
            model, provider = self.model, self.provider
        return (
            model,
            provider,
            system if system is not None else self.system,
            tools if tools is not None else self.tools,
        )


def template_dirs(config: Config, workspace: Path | None = None) -> list[Path]:
    """The user's directory, then the workspace's (later ones win on a shared name). The workspace
    is the config's (the working directory unless set), or the one the TUI was given."""
    return [config.path.parent / "templates", (workspace or config.workspace) / WORKSPACE_DIR]


def parse_template(path: Path) -> Template:
    """One file, front matter checked; any problem is a ConfigError naming the file. A file
    unchanged since it was last parsed (same size and mtime) is not parsed again: the TUI lists
    every template each time `/` is typed."""
    try:
        stat = path.stat()
        key = (path, stat.st_mtime_ns, stat.st_size)
        if key in _parsed:
            return _parsed[key]
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"template {path}: cannot read it: {reason}") from None
    fields: dict[str, Any] = {}
    match = _FRONT.match(text)
    if match:
        fields = _front_matter(path, match.group(1))
        text = text[match.end() :]
    template = _parsed[key] = Template(path.stem, path, text, **fields)
    return template


def _front_matter(path: Path, raw: str) -> dict[str, Any]:
    import yaml  # type: ignore[import-untyped]  # no stubs installed; only when a template is used

    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 2})" if where is not None else ""
        raise ConfigError(f"template {path}: invalid front matter{line}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"template {path}: front matter must be `key: value` lines")
    fields: dict[str, Any] = {}
    for key, value in data.items():
        if key not in FIELDS:
            raise ConfigError(
                f"template {path}: unknown front matter key {key!r} (known: {', '.join(FIELDS)})"
            )
        if key == "tools":
            value = [value] if isinstance(value, str) else value
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise ConfigError(f"template {path}: tools must be a tool name or a list of names")
        elif not isinstance(value, str):
            raise ConfigError(f"template {path}: {key} must be text, not {type(value).__name__}")
        fields[key] = value
    return fields


def template_files(config: Config, workspace: Path | None = None) -> dict[str, Path]:
    """Every template's file by name, the workspace's over the user's, sorted by name."""
    found: dict[str, Path] = {}
    for directory in template_dirs(config, workspace):
        try:
            paths = sorted(directory.glob(f"*{SUFFIX}"))
        except OSError:
            continue
        for path in paths:
            if NAME.fullmatch(path.stem) and path.is_file():
                found[path.stem] = path
    return dict(sorted(found.items()))


def load_templates(config: Config, workspace: Path | None = None) -> tuple[list[Template], list[str]]:
    """Every template that parses, and one line for each that does not (not fatal to the rest)."""
    templates, errors = [], []
    for path in template_files(config, workspace).values():
        try:
            templates.append(parse_template(path))
        except ConfigError as exc:
            errors.append(str(exc))
    return templates, errors


def load_template(config: Config, name: str) -> Template:
    path = template_files(config).get(name)
    if path is None:
        known = ", ".join(template_files(config)) or "none"
        dirs = " or ".join(str(d) for d in template_dirs(config))
        raise ConfigError(f"no template {name!r} (templates: {known}); add {name}{SUFFIX} to {dirs}")
    return parse_template(path)


def split_args(text: str) -> list[str]:
    """The words after `/NAME` in the TUI, as a shell would split them ("two words" is one);
    an unbalanced quote splits on spaces instead of refusing the prompt."""
    import shlex

    try:
        return shlex.split(text)
    except ValueError:
        return text.split()
