"""Writing the config file: `keys set` edits the user's TOML in place (comments and layout survive),
and any file that may hold keys is written owner-only."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from agentchat.config import Config, mangled, parse_toml, read_config_bytes
from agentchat.core.errors import ConfigError, UsageError


def write_secret_file(path: Path, text: str) -> None:
    """Write a file that may hold keys: created 0600, never briefly world-readable. A symlinked
    config (dotfiles kept in a repository) is written through the link, which stays a link."""
    if path.is_symlink():
        path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def clean_api_key(raw: str) -> str:
    """The key as typed or piped, minus one trailing newline; a mangled key is refused."""
    key = raw.removesuffix("\n").removesuffix("\r")
    if not key:
        raise UsageError("no key given")
    if mangled(key):
        raise UsageError("the key contains whitespace or control characters; give it on one line, as issued")
    return key


def set_provider_key(config: Config, provider: str, key: str) -> None:
    """Store a key in the config file (mode 0600) under [providers.NAME]."""
    raw = read_config_bytes(config.path)
    current = parse_toml(config.path, raw) if raw is not None else {}  # also proves the text is UTF-8
    Config(config.path, current).provider_table(provider)  # a non-table there is a ConfigError
    set_setting(config, ("providers", provider), "api_key", key)


def set_setting(config: Config, table: str | tuple[str, ...], key: str, value: str) -> None:
    """`[table] key = value` in the config file, edited with tomlkit so the user's comments, order
    and layout survive (a CRLF file stays CRLF); written 0600, as it may hold keys.

    The edit is checked by parsing the result: it must equal the old settings plus this one value,
    else the file is left alone and the user is told to add it by hand.
    """
    import tomlkit

    path = (table,) if isinstance(table, str) else table
    dotted = ".".join(path)
    raw = read_config_bytes(config.path)
    expected = parse_toml(config.path, raw) if raw is not None else {}  # also proves the text is UTF-8
    text = raw.decode("utf-8-sig") if raw is not None else ""
    node = expected
    for name in path:
        node = node.setdefault(name, {})
        if not isinstance(node, dict):
            raise ConfigError(f"{config.path}: {dotted} must be a table to hold {key}")
    node[key] = value
    try:
        document = tomlkit.parse(text)
        found: Any = document
        for name in path:
            found = found.get(name) if found is not None else None
        if found is None:  # a new table goes at the end, as a person would add it
            header = tomlkit.key(list(path)).as_string()
            entry = f"{tomlkit.key(key).as_string()} = {tomlkit.string(value).as_string()}"
            edited = (text.rstrip("\r\n") + "\n\n" if text.strip() else "") + f"[{header}]\n{entry}\n"
        else:
            found[key] = value
            edited = tomlkit.dumps(document)
    except Exception:  # tomlkit cannot place it (an unusual layout): the check below says so
        edited = text
    if "\r\n" in text:
        edited = edited.replace("\r\n", "\n").replace("\n", "\r\n")
    try:
        result = tomllib.loads(edited)
    except tomllib.TOMLDecodeError:
        result = None
    if result != expected:
        shown = "..." if key == "api_key" else value
        raise ConfigError(
            f"{config.path}: cannot add {key} to [{dotted}] automatically; "
            f'add {key} = "{shown}" under [{dotted}] by hand'
        )
    write_secret_file(config.path, edited)
    config.data = result
