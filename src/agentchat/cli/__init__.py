"""The command line entry point.

`agentchat --version` and `agentchat ask ...` are dispatched before Typer is imported: Typer builds a
pydantic TypeAdapter for every option it parses, which with its own import costs ~100 ms of CPU per
start, over a tenth of a whole `ask` (bench/bench_ask.py). Other commands go through cli/app.py.
"""

from __future__ import annotations

import sys

from agentchat import __version__, gc_policy


class State:
    config_path: str | None = None


state = State()


def main() -> None:
    args = sys.argv[1:]
    if args == ["--version"]:
        print(f"agentchat {__version__}")
        return
    if args[:1] == ["ask"]:
        # ask re-enables the collector once the reply streams, the TUI once it has painted.
        gc_policy.pause_for_startup()
        from agentchat.cli.ask import main as ask_main

        sys.exit(ask_main(args[1:]))
    if not args:  # the TUI: no Typer needed either (it would add ~100 ms to the first frame)
        gc_policy.pause_for_startup()
        from agentchat.cli.common import run_guarded
        from agentchat.tui.app import run_tui

        sys.exit(run_guarded(lambda: run_tui(None)))
    from agentchat.cli.app import app

    app()
