"""What `agentchat mcp list` and `agentchat mcp test` report: each server's transport, state (and
why it failed), and what it offers, with counts. Servers are connected to and listed, never called.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from agentchat.core.text import clean
from agentchat.tools.mcp.manager import MCPManager
from agentchat.tools.mcp.server import Server

if TYPE_CHECKING:
    from agentchat.config import Config


@dataclass(slots=True)
class ServerReport:
    name: str
    transport: str  # stdio | streamable-http | sse (| http before it connected)
    where: str  # the URL or the command line, as configured
    state: str  # connected | failed | disabled
    error: str | None = None
    tools: list[str] = field(default_factory=list)
    resources: list[str] = field(default_factory=list)  # URIs
    prompts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # held-back tools, cut listings

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["counts"] = {k: len(data[k]) for k in ("tools", "resources", "prompts")}
        return data


def report(server: Server, manager: MCPManager) -> ServerReport:
    cfg = server.config
    transport = server.seen.transport or {"http": "streamable-http"}.get(cfg.transport, cfg.transport)
    held = [(k, m) for k, m in manager.errors.items() if k.startswith(f"{cfg.name}/")]
    notes = [f"{key.split('/', 1)[1]}: {message}" for key, message in held]
    return ServerReport(
        name=cfg.name,
        transport=transport,
        where=clean(cfg.where),
        state=server.state,
        error=server.error,
        tools=[clean(t.name) for t in server.listed],
        resources=[clean(str(r.uri)) for r in server.resources]
        + [clean(str(t.uri_template)) for t in server.templates],
        prompts=[clean(p.name) for p in server.prompts],
        notes=notes + server.notes,
    )


async def inventory(config: Config, only: str | None = None) -> list[ServerReport]:
    """Every configured server (or `only`), started together and stopped before returning. A
    malformed table is a failed server; a disabled one is listed as such and not started
    (unless it is the one asked for)."""
    async with MCPManager.from_config(config, only=only) as manager:
        await manager.start(include_disabled=only is not None)
        reports = [report(s, manager) for s in manager.servers]
        for name, error in manager.errors.items():
            if "/" not in name and manager.server(name) is None:  # a malformed table
                reports.append(ServerReport(name, "?", "", "failed", error))
        return reports
