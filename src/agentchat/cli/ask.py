"""`agentchat ask`: one-shot, pipe-clean. stdout gets the answer and nothing else; stderr the rest."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from agentchat.cli.common import EXIT_INTERRUPTED, err, quiet_broken_pipe, run_guarded

if TYPE_CHECKING:
    from agentchat.cli.output import AnswerWriter
    from agentchat.core.engine import TurnRequest
    from agentchat.core.events import Event

EXIT_TOOL_DENIED = 6
USAGE = "usage: agentchat ask [OPTIONS] PROMPT...   (or pipe text on stdin); see agentchat ask --help"


def read_prompt(words: list[str], stdin: object) -> str | None:
    """Piped stdin first, then a blank line, then the words. Never waits on a terminal."""
    piped = ""
    if stdin is not None and not getattr(stdin, "closed", True):
        try:
            is_tty = stdin.isatty()  # type: ignore[attr-defined]
        except (ValueError, OSError):
            is_tty = True
        if not is_tty:
            try:
                piped = stdin.read()  # type: ignore[attr-defined]
            except (OSError, ValueError, UnicodeDecodeError):
                piped = ""
    text = " ".join(words).strip()
    piped = piped.rstrip("\n")
    if piped.strip() and text:
        return f"{piped}\n\n{text}"
    if piped.strip():
        return piped
    return text or None


def register(app: typer.Typer) -> None:
    @app.command(context_settings={"help_option_names": ["-h", "--help"]})
    def ask(
        prompt: Annotated[
            list[str] | None, typer.Argument(help="The prompt; piped stdin is sent first.")
        ] = None,
        model: Annotated[Optional[str], typer.Option("-m", "--model", help="Model name.")] = None,  # noqa: UP045
        provider: Annotated[Optional[str], typer.Option("-p", "--provider", help="Provider name.")] = None,  # noqa: UP045
        system: Annotated[Optional[str], typer.Option("-s", "--system", help="System prompt.")] = None,  # noqa: UP045
        cont: Annotated[
            bool, typer.Option("-c", "--continue", help="Continue the most recently used conversation.")
        ] = False,
        cid: Annotated[Optional[int], typer.Option("--cid", help="Continue this conversation.")] = None,  # noqa: UP045
        resume: Annotated[
            bool, typer.Option("--resume", help="Continue an interrupted reply (with -c/--cid).")
        ] = False,
        no_stream: Annotated[bool, typer.Option("--no-stream", help="Wait for the whole reply.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
        usage: Annotated[
            bool, typer.Option("-u", "--usage", help="Tokens, cost and timings to stderr.")
        ] = False,
        no_log: Annotated[bool, typer.Option("--no-log", help="Do not store this exchange.")] = False,
        agent: Annotated[
            str | None, typer.Option("-a", "--agent", help="Named agent from the config.")
        ] = None,
        tool: Annotated[
            list[str] | None,
            typer.Option("-T", "--tool", help="Offer this tool (repeatable; 'all' for every tool)."),
        ] = None,
        allow_tool: Annotated[
            list[str] | None,
            typer.Option("--allow-tool", help="Run this tool without asking (repeatable)."),
        ] = None,
        yes: Annotated[
            bool, typer.Option("-y", "--yes", help="Allow every tool call that is not denied.")
        ] = False,
        max_steps: Annotated[
            int | None, typer.Option("--max-steps", help="Most model requests in one turn (tool loop).")
        ] = None,
        fallback: Annotated[
            str | None, typer.Option("--fallback", help="Models to try if the first fails: A,B.")
        ] = None,
        max_cost: Annotated[
            float | None,
            typer.Option("--max-cost", help="Refuse a request estimated above this many USD."),
        ] = None,
        temperature: Annotated[
            float | None, typer.Option("-t", "--temperature", help="Sampling temperature.")
        ] = None,
    ) -> None:
        """Ask once. Piped stdin is read first, then the PROMPT words.

        Exit codes: 0 ok, 1 internal error, 2 usage/config, 3 auth, 4 provider unavailable or rate-limited,
        5 network/timeout, 6 a tool was denied, 130 interrupted.
        """
        from agentchat.cli import state

        text = read_prompt(prompt or [], sys.stdin)
        if text is None and not resume:
            err(USAGE)
            raise typer.Exit(2)
        options = AskOptions(
            config_path=state.config_path,
            text=text,
            model=model,
            provider=provider,
            system=system,
            cont=cont,
            cid=cid,
            resume=resume,
            stream=not no_stream,
            as_json=as_json,
            usage=usage,
            no_log=no_log,
            agent=agent,
            tools=tool or [],
            allow_tools=allow_tool or [],
            yes=yes,
            max_steps=max_steps,
            fallbacks=[f.strip() for f in (fallback or "").split(",") if f.strip()],
            max_cost=max_cost,
            temperature=temperature,
        )
        raise typer.Exit(run_guarded(lambda: run_ask(options)))


@dataclass(slots=True, kw_only=True)
class AskOptions:
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
    fallbacks: list[str] = field(default_factory=list)
    max_cost: float | None = None
    temperature: float | None = None


def run_ask(opts: AskOptions) -> int:
    from agentchat.cli.common import load
    from agentchat.cli.session import build_session

    config = load(opts.config_path)
    session = build_session(config, opts)
    writer = session.writer
    try:
        code = asyncio.run(_drive(session.engine, session.turn, writer, session))
    except KeyboardInterrupt:
        writer.abort()
        err("interrupted; the partial reply is stored" if not opts.no_log else "interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        quiet_broken_pipe()
        return 0
    finally:
        session.close()
    return code


async def _drive(engine: object, turn: TurnRequest, writer: AnswerWriter, session: object) -> int:
    from agentchat.core.engine import Engine

    assert isinstance(engine, Engine)
    try:
        try:
            async for event in engine.run_turn(turn):
                _show(event, writer, session)
        finally:
            await engine.aclose()
            await session.aclose()  # type: ignore[attr-defined]
    except BrokenPipeError:
        quiet_broken_pipe()
        return 0
    writer.finish()
    if session.gate is not None and session.gate.denied:  # type: ignore[attr-defined]
        names = ", ".join(sorted(set(session.gate.denied)))  # type: ignore[attr-defined]
        err(f"denied tool: {names} (allow with --allow-tool {names.split(', ')[0]} or --yes)")
        return EXIT_TOOL_DENIED
    return 0


def _show(event: Event, writer: AnswerWriter, session: object) -> None:
    """Route one engine event: answer text to the writer, everything else to stderr."""
    from agentchat.core import events as ev

    if isinstance(event, ev.TextDelta):
        writer.text(event.text)
    elif isinstance(event, ev.ThinkingDelta):
        writer.thinking(event.text)
    elif isinstance(event, ev.AssistantStarted):
        writer.start_message(event)
    elif isinstance(event, ev.AssistantFinished):
        writer.end_message(event)
    elif isinstance(event, ev.TurnStarted):
        writer.turn_started(event)
    elif isinstance(event, ev.Notice):
        err(event.text)
    elif isinstance(event, ev.Retrying):
        err(f"retrying in {event.delay_s:.1f}s (attempt {event.attempt + 1}): {event.reason}")
    elif isinstance(event, ev.ToolStarted):
        args = json.dumps(event.call.arguments, ensure_ascii=False)
        err(f"tool {event.call.name} {args[:200]}")
    elif isinstance(event, ev.ToolFinished):
        size = len(event.result.content.encode())
        err(f"tool {event.call.name} {event.status} in {event.duration_s:.2f}s ({size} bytes)")


def stdout_is_terminal() -> bool:
    try:
        return os.isatty(sys.stdout.fileno())
    except (OSError, ValueError):
        return False
