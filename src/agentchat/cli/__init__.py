"""The command line entry point.

`agentchat --version` and `agentchat ask ...` are dispatched before Typer is imported: Typer builds a
pydantic TypeAdapter for every option it parses, which with its own import costs ~100 ms of CPU per
start, over a tenth of a whole `ask` (bench/bench_ask.py). Other commands go through cli/app.py.
"""

from __future__ import annotations

import os
import sys

from agentchat import __version__, gc_policy

EXIT_USAGE = 2


class State:
    config_path: str | None = None


state = State()


def lenient(arg: str) -> str:
    """An argument as the user meant it: bytes that are not UTF-8 (Python keeps them as lone
    surrogates, which no JSON body, database or terminal can encode) become U+FFFD, as piped
    stdin is decoded."""
    return arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _closed_streams() -> bool:
    """`2>&-` leaves nowhere for diagnostics (they are dropped); `>&-` leaves nowhere for the
    answer, which is a usage error found before anything is sent."""
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # lives as long as the process
    if sys.stdout is None:
        sys.stderr.write("agentchat: error: standard output is closed: nothing could receive the output\n")
        return True
    return False


def main() -> None:
    sys.argv[1:] = [lenient(a) for a in sys.argv[1:]]
    args = sys.argv[1:]
    if _closed_streams():
        sys.exit(EXIT_USAGE)
    if args == ["--version"]:
        print(f"agentchat {__version__}")
        return
    if args[:1] == ["ask"] or not args:  # Typer's root checks it for the other commands
        from agentchat.cli.common import err, missing_config

        if missing := missing_config(None):
            err(missing)
            sys.exit(EXIT_USAGE)
    if args[:1] == ["ask"]:
        # ask re-enables the collector once the reply streams, the TUI once it has painted.
        gc_policy.pause_for_startup()
        from agentchat.cli.ask import main as ask_main

        sys.exit(ask_main(args[1:]))
    if not args:  # the TUI: no Typer needed either (it would add ~100 ms to the first frame)
        from agentchat.tui.terminal import no_terminal

        if refusal := no_terminal():
            err(refusal)
            sys.exit(EXIT_USAGE)
        gc_policy.pause_for_startup()
        from agentchat.cli.common import run_guarded
        from agentchat.tui.app import run_tui

        sys.exit(run_guarded(lambda: run_tui(None)))
    from agentchat.cli.app import app

    app()
