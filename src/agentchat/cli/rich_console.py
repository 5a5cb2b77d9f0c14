"""Rich's Console for the commands' tables, ending like every other command when the reader goes
away (`agentchat stats | head -1`): Rich's own answer to a broken pipe is a silent `exit 1`, which
a shell script reads as a failure that never happened."""

from __future__ import annotations

from rich.console import Console


class PipeConsole(Console):
    def on_broken_pipe(self) -> None:
        """Write nothing more, and raise what `run_guarded` ends as exit 0 (stdout then quieted)."""
        self.quiet = True
        raise BrokenPipeError
