"""What every command shares: loading config and store, one-line errors, exit codes."""

from __future__ import annotations

import functools
import os
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from agentchat.core.errors import AgentchatError, UsageError
from agentchat.core.text import clean

if TYPE_CHECKING:
    from agentchat.cli.output import AnswerWriter
    from agentchat.config import Config
    from agentchat.core.store import Store

T = TypeVar("T")
P = ParamSpec("P")
EXIT_INTERRUPTED = 130


def err(message: str) -> None:
    """One diagnostic line on stderr; never a traceback. Cleaned always: stderr is for people, and
    a message may quote a model (tool names and arguments, notices) or a provider's error text."""
    try:
        sys.stderr.write(f"agentchat: {clean(message)}\n")
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        pass


def run_guarded(fn: Callable[[], T]) -> int:
    """Run a command body, turning every failure into a one-line message and its exit code."""
    try:
        result = fn()
    except AgentchatError as exc:
        err(f"error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        err("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        quiet_broken_pipe()
        return 0
    except Exception as exc:  # the last line of defence: still no traceback for the user
        err(f"internal error: {type(exc).__name__}: {exc}")
        if os.environ.get("AGENTCHAT_DEBUG"):
            raise
        return 1
    return result if isinstance(result, int) else 0


def guarded(body: Callable[P, int | None]) -> Callable[P, None]:
    """A Typer command's body, run as `run_guarded` runs it (one line and its exit code for any
    failure), ending in the exit code Typer expects as an exception."""

    @functools.wraps(body)
    def command(*args: P.args, **kwargs: P.kwargs) -> None:
        import typer

        raise typer.Exit(run_guarded(lambda: body(*args, **kwargs)))

    return command


def run_answer(writer: AnswerWriter, no_log: bool, body: Callable[[], T]) -> T | int:
    """Run the part of an `ask` that writes the answer (in process or through a gateway), so
    both end alike: an error ends the shown line before its one-line message, Ctrl-C or SIGTERM
    (`timeout`, `kill`) keeps the partial reply and exits 130, a reader gone (`| head`) exits 0."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return body()
    except AgentchatError:
        writer.abort()  # what was shown ends with a newline before the one-line error
        raise
    except KeyboardInterrupt:
        writer.abort()
        err("interrupted; the partial reply is stored" if not no_log else "interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        quiet_broken_pipe()
        return 0


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def quiet_broken_pipe() -> None:
    """After a reader went away (`| head`), make Python's final flush of stdout a no-op."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def at_least(flag: str, value: float, minimum: float) -> None:
    """A numeric option below its floor is a usage error (a negative count or span means nothing)."""
    if value < minimum:
        raise UsageError(f"{flag} must be at least {minimum}")


def missing_config(flag: str | None) -> str | None:
    """The one-line error when the config file named by --config (`flag`) or AGENTCHAT_CONFIG does
    not exist: a name given on purpose that points nowhere is a typo, not a wish for defaults."""
    env = os.environ.get("AGENTCHAT_CONFIG")
    named, how = (flag, "given with --config") if flag and flag != env else (env, "named by AGENTCHAT_CONFIG")
    if not named or os.path.exists(os.path.expanduser(named)):
        return None
    return f"error: config file not found: {named} ({how})"


def load(config_path: str | None) -> Config:
    """The config; each unknown key is a warning on stderr (a typo must not pass for a setting)."""
    from agentchat.config import load_config

    config = load_config(config_path)
    for warning in config.warnings:
        err(f"warning: {warning}")
    return config


def open_store() -> Store:
    from agentchat.core.store import Store

    return Store.open_default()
