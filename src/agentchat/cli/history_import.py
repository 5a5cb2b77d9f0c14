"""`agentchat history import SOURCE FILE`: ChatGPT's export, llm's logs.db, or our own JSON export.

The whole file is read and checked first (a malformed record is a one-line error naming it, and
nothing is written), then stored in one transaction. A progress bar on stderr, when it is a
terminal and the import is large; the summary on stdout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agentchat.cli.common import guarded, open_store

PROGRESS_FROM = 50  # conversations: below this an import is over before a bar means anything


@guarded
def import_command(
    source: Annotated[str, typer.Argument(metavar="SOURCE", help="chatgpt, llm or json")],
    path: Annotated[Path, typer.Argument(metavar="FILE", help="conversations.json, logs.db, or an export")],
) -> int:
    """Import conversations: ChatGPT's conversations.json (branches kept), llm's logs.db (models,
    token counts, tool calls), or `history export --format json` output. Importing again adds nothing;
    a newer export adds just the new messages of conversations imported before."""
    import sys

    from agentchat.core.imports import import_all, read_source

    conversations = list(read_source(source, path.expanduser()))
    with open_store() as store:
        if len(conversations) >= PROGRESS_FROM and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import Progress

            with Progress(console=Console(file=sys.stderr), transient=True) as bar:
                task = bar.add_task("importing", total=len(conversations))
                summary = import_all(store, source, conversations, lambda n: bar.update(task, completed=n))
        else:
            summary = import_all(store, source, conversations)
    print(summary.line())
    return 0
