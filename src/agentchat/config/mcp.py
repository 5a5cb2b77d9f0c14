"""`[mcp_servers.NAME]`: one MCP server, local (stdio) or remote (Streamable HTTP or SSE).

The table takes the shape other MCP clients use (Claude Desktop's `mcpServers`, Claude Code's and
VS Code's `type = "http"`, Cline's `disabled` and `autoApprove`), so a server entry pastes in with
only the table renamed:

    [mcp_servers.time]                     # stdio: a command to run
    command = "uvx"
    args = ["mcp-server-time"]
    env = { TZ = "Europe/Paris" }

    [mcp_servers.docs]                     # remote: Streamable HTTP, or SSE when the server
    url = "https://example.com/mcp"        # answers only that (detected), or `transport = "sse"`
    headers = { Authorization = "Bearer ${DOCS_TOKEN}" }

`${VAR}` (and `${VAR:-default}`) in `url`, `headers`, `args` and `env` values is read from the
environment when the server starts; a variable that is not set makes that server fail with a line
naming it (never the value). `enabled = false` (or `disabled = true`) keeps a server configured
but never started.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from agentchat.config.values import parse_policy, parse_seconds
from agentchat.core.errors import ConfigError
from agentchat.core.request import Policy

Transport = Literal["stdio", "http", "sse"]
# What other clients write in `type` / `transport` -> ours ("streamable-http" is Claude Code's and
# the SDKs' spelling, "streamableHttp" Cline's, "http" VS Code's and Claude Code's).
TRANSPORT_NAMES: dict[str, Transport] = {
    "stdio": "stdio",
    "http": "http",
    "streamable-http": "http",
    "streamable_http": "http",
    "streamablehttp": "http",
    "sse": "sse",
}
# Every key a server table may hold (config/schema.py warns about others).
KEYS = {
    "command", "args", "env", "cwd", "url", "type", "transport", "headers", "policy", "tools",
    "timeout", "startup_timeout", "enabled", "disabled", "autoApprove", "alwaysAllow",
}  # fmt: skip
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass(slots=True)
class MCPServerConfig:
    name: str
    command: str = ""
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    transport: Transport = "stdio"  # "http" also tries SSE when the server does not speak it
    transport_set: bool = False  # `transport`/`type` given: no fallback to the other HTTP transport
    headers: dict[str, str] = field(default_factory=dict)
    policy: Policy = "ask"
    tool_policies: dict[str, Policy] = field(default_factory=dict)
    timeout_s: float = 60.0
    startup_timeout_s: float = 30.0
    enabled: bool = True

    @property
    def where(self) -> str:
        """What `agentchat mcp list` shows for the server: its URL or its command."""
        return self.url or " ".join([self.command, *self.args])


def expand(value: str, where: str) -> str:
    """`${VAR}` / `${VAR:-default}` from the environment; an unset variable without a default is
    an error naming the key and the variable (the value itself is never put in a message)."""

    def sub(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        found = os.environ.get(name)
        if found is None and default is None:
            raise ConfigError(f"{where} uses ${{{name}}}, which is not set in the environment")
        return found if found is not None else default

    return _VAR.sub(sub, value)


def expanded(cfg: MCPServerConfig) -> MCPServerConfig:
    """The config with its `${VAR}`s filled in, done when the server starts (not when parsed, so
    `agentchat history` never fails on an unset token)."""
    from dataclasses import replace

    where = f"mcp_servers.{cfg.name}"
    return replace(
        cfg,
        url=expand(cfg.url, f"{where}.url") if cfg.url else None,
        args=[expand(a, f"{where}.args") for a in cfg.args],
        env={k: expand(v, f"{where}.env.{k}") for k, v in cfg.env.items()},
        headers={k: expand(v, f"{where}.headers.{k}") for k, v in cfg.headers.items()},
    )


def _transport(table: dict[str, Any], where: str) -> tuple[Transport | None, bool]:
    given = [table[k] for k in ("transport", "type") if k in table]
    if not given:
        return None, False
    if len(set(map(str, given))) > 1:
        raise ConfigError(f"{where}: `transport` and `type` disagree ({given[0]!r}, {given[1]!r})")
    name = TRANSPORT_NAMES.get(str(given[0]).lower())
    if name is None:
        known = ", ".join(repr(k) for k in ("stdio", "http", "streamable-http", "sse"))
        raise ConfigError(f"{where}.transport must be one of {known}, not {given[0]!r}")
    return name, True


def _strings(value: Any, where: str, kind: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table of {kind}")
    return {str(k): str(v) for k, v in value.items()}


def _enabled(table: dict[str, Any], where: str) -> bool:
    enabled, disabled = table.get("enabled", True), table.get("disabled", False)
    if not isinstance(enabled, bool) or not isinstance(disabled, bool):
        raise ConfigError(f"{where}.enabled (or disabled) must be true or false")
    return enabled and not disabled


def server_config(name: str, table: Any) -> MCPServerConfig:
    where = f"mcp_servers.{name}"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    command, url, args = table.get("command"), table.get("url"), table.get("args", [])
    transport, transport_set = _transport(table, where)
    if url is not None and (not isinstance(url, str) or not url.lower().startswith(("http://", "https://"))):
        raise ConfigError(f"{where}.url must be an http:// or https:// URL")
    if command is not None and (not isinstance(command, str) or not command):
        raise ConfigError(f"{where}.command must be a program to run")
    if command and url:
        raise ConfigError(
            f"{where}: give either `command` (a local server) or `url` (a remote one), not both"
        )
    if not command and not url:
        raise ConfigError(f"{where}: `command` (a local server) or `url` (a remote one) is required")
    if (transport == "stdio" and url) or (transport in ("http", "sse") and command):
        what = "url" if url else "command"
        raise ConfigError(f"{where}: transport {transport!r} does not go with `{what}`")
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise ConfigError(f"{where}.args must be a list of strings")
    tools = table.get("tools", {})
    if not isinstance(tools, dict):
        raise ConfigError(f"{where}.tools must be a table of tool name = policy")
    approve: dict[str, Policy] = {}
    for key in ("autoApprove", "alwaysAllow"):  # Cline's and Roo's lists of tools to run unasked
        names = table.get(key, [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ConfigError(f"{where}.{key} must be a list of tool names")
        approve.update(dict.fromkeys(names, "allow"))
    cwd = table.get("cwd")
    return MCPServerConfig(
        name=name,
        command=command or "",
        args=list(args),
        env=_strings(table.get("env", {}), f"{where}.env", "NAME = value"),
        cwd=str(cwd) if cwd else None,
        url=url,
        transport=transport or ("http" if url else "stdio"),
        transport_set=transport_set,
        headers=_strings(table.get("headers", {}), f"{where}.headers", "header = value"),
        policy=parse_policy(table.get("policy", "ask"), f"{where}.policy"),
        tool_policies={
            **approve,
            **{str(k): parse_policy(v, f"{where}.tools.{k}") for k, v in tools.items()},
        },
        timeout_s=parse_seconds(table.get("timeout", 60), f"{where}.timeout"),
        startup_timeout_s=parse_seconds(table.get("startup_timeout", 30), f"{where}.startup_timeout"),
        enabled=_enabled(table, where),
    )


def mcp_servers(section: dict[str, Any]) -> tuple[list[MCPServerConfig], dict[str, str]]:
    """The servers (disabled ones too: `agentchat mcp list` shows them), and for each malformed
    table its one-line error: reported like a server that failed to start, never fatal to others."""
    servers: list[MCPServerConfig] = []
    errors: dict[str, str] = {}
    for name, table in section.items():
        try:
            servers.append(server_config(name, table))
        except ConfigError as exc:
            errors[name] = str(exc)
    return servers, errors
