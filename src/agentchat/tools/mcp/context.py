"""MCP resources and prompts as context for a prompt, for both faces.

- A resource is attached like a file: `ask -f mcp:NAME:URI`, or `@NAME:` in the TUI's picker.
  core.intake asks `read_resource_now` for its bytes and makes an attachment of them.
- A prompt fills the user's input: `ask --mcp-prompt NAME:PROMPT --arg k=v`, the TUI's palette,
  and slash commands (`/NAME:PROMPT`) call `fetch_prompt`.

With a running manager (the TUI's) its live connection is used; otherwise the one server named is
started for the occasion and stopped after, so `ask -f mcp:docs:...` never starts the others.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from agentchat.core.errors import AgentchatError, UsageError
from agentchat.core.messages import AttachmentPart
from agentchat.core.text import clean
from agentchat.tools.mcp.manager import MCPManager
from agentchat.tools.mcp.results import image_part

if TYPE_CHECKING:
    from mcp import Client

    from agentchat.config import Config

PREFIX = "mcp:"
T = TypeVar("T")


class MCPUnavailable(AgentchatError):
    """The server named could not be reached or did not answer in time (a network failure)."""

    exit_code = 5


@dataclass(frozen=True, slots=True)
class ResourceEntry:
    """One resource a server lists, as the TUI's picker shows it (`@NAME:URI`)."""

    server: str
    uri: str
    name: str
    description: str = ""
    mime_type: str | None = None

    @property
    def ref(self) -> str:
        return f"{PREFIX}{self.server}:{self.uri}"


@dataclass(frozen=True, slots=True)
class PromptEntry:
    server: str
    name: str
    description: str = ""
    arguments: list[tuple[str, bool]] = field(default_factory=list)  # (name, required)

    @property
    def ref(self) -> str:
        return f"{self.server}:{self.name}"


@dataclass(slots=True)
class RenderedPrompt:
    """A prompt's messages joined as the text of the user's next message, and its images."""

    text: str
    attachments: list[AttachmentPart] = field(default_factory=list)


def split_ref(ref: str, what: str) -> tuple[str, str]:
    """ "NAME:REST" -> (NAME, REST); a usage error naming the form otherwise."""
    server, sep, rest = ref.removeprefix(PREFIX).partition(":")
    if not sep or not server or not rest:
        form = "mcp:NAME:URI" if what == "resource" else "NAME:PROMPT"
        raise UsageError(f"{ref!r}: an MCP {what} is given as {form}")
    return server, rest


async def _with_server(
    config: Config, name: str, use: Callable[[Client], Awaitable[T]], manager: MCPManager | None = None
) -> T:
    """Run `use` on server `name`'s live client: the running manager's, or a one-off connection."""
    from mcp import MCPError

    own = manager is None or manager.server(name) is None
    mcp = MCPManager.from_config(config, only=name) if own else manager
    assert mcp is not None
    try:
        server = mcp.server(name)
        if server is None:
            known = ", ".join(s.name for s in mcp.servers) or "none configured"
            raise UsageError(f"no MCP server named {name!r} (known: {known}); see agentchat mcp list")
        await mcp.start(include_disabled=own)  # a disabled server named on purpose is started
        if server.client is None:
            raise MCPUnavailable(f"MCP server {name}: {mcp.errors.get(name, 'not connected')}")
        try:
            async with asyncio.timeout(server.config.timeout_s):
                return await use(server.client)
        except MCPError as exc:
            raise UsageError(f"MCP server {name}: {exc}") from None
        except TimeoutError:
            raise MCPUnavailable(
                f"MCP server {name} did not answer within {server.config.timeout_s:g} s"
            ) from None
    finally:
        if own:
            await mcp.aclose()


async def read_resource(
    config: Config, ref: str, manager: MCPManager | None = None
) -> list[tuple[str, bytes, str | None]]:
    """`mcp:NAME:URI` -> [(name, bytes, media type)], one per content block the server returns."""
    server, uri = split_ref(ref, "resource")

    async def read(client: Client) -> Any:
        return await client.read_resource(uri)

    result = await _with_server(config, server, read, manager)
    out = []
    for content in result.contents:
        text = getattr(content, "text", None)
        data = text.encode("utf-8") if text is not None else base64.b64decode(getattr(content, "blob", ""))
        out.append(
            (ref if len(result.contents) == 1 else f"{PREFIX}{server}:{content.uri}", data, content.mime_type)
        )
    if not out:
        raise UsageError(f"{ref}: the server returned no content")
    return out


def read_resource_now(config: Config, ref: str) -> list[tuple[str, bytes, str | None]]:
    """`read_resource` from synchronous code (core.intake, outside any event loop)."""
    return asyncio.run(read_resource(config, ref))


async def fetch_prompt(
    config: Config, ref: str, arguments: dict[str, str] | None = None, manager: MCPManager | None = None
) -> RenderedPrompt:
    """`NAME:PROMPT` with its arguments -> the text (and images) to send as the user's message.
    Every message of the prompt is included in order; an assistant message is labelled as such."""
    server, name = split_ref(ref, "prompt")

    async def get(client: Client) -> Any:
        return await client.get_prompt(name, arguments or {})

    result = await _with_server(config, server, get, manager)
    texts: list[str] = []
    images: list[AttachmentPart] = []
    for message in result.messages:
        block = message.content
        if block.type == "text":
            text = block.text
        elif block.type == "resource":
            text = getattr(block.resource, "text", None) or f"[resource {block.resource.uri}]"
        elif block.type == "image":
            part = image_part(f"{ref} image {len(images) + 1}", base64.b64decode(block.data), block.mime_type)
            if isinstance(part, str):
                texts.append(f"[an image of the prompt was not attached: {part}]")
            else:
                images.append(part)
            continue
        else:
            text = f"[{block.type} content]"
        texts.append(text if message.role == "user" else f"(assistant) {text}")
    return RenderedPrompt("\n\n".join(texts), images)


def prompt_arguments(pairs: list[str]) -> dict[str, str]:
    """`--arg k=v` pairs -> a dict; a pair without `=` is a usage error."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--arg {pair!r}: give it as NAME=VALUE")
        out[key] = value
    return out


def resources_of(manager: MCPManager) -> list[ResourceEntry]:
    """Every listed resource of the started servers (for the TUI's @ picker)."""
    return [
        ResourceEntry(
            s.name, str(r.uri), clean(r.name or str(r.uri)), clean(r.description or ""), r.mime_type
        )
        for s in manager.servers
        if s.client is not None
        for r in s.resources
    ]


def prompts_of(manager: MCPManager) -> list[PromptEntry]:
    """Every listed prompt of the started servers (the TUI's palette, slash commands)."""
    return [
        PromptEntry(
            s.name,
            p.name,
            clean(p.description or ""),
            [(a.name, bool(a.required)) for a in p.arguments or []],
        )
        for s in manager.servers
        if s.client is not None
        for p in s.prompts
    ]
