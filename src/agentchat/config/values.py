"""Value checks for the config file: each names the file and the key, and never shows a string's
value (it may be a key). Every section's typed view is built from these, in one place."""

from __future__ import annotations

from typing import Any

from agentchat.core.errors import ConfigError
from agentchat.core.request import POLICIES, Policy

_TOML_TYPES = {bool: "a boolean", str: "a string", list: "an array", dict: "a table"}


def parse_policy(value: Any, where: str) -> Policy:
    if value not in POLICIES:
        raise ConfigError(f'{where} must be "allow", "ask" or "deny", not {value!r}')
    return value  # type: ignore[no-any-return]  # checked against POLICIES above


def parse_seconds(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{where} must be a positive number of seconds")
    return float(value)


def bad(where: str, expected: str, value: Any) -> ConfigError:
    if isinstance(value, int | float) and not isinstance(value, bool):
        got = repr(value)
    else:
        got = _TOML_TYPES.get(type(value), "a date/time")
    return ConfigError(f"{where} must be {expected}, not {got}")


def as_table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad(where, "a table", value)
    return value


def string(value: Any, where: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise bad(where, "a string", value)
    return value


def integer(value: Any, where: str, minimum: int | None = None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or (minimum is not None and value < minimum):
        raise bad(where, "an integer" + (f" >= {minimum}" if minimum is not None else ""), value)
    return value


def number(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad(where, "a number", value)
    return float(value)


def str_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise bad(where, "a list of strings", value)
    return value


def agent_tools(value: Any, where: str) -> list[str] | dict[str, str]:
    if isinstance(value, dict):
        return {name: parse_policy(policy, f"{where}.{name}") for name, policy in value.items()}
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise bad(where, 'a list of tool names or a table of tool name = "allow" | "ask" | "deny"', value)
