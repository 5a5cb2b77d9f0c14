"""`agentchat ask`: one-shot, pipe-clean. stdout gets the answer and nothing else; stderr the rest."""

from __future__ import annotations

import argparse
import gc
import json
import sys
from typing import TYPE_CHECKING

from agentchat import gc_policy
from agentchat.cli.common import err, quiet_broken_pipe, run_answer, run_guarded
from agentchat.cli.session import AskOptions, Session, build_session
from agentchat.core import events as ev
from agentchat.core.errors import StoreError
from agentchat.core.structured import StructuredReply, run_structured

if TYPE_CHECKING:
    from agentchat.cli.output import AnswerWriter
    from agentchat.core.events import Event

EXIT_EMPTY_REPLY = 4  # as a provider that failed: the pipeline got no answer
EXIT_TOOL_DENIED = 6
EXIT_SCHEMA_INVALID = 7
SCHEMA_HELP = (
    "The answer must be JSON matching this JSON Schema: a file, inline JSON, or fields such as "
    "'name str, age int, tags str: comma separated' (types str, int, float, bool; every field "
    "required). stdout gets only the validated JSON; an invalid reply is retried once, then exit 7."
)
STDIN_NAMES = ("/dev/stdin", "/dev/fd/0", "/proc/self/fd/0")  # `-f /dev/stdin` is `-f -`
USAGE = "usage: agentchat ask [OPTIONS] PROMPT...   (or pipe text on stdin); see agentchat ask --help"
FILE_HELP = (
    "Attach a file, a directory (its text files; .gitignore respected), an http(s) URL, or - for "
    "stdin (binary allowed). Text goes as a fragment named after the file; png/jpeg/gif/webp images "
    "and PDFs natively where the model takes them. Repeatable."
)


def read_prompt(words: list[str], stdin: object) -> str | None:
    """Piped stdin first, then a blank line, then the words. Never waits on a terminal."""
    piped = ""
    if stdin is not None and not getattr(stdin, "closed", True):
        try:
            is_tty = stdin.isatty()  # type: ignore[attr-defined]
        except (ValueError, OSError):
            is_tty = True
        if not is_tty:
            try:  # bytes, decoded leniently: a stray Latin-1 byte must not cost the whole prompt
                raw = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read()  # type: ignore[attr-defined]
            except (OSError, ValueError):
                raw = b""
            piped = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    text = " ".join(words).strip()
    piped = piped.rstrip("\n")
    if piped.strip() and text:
        return f"{piped}\n\n{text}"
    if piped.strip():
        return piped
    return text or None


def build_parser() -> argparse.ArgumentParser:
    """argparse, not Typer: `ask` starts on every shell pipeline, and Typer's per-option pydantic
    coercion plus its import cost ~100 ms there (bench/bench_ask.py)."""
    p = argparse.ArgumentParser(
        prog="agentchat ask",
        description="Ask once. Piped stdin is read first, then the PROMPT words.",
        epilog="Exit codes: 0 ok, 1 internal error, 2 usage/config, 3 auth, 4 provider unavailable or "
        "rate-limited or an empty reply, 5 network/timeout, 6 a tool was denied, 7 the reply did not "
        "match --schema (after one retry), 130 interrupted.",
    )
    p.add_argument("prompt", nargs="*", help="The prompt; piped stdin is sent first.")
    p.add_argument(
        "-f", "--file", dest="files", action="append", default=[], metavar="PATH|URL|-", help=FILE_HELP
    )
    p.add_argument("-m", "--model", help="Model name.")
    p.add_argument("-p", "--provider", help="Provider name.")
    p.add_argument("-s", "--system", help="System prompt.")
    p.add_argument(
        "-c",
        "--continue",
        dest="cont",
        action="store_true",
        help="Continue the most recently used conversation.",
    )
    p.add_argument("--cid", type=int, help="Continue this conversation.")
    p.add_argument("--resume", action="store_true", help="Continue an interrupted reply (with -c/--cid).")
    p.add_argument(
        "--compact",
        nargs="?",
        const="",
        metavar="FOCUS",
        help="Compact the conversation now (with -c/--cid): its turns summarised into a new branch, the "
        "original kept; FOCUS says what the summary should keep. A PROMPT after it is then asked.",
    )
    p.add_argument("--no-stream", action="store_true", help="Wait for the whole reply.")
    p.add_argument("--json", dest="as_json", action="store_true", help="One JSON object on stdout.")
    p.add_argument("--schema", metavar="FILE|JSON|FIELDS", help=SCHEMA_HELP)
    p.add_argument("-u", "--usage", action="store_true", help="Tokens, cost and timings to stderr.")
    p.add_argument("--no-log", action="store_true", help="Do not store this exchange.")
    p.add_argument(
        "--via",
        metavar="URL",
        help="Send the turn to a running `agentchat serve` at URL (the warm path: no SDK loads here); "
        "default: [gateway] url.",
    )
    p.add_argument("-a", "--agent", help="Named agent from the config.")
    p.add_argument(
        "-T",
        "--tool",
        action="append",
        default=[],
        help="Offer this tool (repeatable; 'all' for every tool).",
    )
    p.add_argument(
        "--allow-tool", action="append", default=[], help="Run this tool without asking (repeatable)."
    )
    p.add_argument("-y", "--yes", action="store_true", help="Allow every tool call that is not denied.")
    p.add_argument("--max-steps", type=int, help="Most model requests in one turn (tool loop).")
    p.add_argument(
        "--max-tokens",
        type=int,
        metavar="N",
        help="Most tokens the reply may have (default: the agent's max_output_tokens, else the model's).",
    )
    p.add_argument("--fallback", help="Models to try if the first fails: A,B.")
    p.add_argument("--max-cost", type=float, help="Refuse a request estimated above this many USD.")
    p.add_argument("-t", "--temperature", type=float, help="Sampling temperature.")
    p.add_argument(
        "--thinking-budget",
        type=int,
        metavar="TOKENS",
        help="Let the model think first (Anthropic extended thinking, Ollama think).",
    )
    p.add_argument(
        "--template",
        metavar="NAME",
        help="Run the prompt template NAME (agentchat templates lists them); the PROMPT words are "
        "its arguments ($ARGUMENTS, $1...), piped stdin goes before it.",
    )
    p.add_argument(
        "--mcp-prompt",
        metavar="NAME:PROMPT",
        help="Start the message with the prompt PROMPT of MCP server NAME (agentchat mcp list shows "
        "them); the PROMPT words follow it.",
    )
    p.add_argument(
        "--arg", dest="prompt_args", action="append", default=[], metavar="K=V", help="Its argument."
    )
    return p


def main(argv: list[str], config_path: str | None = None) -> int:
    """`agentchat ask ARGV`; the exit code. `config_path` is the root `--config` (else AGENTCHAT_CONFIG)."""
    a = build_parser().parse_intermixed_args(argv)
    for flag, value in (
        ("--max-steps", a.max_steps), ("--thinking-budget", a.thinking_budget), ("--max-tokens", a.max_tokens)
    ):  # fmt: skip
        if value is not None and value < 1:
            err(f"error: {flag} must be at least 1")
            return 2
    if a.temperature is not None and not 0 <= a.temperature <= 2:
        err("error: -t/--temperature must be between 0 and 2")
        return 2
    if a.max_cost is not None and not a.max_cost >= 0:  # `not >=`: NaN is refused too
        err("error: --max-cost must be at least 0")
        return 2
    if a.schema is not None and a.resume:
        err("error: --resume continues the interrupted reply as it was and takes no --schema")
        return 2
    if a.files and a.resume:
        err("error: --resume continues the interrupted reply as it was and takes no -f/--file")
        return 2
    if a.template and a.resume:
        err("error: --resume continues the interrupted reply as it was and takes no --template")
        return 2
    a.files = ["-" if f in STDIN_NAMES else f for f in a.files]  # one reader of stdin, not two
    # With `-f -` stdin is an attachment, not text to prepend to the prompt. With --template the
    # words are the template's arguments (cli/templates.py renders it once the config is read).
    text = read_prompt([] if a.template else a.prompt, None if "-" in a.files else sys.stdin)
    if text is None and (a.files or a.template or a.mcp_prompt):
        text = ""  # the attachments (or the template) alone are the question
    if text is None and not a.resume and a.compact is None:
        err(USAGE)
        return 2
    if text is not None and a.resume:  # it would be dropped: the resumed reply takes no new prompt
        err(
            "error: --resume continues the interrupted reply as it was and takes no prompt; "
            "drop the words and piped input, or use -c PROMPT to ask something new"
        )
        return 2
    options = AskOptions(
        config_path=config_path,
        text=text,
        model=a.model,
        provider=a.provider,
        system=a.system,
        cont=a.cont,
        cid=a.cid,
        resume=a.resume,
        stream=not a.no_stream,
        as_json=a.as_json,
        compact=a.compact,
        usage=a.usage,
        no_log=a.no_log,
        agent=a.agent,
        tools=a.tool,
        allow_tools=a.allow_tool,
        yes=a.yes,
        max_steps=a.max_steps,
        max_tokens=a.max_tokens,
        fallbacks=[f.strip() for f in (a.fallback or "").split(",") if f.strip()],
        max_cost=a.max_cost,
        temperature=a.temperature,
        thinking_budget=a.thinking_budget,
        files=a.files,
        schema=a.schema,
        via=a.via,
        template=a.template,
        template_args=a.prompt if a.template else [],
        mcp_prompt=a.mcp_prompt,
        prompt_args=a.prompt_args,
    )
    return run_guarded(lambda: run_ask(options))


def run_ask(opts: AskOptions) -> int:
    import asyncio

    from agentchat.cli.common import load

    config = load(opts.config_path)
    if opts.template:
        from agentchat.cli.templates import apply_to_ask

        apply_to_ask(config, opts)
    if opts.mcp_prompt:
        from agentchat.cli.mcp_ask import apply_mcp_prompt

        apply_mcp_prompt(config, opts)
    if opts.via or config.gateway.url:
        from agentchat.cli.via import run_via

        code = run_via(config, opts)
        if code is not None:
            return code
    session = build_session(config, opts)
    try:
        return run_answer(session.writer, opts.no_log, lambda: asyncio.run(_drive(session)))
    finally:
        session.close()


async def _drive(session: Session) -> int:
    writer = session.writer
    try:
        try:
            if session.compact is not None:  # cli/compact.py; False: nothing is asked after it
                from agentchat.cli.compact import compact_now

                if not await compact_now(session):
                    return writer.output_failed() or 0
            async for event in run_structured(session.engine, session.turn):
                _show(event, writer)
        finally:
            await session.engine.aclose()
            await session.aclose()
    except BrokenPipeError:
        quiet_broken_pipe()
        return 0
    writer.finish()
    if failed := writer.output_failed():
        return failed
    summary = writer.summary
    if summary.store_error:  # the answer is out; the history could not take it
        err(f"error: {summary.store_error}")
        return StoreError.exit_code
    if summary.status == "empty":
        err(f"the model returned an empty reply (finish reason: {summary.finish_reason or 'none given'})")
        return EXIT_EMPTY_REPLY
    denied = sorted(session.gate.denied) if session.gate is not None else []
    if denied:
        err(f"denied tool: {', '.join(denied)} (allow with --allow-tool {denied[0]} or --yes)")
        return EXIT_TOOL_DENIED
    if summary.structured is not None and not summary.structured.valid:
        err("error: the reply did not match --schema, also when asked again")
        for line in summary.structured.errors:
            err(f"schema: {line}")
        return EXIT_SCHEMA_INVALID
    return 0


def _show(event: Event | StructuredReply, writer: AnswerWriter) -> None:
    """Route one engine event: answer text to the writer, everything else to stderr."""
    if isinstance(event, ev.TextDelta):
        writer.text(event.text)
    elif isinstance(event, StructuredReply):
        writer.structured(event)
    elif isinstance(event, ev.ThinkingDelta):
        writer.thinking(event.text)
    elif isinstance(event, ev.AssistantStarted):
        if not gc.isenabled():  # the first reply: start-up is over (see cli.main)
            gc_policy.startup_done()
        writer.start_message(event)
    elif isinstance(event, ev.AssistantFinished):
        writer.end_message(event)
    elif isinstance(event, ev.TurnStarted):
        writer.turn_started(event)
    elif isinstance(event, ev.Notice):
        err(event.text)
    elif isinstance(event, ev.ContextMeasured):
        writer.summary.context_measured(event)
    elif isinstance(event, ev.Retrying):
        err(f"retrying in {event.delay_s:.1f}s (attempt {event.attempt + 1}): {event.reason}")
    elif isinstance(event, ev.ToolStarted):
        args = json.dumps(event.call.arguments, ensure_ascii=False)
        err(f"tool {event.call.name} {args[:200]}")
    elif isinstance(event, ev.ToolProgress):
        from agentchat.core.progress import progress_label

        err(f"tool {event.call.name} {progress_label(event.progress, event.total, event.message)}")
    elif isinstance(event, ev.ToolFinished):
        size = len(event.result.content.encode())
        err(f"tool {event.call.name} {event.status} in {event.duration_s:.2f}s ({size} bytes)")
