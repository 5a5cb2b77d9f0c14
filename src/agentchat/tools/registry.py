"""The tool registry: one place that offers tools to the model and runs the calls it makes.

`call` never raises (except on cancellation): whatever goes wrong becomes an error result the model
can read and react to, because a tool failure is part of the conversation, not a crash of the app.
Plugins and MCP servers run foreign code and can be slow, so they join only on `await load()`, which
also collects MCP servers' `instructions` (server name -> text) for the engine's system prompt.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentchat.core.messages import AttachmentPart, ToolCallPart, ToolResultPart
from agentchat.core.request import Policy, ToolSpec
from agentchat.tools.base import Tool, ToolOutput, describe_error
from agentchat.tools.builtin import Clock, builtin_options, builtin_tools

if TYPE_CHECKING:
    from agentchat.config import Config
    from agentchat.tools.approval import ToolPolicies
    from agentchat.tools.mcp import MCPManager

MAX_RESULT_CHARS = 100_000


@dataclass(slots=True)
class Loaded:
    """What a loader adds on `load()`: tools, what failed ({where: one line}) and MCP servers' instructions."""

    tools: list[Tool] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    instructions: dict[str, str] = field(default_factory=dict)  # server name -> text
    # Asked on every later `load()`: None when nothing changed, else the tools of the sources in
    # `replaces` anew (an MCP server that sent notifications/tools/list_changed).
    refresh: Callable[[], Awaitable[Loaded | None]] | None = None
    replaces: set[str] = field(default_factory=set)


Loader = Callable[[], Awaitable[Loaded]]

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}
_JSON_NAMES = {
    type(None): "null",
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "array",
    dict: "object",
}


def check_arguments(schema: dict[str, Any], arguments: Any) -> str | None:
    """A light check against the schema (required keys, types, enums); None when the call looks fine.

    It catches what models typically get wrong, so they get a precise message instead of a
    traceback from deep inside the tool.
    """
    if isinstance(arguments, dict) and "_raw" in arguments:
        return f"the arguments are not valid JSON: {str(arguments['_raw'])[:200]!r}"
    if not isinstance(arguments, dict):
        return "the arguments must be a JSON object"
    properties: dict[str, Any] = schema.get("properties") or {}
    problems = [
        f"missing required argument {key!r}" for key in schema.get("required", []) if key not in arguments
    ]
    for key, value in arguments.items():
        prop = properties.get(key)
        if prop is None:
            if schema.get("additionalProperties") is False:
                problems.append(f"unexpected argument {key!r}")
            continue
        expected = prop.get("type")
        names = [expected] if isinstance(expected, str) else list(expected or [])
        if names and not any(_is_type(value, name) for name in names):
            got = _JSON_NAMES.get(type(value), type(value).__name__)
            problems.append(f"argument {key!r} must be {' or '.join(names)}, not {got}")
        elif "enum" in prop and value not in prop["enum"]:
            problems.append(f"argument {key!r} must be one of {prop['enum']}")
    if not problems:
        return None
    expected_args = ", ".join(f"{k} ({v.get('type', 'any')})" for k, v in properties.items()) or "none"
    return f"invalid arguments: {'; '.join(problems)}. Parameters: {expected_args}"


def _is_type(value: Any, name: str) -> bool:
    kinds = _JSON_TYPES.get(name)
    if kinds is None:
        return True  # a type this light check does not know is not held against the call
    if isinstance(value, bool) and name != "boolean":
        return False  # JSON true is not the integer 1
    return isinstance(value, kinds)


def _cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[truncated: {len(text) - limit} more characters not shown]"


class ToolRegistry:
    def __init__(
        self,
        tools: Iterable[Tool] = (),
        *,
        loaders: dict[str, Loader] | None = None,
        max_result_chars: int = MAX_RESULT_CHARS,
    ) -> None:
        self._tools: dict[str, Tool] = {}
        self._loaders: dict[str, Callable[[], Awaitable[Loaded | None]]] = dict(loaders or {})
        self._refreshers: dict[str, Callable[[], Awaitable[Loaded | None]]] = {}
        self._lock = asyncio.Lock()
        self.max_result_chars = max_result_chars
        self.errors: dict[str, str] = {}  # what failed to load, one line each, for the user
        # MCP server name -> the instructions it sent on initialize (for the system prompt), after load()
        self.instructions: dict[str, str] = {}
        for tool in tools:
            self.add(tool)

    def add(self, tool: Tool) -> bool:
        """Register a tool; the first one with a name wins and a clash is reported, not fatal."""
        other = self._tools.get(tool.name)
        if other is not None:
            self.errors[f"{tool.source}/{tool.name}"] = (
                f"tool {tool.name} clashes with the one from {other.source}; not loaded"
            )
            return False
        self._tools[tool.name] = tool
        return True

    async def load(self) -> None:
        """Load plugins and start MCP servers once; later calls take in what changed since (an MCP
        server's new tool list). Call it before `specs` when tools are used."""
        async with self._lock:
            loaders, self._loaders = self._loaders, {}
            loaders.update({f"{where} (refresh)": refresh for where, refresh in self._refreshers.items()})
            outcomes = await asyncio.gather(*(load() for load in loaders.values()), return_exceptions=True)
            for where, outcome in zip(loaders, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    if not isinstance(outcome, Exception):
                        raise outcome
                    self.errors[where] = describe_error(outcome)  # e.g. the MCP SDK is not installed
                    continue
                if outcome is None:
                    continue
                self._replace(where, outcome)

    def _replace(self, where: str, outcome: Loaded) -> None:
        """Take a loader's outcome; a refresh first drops what it replaces."""
        if outcome.refresh is not None:
            self._refreshers[where.removesuffix(" (refresh)")] = outcome.refresh
        if outcome.replaces:
            self._tools = {n: t for n, t in self._tools.items() if t.source not in outcome.replaces}
            for key in [k for k in self.errors if k.split("/")[0] in outcome.replaces]:
                del self.errors[key]
        self.errors.update(outcome.errors)
        self.instructions.update(outcome.instructions)
        for tool in outcome.tools:
            self.add(tool)

    @property
    def tools(self) -> list[Tool]:
        return list(self._tools.values())

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def specs(self, names: Iterable[str] | None = None) -> list[ToolSpec]:
        """Specs in registration order, limited to `names` when given (unknown names are ignored)."""
        wanted = None if names is None else set(names)
        return [t.spec for t in self._tools.values() if wanted is None or t.name in wanted]

    async def call(self, call: ToolCallPart) -> tuple[ToolResultPart, str]:
        """Run one call: (result, "done") or an error result with "failed"; never raises."""
        result, status, _ = await self.call_with_media(call)
        return result, status

    async def call_with_media(self, call: ToolCallPart) -> tuple[ToolResultPart, str, list[AttachmentPart]]:
        """`call`, plus the images the tool returned (a ToolOutput's attachments)."""
        tool = self._tools.get(call.name)
        if tool is None:
            return self._result(
                call, f"unknown tool {call.name!r}; available: {', '.join(self._tools) or 'none'}"
            )
        problem = check_arguments(tool.spec.parameters, call.arguments)
        if problem:
            return self._result(call, f"{call.name}: {problem}")
        deadline = asyncio.timeout(tool.timeout_s)
        try:
            async with deadline:
                output = await tool.run(dict(call.arguments))
        except TimeoutError as exc:
            if not deadline.expired():
                return self._result(call, describe_error(exc))
            return self._result(call, f"{call.name} timed out after {tool.timeout_s:g} s and was stopped")
        except Exception as exc:
            return self._result(call, describe_error(exc))
        if isinstance(output, ToolOutput):
            result, status, _ = self._result(call, output.text, ok=True)
            return result, status, output.attachments
        if not isinstance(output, str):
            return self._result(call, f"{call.name} returned {type(output).__name__} instead of text")
        return self._result(call, output, ok=True)

    def _result(
        self, call: ToolCallPart, text: str, *, ok: bool = False
    ) -> tuple[ToolResultPart, str, list[AttachmentPart]]:
        content = _cap(text if ok else f"error: {text}", self.max_result_chars)
        result = ToolResultPart(call.id, content, is_error=not ok, name=call.name)
        return result, "done" if ok else "failed", []


def build_registry(
    config: Config,
    workspace: Path | None = None,
    *,
    mcp: MCPManager | None = None,
    plugins: bool = True,
    clock: Clock | None = None,
) -> ToolRegistry:
    """The registry every face uses: built-ins now; plugins and `mcp`'s servers on `await load()`.

    `[tools]` settings (shell_timeout, max_output_bytes, sandbox) are read by `builtin_options`;
    max_output_bytes also caps MCP and plugin results here.
    """
    options = builtin_options(config)
    loaders: dict[str, Loader] = {}
    if plugins:
        loaders["plugins"] = _plugin_loader
    if mcp is not None:
        loaders["mcp"] = _mcp_loader(mcp)
    tools = builtin_tools(workspace or config.workspace, clock=clock, **options)
    return ToolRegistry(tools, loaders=loaders, max_result_chars=options["max_output_bytes"])


async def _plugin_loader() -> Loaded:
    from agentchat.tools.plugins import load_plugins

    tools, errors = load_plugins()
    return Loaded(tools, {f"plugin:{key}": message for key, message in errors.items()})


def _mcp_loader(mcp: MCPManager) -> Loader:
    def loaded(tools: list[Tool], replaces: set[str] = set()) -> Loaded:  # noqa: B006 (never changed)
        errors = {f"mcp:{name}": message for name, message in mcp.errors.items()}
        return Loaded(tools, errors, mcp.instructions, refresh, replaces)

    async def load() -> Loaded:
        return loaded(await mcp.start())

    async def refresh() -> Loaded | None:
        """A server's tool list changed (notifications/tools/list_changed): take the new one."""
        replaced = await mcp.refresh()
        return loaded([t for t in mcp.tools if t.source in replaced], replaced) if replaced else None

    return load


@dataclass(frozen=True, slots=True)
class ToolInfo:
    """One row of `agentchat tools`."""

    name: str
    source: str
    policy: Policy
    description: str


def describe_tools(registry: ToolRegistry, policies: ToolPolicies) -> list[ToolInfo]:
    return [ToolInfo(t.name, t.source, policies.policy(t), t.spec.description) for t in registry.tools]
