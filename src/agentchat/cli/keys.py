"""`agentchat keys`: which providers have a key, where it comes from, and whether it works."""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import typer

from agentchat.cli.common import err, guarded, load
from agentchat.core.text import clean

keys_app = typer.Typer(
    help="API keys: status, check, set.", invoke_without_command=True, no_args_is_help=False
)


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")


def key_rows(config: object, check: bool) -> list[dict[str, str]]:
    """Status per provider; with `check`, a live call (the models endpoint) per provider."""
    from agentchat.config import Config
    from agentchat.core.keycheck import check_all, key_status

    assert isinstance(config, Config)
    rows = key_status(config)
    if check:
        results = asyncio.run(check_all(config))
        for row in rows:
            row["check"] = results.get(row["provider"], "")
    return rows


@keys_app.callback()
def keys(
    ctx: typer.Context,
    check: Annotated[bool, typer.Option("--check", help="Verify each key against its provider.")] = False,
) -> None:
    """Per provider: key set or missing and its source. Never prints a key."""
    if ctx.invoked_subcommand is None:
        _status(check)


@guarded
def _status(check: bool) -> int:
    from agentchat.cli import state
    from agentchat.core.errors import AuthError

    rows = key_rows(load(state.config_path), check)
    rejected = [row["provider"] for row in rows if row["status"] == "set" and row.get("check") == "rejected"]
    for row in rows:
        line = f"{row['provider']:<12} {row['status']:<8} {row['source']}"
        if check and row["check"] != row["status"]:  # "missing  set OPENAI_API_KEY  missing" said it twice
            line += f"  {row['check']}"
        print(clean(line.rstrip()))  # a live check quotes the provider's error text
    if rejected:  # a missing key is a newcomer's normal state; a set key that is refused is not
        err(f"the key set for {', '.join(rejected)} was rejected: replace it where its source says")
        return AuthError.exit_code
    return 0


@keys_app.command("set")
@guarded
def set_key(provider: Annotated[str, typer.Argument(help="Provider name, e.g. openai.")]) -> int:
    """Store a key in the config file (mode 0600), read from a hidden prompt or stdin."""
    from agentchat.cli import state
    from agentchat.config.edit import clean_api_key, set_provider_key
    from agentchat.core.errors import UsageError

    config = load(state.config_path)
    if provider == "local":
        raise UsageError("local needs no API key: the embedded model runs on this machine")
    if provider not in config.provider_names():
        known = ", ".join(config.provider_names())
        raise UsageError(f"unknown provider {provider!r}; known: {known} (local needs no key)")
    if sys.stdin is not None and sys.stdin.isatty():
        import getpass

        key = getpass.getpass(f"API key for {provider} (input hidden): ")
    else:
        key = sys.stdin.read() if sys.stdin is not None else ""
    key = clean_api_key(key)  # one trailing newline goes; other whitespace means a bad paste
    set_provider_key(config, provider, key)
    err(f"saved the {provider} key to {config.path} (mode 0600)")
    return 0
