"""Builds what one `ask` needs from the config and flags: store, engine, agent, tools, writer."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentchat.core.agents import Agent, Choices, assemble_turn, load_agent
from agentchat.core.errors import UsageError
from agentchat.core.structured import parse_schema

if TYPE_CHECKING:
    from agentchat.cli.output import AnswerWriter
    from agentchat.config import Config
    from agentchat.core.engine import Engine
    from agentchat.core.messages import AttachmentPart
    from agentchat.core.store import Store
    from agentchat.core.turn import TurnRequest


@dataclass(slots=True, kw_only=True)
class AskOptions:
    """`ask`'s flags and prompt, parsed (cli/ask.py builds it; build_session reads it)."""

    config_path: str | None
    text: str | None
    model: str | None = None
    provider: str | None = None
    system: str | None = None
    cont: bool = False
    cid: int | None = None
    resume: bool = False
    stream: bool = True
    as_json: bool = False
    usage: bool = False
    no_log: bool = False
    agent: str | None = None
    tools: list[str] = field(default_factory=list)
    allow_tools: list[str] = field(default_factory=list)
    yes: bool = False
    max_steps: int | None = None
    max_tokens: int | None = None  # --max-tokens: the reply's length limit
    fallbacks: list[str] = field(default_factory=list)
    max_cost: float | None = None
    temperature: float | None = None
    thinking_budget: int | None = None
    files: list[str] = field(default_factory=list)  # -f/--file: paths, directories, URLs, "-"
    schema: str | None = None  # --schema FILE|JSON|FIELDS, as given (core.structured parses it)
    via: str | None = None  # --via URL: a running `agentchat serve` takes the turn (cli/via.py)
    template: str | None = None  # --template NAME; its arguments are the PROMPT words
    template_args: list[str] = field(default_factory=list)
    compact: str | None = None  # --compact [FOCUS]: "" without a focus
    mcp_prompt: str | None = None  # --mcp-prompt NAME:PROMPT, with --arg K=V pairs
    prompt_args: list[str] = field(default_factory=list)
    prompt_attachments: list[AttachmentPart] = field(default_factory=list)  # the MCP prompt's images


@dataclass
class Session:
    engine: Engine
    turn: TurnRequest
    writer: AnswerWriter
    store: Store
    gate: Any = None
    mcp: Any = None
    records: Store | None = None
    compact: str | None = None  # --compact [FOCUS] (cli/compact.py)

    async def aclose(self) -> None:
        if self.mcp is not None:
            mcp, self.mcp = self.mcp, None
            await mcp.aclose()

    def close(self) -> None:
        self.store.close()
        if self.records is not None:
            self.records.close()


def open_history(opts: AskOptions) -> Store:
    """The user's store, or with --no-log an in-memory one seeded with the conversation to continue."""
    from agentchat.core.store import Store

    if not opts.no_log:
        return Store.open_default()
    memory = Store(Path(":memory:"))
    if opts.cont or opts.cid is not None:
        real = Store.open_default()
        try:
            conv = _pick_conversation(real, opts)
            leaf = real.leaf(conv) if conv is not None else None
            info = real.conversation(conv) if conv is not None else None
            if leaf is not None and info is not None:
                new_conv = memory.create_conversation(system=info.system)
                parent = None
                thread = real.thread(leaf)
                real.load_attachments(thread)  # their bytes go along: the request re-sends them
                for message in thread:
                    message.parent_id = parent
                    parent = memory.add_message(new_conv, message)
        finally:
            real.close()
    return memory


def _pick_conversation(store: Store, opts: AskOptions) -> int | None:
    if opts.cid is not None:
        if store.conversation(opts.cid) is None:
            raise UsageError(f"no conversation with id {opts.cid}; see agentchat history")
        return opts.cid
    if opts.cont:
        return store.most_recent_conversation()
    return None


def build_session(config: Config, opts: AskOptions) -> Session:
    from agentchat.cli.output import make_writer, stdout_is_terminal
    from agentchat.core.engine import Engine
    from agentchat.core.store import Store

    agent = load_agent(config, opts.agent)
    schema = parse_schema(opts.schema, Path.cwd()) if opts.schema is not None else None
    # a bad input fails here, before the store opens
    attachments = read_attachments(config, opts) + opts.prompt_attachments
    store = open_history(opts)
    try:
        conv = _pick_conversation(store, opts) if not opts.no_log else store.most_recent_conversation()
        if opts.compact is not None and (conv is None or opts.resume):
            raise UsageError("--compact needs the conversation to compact: -c or --cid N (and no --resume)")
        parent = None
        if opts.resume:
            parent = _resume_point(store, conv)
        registry, gate, mcp, names = _tools(config, opts, agent)
        records = None
        limits = config.monthly_budget is not None or config.has_rate_limits
        if opts.no_log and limits:
            # --no-log stores nothing, but past spending and the shared rate limits still count
            records = Store.open_default()
        engine = Engine(config, store, registry=registry, gate=gate, records=records)
        turn = assemble_turn(
            config,
            agent,
            opts.text if not opts.resume else None,
            conversation_id=conv,
            parent_id=parent,
            choices=Choices(
                model=opts.model,
                provider=opts.provider,
                system=opts.system,
                temperature=opts.temperature,
                thinking_budget=opts.thinking_budget,
                max_steps=opts.max_steps,
                max_tokens=opts.max_tokens,
                tool_names=names,
                fallbacks=opts.fallbacks,
                max_cost=opts.max_cost,
                stream=opts.stream,
                attachments=attachments,
                schema=schema,
            ),
        )
        terminal = stdout_is_terminal()
        writer = make_writer(
            as_json=opts.as_json,
            # A script reading stdout gets only the final answer, so with tools each message waits
            # until it is known not to precede a tool call; a person at a terminal sees it stream.
            hold_messages=registry is not None and (opts.as_json or not terminal),
            show_usage=opts.usage,
            terminal=terminal,
            schema=schema is not None,
        )
        writer.summary.max_tokens = turn.max_tokens
        writer.summary.unstored = opts.no_log
    except BaseException:
        store.close()
        raise
    return Session(engine, turn, writer, store, gate, mcp, records, opts.compact)


def read_attachments(config: Config, opts: AskOptions) -> list[AttachmentPart]:
    """`-f` inputs read and checked (core.intake); each directory's summary line goes to stderr."""
    if not opts.files:
        return []
    import sys

    from agentchat.cli.common import err
    from agentchat.core.intake import limits_from, read_inputs

    stdin = getattr(sys.stdin, "buffer", None) if "-" in opts.files else None
    resource = None
    if any(f.startswith("mcp:") for f in opts.files):  # an MCP resource: -f mcp:NAME:URI
        from agentchat.tools.mcp.context import read_resource_now

        resource = lambda ref: read_resource_now(config, ref)  # noqa: E731
    intake = read_inputs(opts.files, limits_from(config), stdin=stdin, cwd=Path.cwd(), resource=resource)
    for note in intake.notes:
        err(note)
    return intake.parts


def _resume_point(store: Store, conv: int | None) -> int:
    if conv is None:
        raise UsageError("--resume needs -c or --cid to pick the conversation")
    leaf = store.leaf(conv)
    message = store.get_message(leaf) if leaf is not None else None
    if message is None or message.role != "assistant" or message.status != "interrupted":
        raise UsageError(f"conversation {conv} has no interrupted reply to resume")
    return message.id  # type: ignore[return-value]


def _tools(config: Config, opts: AskOptions, agent: Agent) -> tuple[Any, Any, Any, list[str] | None]:
    """Tools are offered in `ask` only when asked for: -T, --allow-tool, --yes, or the agent's config."""
    wanted = [*opts.tools, *opts.allow_tools]
    if opts.yes and not wanted:
        wanted = ["all"]
    if not wanted and agent.tools is None:
        return None, None, None, None
    from agentchat.cli.approve import tty_approver
    from agentchat.tools.toolset import approval_gate, open_tools

    registry, mcp = open_tools(config)
    from agentchat.cli.mcp_ask import tty_elicitor

    mcp.elicitor = tty_elicitor  # a server asking for input mid-call asks on the terminal
    gate = approval_gate(
        config, tty_approver, agent_tools=agent.tools, allow_tools=opts.allow_tools, yes=opts.yes
    )
    names = None if not wanted or "all" in wanted else wanted
    return registry, gate, mcp, names
