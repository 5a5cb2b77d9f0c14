"""The keys a config file may hold, so a typo is named instead of silently ignored.

`defualt_model = ...` or `[provders.openai]` would otherwise do nothing at all: the user's setting
is simply not applied. Each unknown key becomes one warning naming the file, the key and the
nearest valid name. (Values are checked where they are read; this module only knows names.)
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from agentchat.config.mcp import KEYS as MCP_KEYS

TOP_LEVEL = {
    "default_model": None,
    "default_provider": None,
    "workspace": None,
    "max_steps": None,
    "providers": "named",
    "agents": "named",
    "mcp_servers": "named",
    "rate_limits": "named",
    "pricing": "named",
    "tools": "table",
    "retry": "table",
    "failover": "table",
    "budget": "table",
    "models": "named",
    "attachments": "table",
    "ui": "table",
    "keys": None,  # binding id -> key: ids are the TUI's, checked when it starts (tui/preferences.py)
    "gateway": "table",
    "context": "table",
    "caching": "table",
}
# For tables of named entries ([providers.NAME]): the keys each entry may hold.
NAMED_KEYS: dict[str, set[str]] = {
    "providers": {
        "type", "base_url", "host", "api_key", "api_key_env", "api_key_cmd", "models", "timeout",
        "enabled", "max_tokens", "n_ctx", "n_threads", "model_path", "chat_format", "repeat_penalty",
    },
    "agents": {
        "system", "model", "provider", "tools", "temperature", "max_steps", "thinking_budget",
        "max_output_tokens",
    },
    "mcp_servers": MCP_KEYS,
    "rate_limits": {"requests_per_minute", "tokens_per_minute"},
    "pricing": {"input", "output", "cached_input", "cache_write", "cache_write_1h"},
    "models": {"context_window", "max_output_tokens", "vision", "pdf"},
}  # fmt: skip
TABLE_KEYS: dict[str, set[str]] = {
    "tools": {"shell_timeout", "policies", "max_output_bytes", "sandbox"},
    "retry": {"max_attempts", "base_delay", "max_delay", "budget", "jitter"},
    "failover": {"chain"},
    "budget": {"monthly_usd"},
    "context": {"strategy", "compact_model"},
    "caching": {"enabled", "ttl"},
    "ui": {"theme"},  # any Textual theme: checked when the TUI starts
    "attachments": {"max_file_bytes", "max_turn_bytes", "max_dir_bytes", "max_dir_files", "url_timeout"},
    "gateway": {"url", "token"},
}


def _hint(name: str, known: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_keys(path: Path, data: dict[str, Any]) -> list[str]:
    """One warning per key the file holds that agentchat does not know. Tables inside an entry
    (an MCP server's `env`, an agent's `tools`) hold free-form names and are not looked into."""
    warnings = []
    for key, value in data.items():
        kind = TOP_LEVEL.get(key, "unknown")
        if kind == "unknown":
            what = f"table [{key}]" if isinstance(value, dict) else f"key {key!r}"
            warnings.append(f"{path}: unknown {what}{_hint(key, set(TOP_LEVEL))}")
        elif kind == "table" and isinstance(value, dict):
            for inner in value:
                if inner not in TABLE_KEYS[key]:
                    warnings.append(
                        f"{path}: unknown key {inner!r} in [{key}]{_hint(inner, TABLE_KEYS[key])}"
                    )
        elif kind == "named" and isinstance(value, dict):
            for name, entry in value.items():
                if not isinstance(entry, dict):
                    continue  # a wrong type is an error where the table is read
                for inner in entry:
                    if inner not in NAMED_KEYS[key]:
                        hint = _hint(inner, NAMED_KEYS[key])
                        warnings.append(f"{path}: unknown key {inner!r} in [{key}.{name}]{hint}")
    return warnings
