"""The layers hold: import-linter checks the contracts in pyproject.toml on every test run (CI too).

faces -> core -> providers / tools; core, providers and tools import no face (nor Textual, Rich,
Typer); providers import no tools; the TUI does not import the CLI; config imports neither
providers nor tools; the gateway is a face like the CLI (nothing below it imports it, nor Starlette
or uvicorn, and it imports no other face).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_the_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint), "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "Contracts: 7 kept, 0 broken." in proc.stdout
