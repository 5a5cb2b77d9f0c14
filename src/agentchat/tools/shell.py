"""run_shell's process handling: start, wait, stop everything it started, and cap its output.

Output goes to a temporary file, not a pipe: a background child that keeps a pipe open would hold
the call until the timeout. The command runs in its own session and process group so one kill
reaches every child; a child that leaves the group (`setsid`, a daemonising double fork) still
carries a marker variable in its environment, and on a timeout or a cancellation every process
with this call's marker is killed too. (After a normal exit, background children are left running
on purpose: a model may start a server and use it in the next call.)
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import secrets
import shutil
import signal
import tempfile
from pathlib import Path
from typing import IO

from agentchat.tools.base import ToolError
from agentchat.tools.sandbox import Sandbox, bwrap_path, unavailable_reason

MARKER = "AGENTCHAT_SHELL_RUN"
KILL_PASSES = 5


async def run_command(
    command: str,
    *,
    cwd: Path,
    env: dict[str, str],
    timeout_s: float,
    max_bytes: int,
    sandbox: Sandbox | None = None,
) -> str:
    """The command's combined output (capped at `max_bytes`) and exit code; raises ToolError on a
    timeout, or when a sandbox was asked for and cannot be had (never runs it unconfined then)."""
    argv = [shutil.which("bash") or "/bin/sh", "-c", command]
    if sandbox is not None:
        bwrap = bwrap_path()
        reason = await asyncio.to_thread(unavailable_reason, bwrap)  # the first time, it runs bwrap once
        if reason is not None or bwrap is None:
            raise ToolError(f"not run: [tools] sandbox = true, but {reason}")  # never unconfined
        argv = sandbox.argv(bwrap, argv)
    token = secrets.token_hex(8)
    with tempfile.TemporaryFile() as out:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env={**env, MARKER: token},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a kill reaches every child
        )
        timed_out = False
        try:
            try:
                async with asyncio.timeout(timeout_s):
                    code = await proc.wait()
            except TimeoutError:
                timed_out = True
        finally:  # a timeout, or the call cancelled (Ctrl-C, Escape, the registry's deadline)
            if timed_out or proc.returncode is None:
                kill_all(proc.pid, token)
                await proc.wait()
        if timed_out:
            raise ToolError(
                f"command timed out after {timeout_s:g} s and was killed\n{capped_output(out, max_bytes)}"
            )
        return f"{capped_output(out, max_bytes) or '(no output)'}\n[exit code: {code}]"


def kill_all(pgid: int, token: str) -> None:
    """SIGKILL the process group, then every process that carries this call's marker.

    A few passes, because a process may fork between the scan and the kill; a killed process
    cannot fork any more, so the passes end. Without /proc (not Linux) only the group is killed.
    """
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    needle = f"{MARKER}={token}".encode()
    for _ in range(KILL_PASSES):
        if not _kill_marked(needle):
            return


def _kill_marked(needle: bytes) -> int:
    killed = 0
    try:
        entries = os.listdir("/proc")
    except OSError:
        return 0
    for name in entries:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as fh:
                environ = fh.read()
        except OSError:
            continue  # gone, or not ours to read
        if needle in environ.split(b"\0"):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(name), signal.SIGKILL)
                killed += 1
    return killed


def capped_output(out: IO[bytes], max_bytes: int) -> str:
    """The captured output; over `max_bytes`, its head and tail (errors tend to be at the end) with
    a note saying how much was left out and how to see it. Only the shown parts are read."""
    size = out.seek(0, os.SEEK_END)
    out.seek(0)
    if size <= max_bytes:
        return out.read().decode("utf-8", errors="replace").rstrip("\n")
    half = max(max_bytes - 400, 0) // 2  # room for the note
    head = out.read(half)
    out.seek(size - half)
    tail = out.read()
    note = (
        f"\n[... {size - 2 * half:,} bytes of output omitted: it was {size:,} bytes and the limit is "
        f"{max_bytes:,} ([tools] max_output_bytes); its first and last {half:,} bytes are shown. "
        "To see the rest, send the output to a file in the workspace and read it with read_file "
        "(offset/limit), or filter it (grep, head, tail).]\n"
    )
    return (decode_head(head) + note + decode_tail(tail)).rstrip("\n")


def decode_head(data: bytes) -> str:
    """UTF-8 text of bytes cut at an arbitrary end: a character split by the cut is left out."""
    return codecs.getincrementaldecoder("utf-8")("replace").decode(data, final=False)


def decode_tail(data: bytes) -> str:
    """UTF-8 text of bytes cut at an arbitrary start: continuation bytes of a split character are left out."""
    start = 0
    while start < min(len(data), 3) and 0x80 <= data[start] < 0xC0:
        start += 1
    return data[start:].decode("utf-8", errors="replace")
