"""`agentchat mcp list` and `agentchat mcp test NAME`: which MCP servers work, and what they offer.

Both connect and list, and call nothing. `test` exits 0 when the server connected and 5 (a
network failure, the same code as an unreachable provider) with the reason when it did not.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Annotated

import typer

from agentchat.cli.common import err, guarded, load
from agentchat.core.errors import UsageError
from agentchat.core.text import clean

if TYPE_CHECKING:
    from agentchat.tools.mcp.inventory import ServerReport

EXIT_FAILED = 5
mcp_app = typer.Typer(
    help="MCP servers: their state, tools, resources and prompts.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def register(app: typer.Typer) -> None:
    app.add_typer(mcp_app, name="mcp")


def _reports(only: str | None = None) -> list[ServerReport]:
    from agentchat.cli import state
    from agentchat.tools.mcp.inventory import inventory

    config = load(state.config_path)
    if only is not None:
        servers, errors = config.mcp_servers
        known = [s.name for s in servers] + list(errors)
        if only not in known:
            names = ", ".join(known) or "none configured"
            raise UsageError(f"no MCP server named {only!r} in the config (known: {names})")
    return asyncio.run(inventory(config, only))


def _show(r: ServerReport, verbose: bool) -> None:
    counts = f"{len(r.tools)} tools, {len(r.resources)} resources, {len(r.prompts)} prompts"
    state = f"failed: {r.error}" if r.state == "failed" else r.state
    print(clean(f"{r.name}  {r.transport}  {state}" + (f"  ({counts})" if r.state == "connected" else "")))
    if r.where:
        print(clean(f"  {r.where}"))
    if not verbose:
        return
    for kind in ("tools", "resources", "prompts"):
        items = getattr(r, kind)
        if items:
            print(clean(f"  {kind}: {', '.join(items)}"))
    for note in r.notes:
        print(clean(f"  note: {note}"))


@mcp_app.command("list")
@guarded
def list_servers(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array on stdout.")] = False,
) -> int:
    """Every configured server: transport, state (connected, or failed and why), tools, resources
    and prompts, with counts."""
    reports = _reports()
    if as_json:
        print(json.dumps([r.as_json() for r in reports], ensure_ascii=False, indent=2))
        return 0
    if not reports:
        err("no MCP servers configured: add [mcp_servers.NAME] to the config (see docs/mcp.md)")
    for r in reports:
        _show(r, verbose=True)
    return 0


@mcp_app.command("test")
@guarded
def test(name: Annotated[str, typer.Argument(help="The server's name in [mcp_servers.NAME].")]) -> int:
    """Connect to one server and list what it offers; call nothing. Exit 0, or 5 with the reason."""
    (r,) = _reports(name)
    if r.state != "connected":
        err(f"mcp {name}: {r.error or r.state}")
        return EXIT_FAILED
    _show(r, verbose=True)
    return 0
