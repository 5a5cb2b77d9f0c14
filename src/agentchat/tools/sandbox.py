"""`[tools] sandbox = true`: run_shell's commands inside bubblewrap (`bwrap`).

Without it a command runs with the user's rights: it can read any file the user can (the config
file with its keys) and `/proc/<pid>/environ` of agentchat itself (keys that came from the
environment), and reach the network. Inside the sandbox it has:

- no network (its own network namespace: only a loopback of its own);
- the whole file system read-only, except the workspace (read-write) and a private, empty `/tmp`;
- `/run` (and a `/var/run` that is not a link to it) empty: a read-only mount does not stop a
  `connect()` to a Unix socket, and the sockets there (docker, D-Bus, ssh and gpg agents under
  /run/user) would be a way out. A socket elsewhere (in a home directory) is still reachable;
- agentchat's config and data directories hidden (an empty directory, or /dev/null for a file);
- its own process namespace and `/proc`, so agentchat's environment cannot be read;
- no capabilities (root keeps none, so it cannot unmount what hides the config), and it dies
  with the run_shell call (`--die-with-parent`).

Whether bwrap can run is found out once by running `true` in the same sandbox: a container
without user namespaces, or a kernel that forbids them, fails there with bwrap's own reason, and
the command is refused with that reason rather than run unconfined.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

PROBE_TIMEOUT_S = 10.0
RUNTIME_DIRS = ("/run", "/var/run")


@dataclass(frozen=True, slots=True)
class Sandbox:
    """The workspace the command may write and the paths it must not see."""

    workspace: Path
    hidden: tuple[Path, ...] = ()

    def argv(self, bwrap: str, command: list[str]) -> list[str]:
        """bwrap's arguments: mounts are applied in order, so the hidden paths come last and win."""
        args = [bwrap, "--die-with-parent", "--new-session", "--unshare-all", "--cap-drop", "ALL"]
        args += ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
        for run in RUNTIME_DIRS:  # their Unix sockets (docker, D-Bus, agents) ignore a read-only mount
            if os.path.isdir(run) and not os.path.islink(run):
                args += ["--tmpfs", run]
        args += ["--bind", str(self.workspace), str(self.workspace)]
        for path in self.hidden:
            if path.is_dir():
                args += ["--tmpfs", str(path)]
            elif path.exists():
                args += ["--ro-bind", "/dev/null", str(path)]
        return [*args, "--chdir", str(self.workspace), "--", *command]


def hidden_paths(workspace: Path, config_file: Path | None, data_dir: Path | None) -> tuple[Path, ...]:
    """What the sandbox hides: agentchat's config and data directories.

    The config file's directory is hidden when it is agentchat's own (named `agentchat`, as the
    default is); a config file elsewhere (`--config ~/chat.toml`) is hidden alone, so the sandbox
    never hides a whole home directory. A directory that holds the workspace is never hidden (the
    command could not run); its config file still is. Symlinks are hidden at both ends.
    """
    candidates: list[Path] = []
    for file in [config_file, config_file.resolve()] if config_file else []:
        candidates.append(file.parent if file.parent.name.lower() == "agentchat" else file)
    candidates += [data_dir, data_dir.resolve()] if data_dir else []
    seen: list[Path] = []
    for path in candidates:
        path = path.absolute()
        if path in seen or path == Path(path.anchor) or path == Path.home():
            continue
        if path.is_dir() and workspace.is_relative_to(path):
            continue
        seen.append(path)
    return tuple(seen)


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


@functools.cache
def unavailable_reason(bwrap: str | None) -> str | None:
    """None when `bwrap` (a path from `bwrap_path`) can confine a command here; otherwise why not,
    in one line. Cached per path: the answer does not change while the app runs."""
    if bwrap is None:
        return "bwrap is not installed (the Debian/Ubuntu package `bubblewrap`)"
    probe = Sandbox(Path(tempfile.gettempdir())).argv(bwrap, ["true"])
    try:
        done = subprocess.run(
            probe, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap cannot run: {exc}"
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        return f"bwrap cannot create a sandbox here: {lines[-1] if lines else f'exit {done.returncode}'}"
    return None


def describe(hidden: Iterable[Path]) -> str:
    """One line for the approval prompt and the tool description."""
    names = ", ".join(str(p) for p in hidden) or "nothing"
    return (
        "sandboxed (bubblewrap): no network, read-only outside the workspace, a private /tmp; "
        f"hidden: {names}"
    )
