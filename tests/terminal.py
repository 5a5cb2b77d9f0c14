"""Running the real CLI where a terminal matters: on a pseudo-terminal (what a user at a terminal
sees: Rich rendering, colours, indentation) or with no controlling terminal at all (nobody can be
asked a question, e.g. a tool approval)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import UserEnv


def on_terminal(
    user_env: UserEnv, *args: str, size: tuple[int, int] = (40, 120), **env: str
) -> tuple[int, str]:
    """Run the CLI on a pseudo-terminal of `size` (rows, columns) with `env` added: its exit code
    and everything it wrote (stdout and stderr)."""
    pexpect = pytest.importorskip("pexpect", reason="pexpect gives the CLI a real terminal")
    rows, columns = size
    child = pexpect.spawn(
        sys.executable,
        ["-m", "agentchat", *args],
        env=dict(user_env.env, TERM="xterm-256color", COLUMNS=str(columns), LINES=str(rows), **env),
        cwd=str(user_env.root),
        encoding="utf-8",
        codec_errors="replace",
        dimensions=size,
        timeout=60,
    )
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus, child.before


def without_terminal(user_env: UserEnv, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a new session: it has no controlling terminal, so nobody can be asked."""
    return subprocess.run(
        [sys.executable, "-m", "agentchat", *args],
        capture_output=True,
        text=True,
        env=user_env.env,
        cwd=user_env.root,
        timeout=60,
        start_new_session=True,
    )
