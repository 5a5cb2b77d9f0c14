"""A real server process on loopback, for tests that start one (llama.cpp's server, LiteLLM,
MCP servers, a gateway nobody runs): a free port, and waiting until it answers, with its log's
tail when it never does."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    """A loopback port nothing listens on (just released by the kernel's pick)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(log: Path, chars: int = 3000) -> str:
    return log.read_text(errors="replace")[-chars:] if log.exists() else "(no log)"


def wait_answering(url: str, proc: subprocess.Popen[bytes], log: Path, name: str, timeout_s: float) -> None:
    """Poll `url` until it answers: a server started this way gives no other readiness signal.
    Fails the test, with the log's tail, if the process exits or `timeout_s` passes first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{name} exited with {proc.returncode} while starting:\n{tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"{name} not ready after {timeout_s:g} s:\n{tail(log)}")
