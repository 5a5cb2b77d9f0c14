"""The command line: `agentchat` opens the TUI; subcommands are thin faces over the core.

Everything heavy (SDKs, the engine, Textual) is imported inside the command that needs it, so
`agentchat --version` and `agentchat ask --help` stay fast.
"""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from agentchat import __version__

app = typer.Typer(
    name="agentchat",
    help="Chat with language models: a TUI (no arguments) and pipe-clean commands.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class State:
    config_path: str | None = None


state = State()


def _version(value: bool) -> None:
    if value:
        print(f"agentchat {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    config: Annotated[
        Optional[str],  # noqa: UP045 - typer needs Optional on 3.11
        typer.Option("--config", envvar="AGENTCHAT_CONFIG", help="Config file (default: user config dir)."),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Chat with language models. Without a command, open the TUI."""
    state.config_path = config
    if ctx.invoked_subcommand is None:
        from agentchat.cli.common import run_guarded

        def open_tui() -> None:
            from agentchat.tui.app import run_tui

            run_tui(config)

        raise typer.Exit(run_guarded(open_tui))


def _register() -> None:
    from agentchat.cli import ask, commands, history, keys, stats

    ask.register(app)
    keys.register(app)
    history.register(app)
    commands.register(app)
    stats.register(app)


_register()


def main() -> None:
    if sys.argv[1:] == ["--version"]:  # fast path: no Typer parsing at all
        print(f"agentchat {__version__}")
        return
    app()
