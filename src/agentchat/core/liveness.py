"""Who is streaming a reply, and whether that process still lives.

A reply is stored as `streaming` while its tokens arrive. If the process dies (`kill -9`, a crash,
a closed laptop lid that never reopens the terminal) nobody finalises it, so every streaming reply
names its owner: host, pid and the process's start time. Any later process on the same host can
then tell a dead owner (no such pid, or the pid was reused by a process that started at another
time) from a live one, and two live processes never mistake each other's streams for dead ones.
"""

from __future__ import annotations

import os
import socket
from functools import cache


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux); "" where /proc is absent, in
    which case a live pid is trusted (a reused pid then looks alive: a stream stays `streaming`
    until that process ends, never wrongly interrupted)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return ""
    # The command name (field 2) may hold spaces and parentheses: fields are counted after the last ")".
    fields = stat[stat.rfind(b")") + 2 :].split()
    return fields[19].decode() if len(fields) > 19 else ""


@cache
def current_owner() -> str:
    """This process as an owner token: `host pid start`."""
    pid = os.getpid()
    return f"{socket.gethostname()} {pid} {_start_time(pid)}".rstrip()


def owner_alive(owner: str | None) -> bool:
    """False only when the owner is known to be gone. A stream owned on another host cannot be
    checked from here, so it counts as alive (it is never marked interrupted by mistake)."""
    if not owner:
        return False  # streamed before owners were recorded: no process can still hold it
    parts = owner.split(" ")
    host, pid_text, start = parts[0], parts[1] if len(parts) > 1 else "", parts[2] if len(parts) > 2 else ""
    if host != socket.gethostname():
        return True
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, owned by another user
    except OSError:
        return True
    return not start or _start_time(pid) in (start, "")
