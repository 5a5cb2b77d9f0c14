"""`agentchat ARGS` run inside the test process, seen from outside as a subprocess would be.

A subprocess pays Python's start and an SDK's import on every call (0.3-1 s); most CLI tests are
about what the command does, not about being a process. `run_cli` runs the real entry point
(`agentchat.cli.main`: the argparse `ask` fast path and the Typer app alike) with:

- the user's environment as `os.environ`, their working directory, `sys.argv` as `python -m
  agentchat ARGS` sets it (bytes arguments decoded as Python decodes argv);
- stdin, stdout and stderr at the file-descriptor level (fds 0, 1, 2 and `sys.std*` over them), so
  `fileno()`, `isatty()`, `sys.stdin.buffer` and a child process that inherits them behave as in
  a shell: stdout and stderr are temporary files (as `> out 2> err`: not a terminal, so `ask`
  writes plain text), stdin is /dev/null unless `input` is given, which arrives through a pipe;
- the interpreter's own defaults where pytest changes them: warning filters and the hooks for
  unraisable and thread exceptions write to stderr, as they would in a fresh process;
- the exit code from `SystemExit` (an uncaught exception is a traceback on stderr and exit 1,
  as the interpreter does), returned as a `subprocess.CompletedProcess`.

What a process owns is put back afterwards: the collector's state (the entry disables it at start
and re-enables it, freezing what is alive, once a reply streams; frozen objects stay frozen, as
after an in-process TUI test), signal handlers (`ask` installs SIGTERM), argv,
environment, cwd, the fds, and the per-process caches (rate limiters, `api_key_cmd` keys) that a
fresh process would start without. A non-daemon thread left running is a failure: the real
process would never exit.

What needs a real process stays a subprocess (`UserEnv.run_process`/`popen`): signals, kill -9,
closed fds, SIGPIPE, terminals, concurrency between processes, import cost.
"""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
import types
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any, TextIO

import agentchat

MAIN_PATH = str(Path(agentchat.__file__).with_name("__main__.py"))
ENCODING = "utf-8"


class _Timeout(BaseException):
    """Raised by SIGALRM in the main thread; a BaseException so no `except Exception` swallows it."""


def run_cli(
    args: Sequence[str | bytes],
    *,
    env: Mapping[str, str],
    cwd: Path | str,
    input: str | bytes | None = None,
    stdin: int | None = None,
    text: bool | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[Any]:
    """`python -m agentchat ARGS` in this process; `subprocess.run(..., capture_output=True)`'s result.

    `text` defaults to True unless `input` is bytes; in text mode stdout and stderr are decoded
    with universal newlines, as `subprocess.run(text=True)` does. `stdin` may be
    `subprocess.DEVNULL` (the default when no `input` is given) only.
    """
    import asyncio

    if text is None:
        text = not isinstance(input, bytes)
    if stdin not in (None, subprocess.DEVNULL):
        raise ValueError("run_cli takes `input` or stdin=subprocess.DEVNULL; use run_process for others")
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("run_cli needs the main thread (ask installs a signal handler)")
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError(
            "run_cli inside a running event loop: ask's asyncio.run would fail; use a sync test"
        )
    argv = [MAIN_PATH, *(os.fsdecode(a) for a in args)]
    data = input.encode(ENCODING) if isinstance(input, str) else input
    before = set(threading.enumerate())
    with ExitStack() as stack:
        out_file = stack.enter_context(tempfile.TemporaryFile())
        err_file = stack.enter_context(tempfile.TemporaryFile())
        stack.enter_context(_process_state(argv, env, cwd))
        stdin_fd = _stdin_fd(data, stack)
        with _std_fds(stdin_fd, out_file.fileno(), err_file.fileno()) as (_, s_out, s_err):
            code = _call_main(s_out, s_err, timeout, argv)
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read(), err_file.read()
    _check_threads(before)
    if text:
        return subprocess.CompletedProcess(argv, code, _decode(out), _decode(err))
    return subprocess.CompletedProcess(argv, code, out, err)


def _decode(raw: bytes) -> str:
    """As `subprocess.run(text=True)`: the locale's encoding, universal newlines."""
    return raw.decode(ENCODING).replace("\r\n", "\n").replace("\r", "\n")


def _call_main(out: IO[str], err: IO[str], timeout: float, argv: list[str]) -> int:
    from agentchat.cli import main

    def alarm(signum: int, frame: object) -> None:
        raise _Timeout

    previous_alarm = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        try:
            main()
            code: int = 0
        except SystemExit as exc:
            code = _exit_status(exc.code, err)
        except _Timeout:
            raise subprocess.TimeoutExpired(argv, timeout) from None
        except KeyboardInterrupt:
            traceback.print_exc(file=err)
            code = -signal.SIGINT
        except BaseException:  # what the interpreter does with an uncaught exception
            traceback.print_exc(file=err)
            code = 1
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        try:  # the interpreter's last flush at exit
            out.flush()
        except (OSError, ValueError):
            code = code or 120
        try:
            err.flush()
        except (OSError, ValueError):
            pass
    finally:
        signal.signal(signal.SIGALRM, previous_alarm)
    return code


def _exit_status(code: object, err: IO[str]) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=err)
    return 1


def _stdin_fd(data: bytes | None, stack: ExitStack) -> int:
    """/dev/null, or the read end of a pipe a thread fills with `data` (as subprocess's `input`)."""
    if data is None:
        fd = os.open(os.devnull, os.O_RDONLY)
        stack.callback(os.close, fd)
        return fd
    read_fd, write_fd = os.pipe()
    stack.callback(os.close, read_fd)

    def feed() -> None:
        try:
            with open(write_fd, "wb", closefd=True) as pipe:
                pipe.write(data)
        except (BrokenPipeError, OSError):
            pass  # the command did not read it all: as with a real process

    threading.Thread(target=feed, name="run_cli-stdin", daemon=True).start()
    return read_fd


@contextmanager
def _std_fds(stdin_fd: int, out_fd: int, err_fd: int) -> Iterator[tuple[IO[str], IO[str], IO[str]]]:
    """fds 0, 1, 2 pointed at the given files (children inherit them) and `sys.std*` over them,
    with the encodings and error handlers Python gives a process's standard streams here."""
    saved_fds = {fd: os.dup(fd) for fd in (0, 1, 2)}
    saved_streams = (sys.stdin, sys.stdout, sys.stderr)
    os.dup2(stdin_fd, 0)
    os.dup2(out_fd, 1)
    os.dup2(err_fd, 2)
    io_errors = _io_errors()
    s_in = open(0, encoding=ENCODING, errors=io_errors, newline="\n", closefd=False)
    s_out = open(1, "w", encoding=ENCODING, errors=io_errors, newline="\n", closefd=False)
    s_err = open(2, "w", encoding=ENCODING, errors="backslashreplace", newline="\n", closefd=False)
    sys.stdin, sys.stdout, sys.stderr = s_in, s_out, s_err
    try:
        yield s_in, s_out, s_err
    finally:
        for stream in (s_out, s_err):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        for stream in (s_in, s_out, s_err):
            try:
                stream.close()
            except (OSError, ValueError):
                pass
        for fd, saved in saved_fds.items():
            os.dup2(saved, fd)
            os.close(saved)


def _io_errors() -> str:
    """The error handler of this interpreter's own stdout (surrogateescape in a C/POSIX locale)."""
    real = sys.__stdout__
    return getattr(real, "errors", None) or "strict"


@contextmanager
def _process_state(argv: list[str], env: Mapping[str, str], cwd: Path | str) -> Iterator[None]:
    """Everything else a fresh process would have to itself, put back afterwards."""
    from agentchat import gc_policy
    from agentchat.cli import state
    from agentchat.core import ratelimit
    from agentchat.providers import base

    saved_environ = dict(os.environ)
    saved_cwd = os.getcwd()
    saved_argv = sys.argv
    saved_main = sys.modules["__main__"]
    saved_signals = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGPIPE)}
    saved_gc = (gc.isenabled(), gc.get_threshold(), gc_policy._saved_full)
    saved_caches = (dict(ratelimit._LIMITERS), dict(base._COMMAND_KEYS), state.config_path)
    saved_hooks = (sys.unraisablehook, threading.excepthook)
    # `python -m agentchat`: Click names the program from __main__'s package and argv[0].
    fake_main = types.ModuleType("__main__")
    fake_main.__package__ = "agentchat"
    fake_main.__file__ = MAIN_PATH
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    sys.argv = argv
    sys.modules["__main__"] = fake_main
    ratelimit._LIMITERS.clear()
    base._COMMAND_KEYS.clear()
    state.config_path = None
    sys.unraisablehook = sys.__unraisablehook__
    threading.excepthook = threading.__excepthook__
    try:
        with warnings.catch_warnings():
            _fresh_warning_filters()
            yield
    finally:
        sys.unraisablehook, threading.excepthook = saved_hooks
        ratelimit._LIMITERS.clear()
        ratelimit._LIMITERS.update(saved_caches[0])
        base._COMMAND_KEYS.clear()
        base._COMMAND_KEYS.update(saved_caches[1])
        state.config_path = saved_caches[2]
        enabled, threshold, saved_full = saved_gc
        gc.set_threshold(*threshold)
        gc_policy._saved_full = saved_full
        if enabled:
            gc.enable()
        else:
            gc.disable()
        for sig, handler in saved_signals.items():
            signal.signal(sig, handler)
        sys.modules["__main__"] = saved_main
        sys.argv = saved_argv
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_environ)


def _fresh_warning_filters() -> None:
    """A fresh interpreter's filters (pytest turns them on and records them instead); shown on
    stderr, where a user of the real process would see them."""
    warnings.resetwarnings()
    for category in (ResourceWarning, ImportWarning, PendingDeprecationWarning, DeprecationWarning):
        warnings.filterwarnings("ignore", category=category)
    warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))

    warnings.showwarning = show


def _check_threads(before: set[threading.Thread]) -> None:
    """A non-daemon thread the command left running would keep the real process from exiting."""
    left = [t for t in threading.enumerate() if t not in before and not t.daemon and t.is_alive()]
    for thread in left:
        thread.join(timeout=5)
    stuck = [t.name for t in left if t.is_alive()]
    if stuck:
        raise AssertionError(f"the command left non-daemon threads running (the process would hang): {stuck}")
