"""The Typer app: `agentchat` opens the TUI; subcommands are thin faces over the core.

`ask` is only listed here: its options are parsed by argparse in cli/ask.py, and `agentchat ask ...`
reaches it from `main()` without importing Typer at all.
"""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from agentchat import __version__
from agentchat.cli import state

app = typer.Typer(
    name="agentchat",
    help="Chat with language models: a TUI (no arguments) and pipe-clean commands.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


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
    argv = sys.argv[1:]
    creating = ctx.invoked_subcommand == "keys" and argv[argv.index("keys") + 1 :][:1] == ["set"]
    # A file named by --config or AGENTCHAT_CONFIG must exist; only `keys set` creates it.
    from agentchat.cli.common import err, missing_config

    if not creating and (missing := missing_config(config)):
        err(missing)
        raise typer.Exit(2)
    if ctx.invoked_subcommand is None:
        from agentchat.cli.common import run_guarded
        from agentchat.tui.terminal import no_terminal

        if refusal := no_terminal():
            err(refusal)
            raise typer.Exit(2)

        def open_tui() -> int:
            from agentchat.tui.app import run_tui

            return run_tui(config)

        raise typer.Exit(run_guarded(open_tui))


@app.command(
    add_help_option=False,
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
def ask(ctx: typer.Context) -> None:
    """Ask once: piped stdin first, then the PROMPT words (agentchat ask --help for the options)."""
    from agentchat.cli.ask import main

    raise typer.Exit(main(ctx.args, config_path=state.config_path))


@app.command(
    add_help_option=False,
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
def serve(ctx: typer.Context) -> None:
    """Serve the OpenAI and Anthropic HTTP APIs on loopback (agentchat serve --help for the options)."""
    from agentchat.cli.serve import main

    raise typer.Exit(main(ctx.args, config_path=state.config_path))


def _register() -> None:
    from agentchat.cli import commands, history, keys, mcp, stats, templates

    keys.register(app)
    history.register(app)
    commands.register(app)
    stats.register(app)
    templates.register(app)
    mcp.register(app)


_register()
