"""The in-process CLI runner (tests/inproc.py) is only worth having if it sees what a real process
sees: the same exit code and the same bytes on stdout and stderr, and it leaves this process as it
found it."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys

import pytest

from tests.conftest import UserEnv
from tests.fakes import openai_fake as oai
from tests.fakes.openai_fake import OpenAIFake

ANSWER = "**bold** \x1b[31mred\x1b[0m\r\ncaf\u00e9 \ud800 end\n\n"


def both(user_env: UserEnv, *args: str, input: bytes | None = None) -> list[tuple[int, bytes, bytes]]:
    """The command in this process, then as a real one: exit code, stdout and stderr bytes."""
    inproc = user_env.run(*args, input=input, text=False)
    real = subprocess.run(
        [sys.executable, "-m", "agentchat", *args],
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        env=user_env.env,
        cwd=user_env.root,
        timeout=60,
    )
    return [(p.returncode, p.stdout, p.stderr) for p in (inproc, real)]


@pytest.mark.parametrize(
    "args",
    [
        ("--version",),
        ("ask",),  # a usage error: nothing piped, no words
        ("nosuchcommand",),  # Click's usage error names the program as `python -m agentchat`
        ("--config", "/nonexistent/agentchat.toml", "history"),
    ],
    ids=" ".join,
)
def test_exit_code_stdout_and_stderr_match_a_real_process(user_env: UserEnv, args: tuple[str, ...]) -> None:
    inproc, real = both(user_env, *args)
    assert inproc == real


def test_a_piped_answer_is_the_same_bytes_as_from_a_real_process(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    """Not a terminal (plain text, control characters and all), a lone surrogate replaced, stdin
    read as bytes."""
    user_env.write_config(
        f'[providers.openai]\napi_key = "sk-test"\nbase_url = "{openai_fake.base_url}"\n'
        "[retry]\nmax_attempts = 1\n"
    )
    openai_fake.queue(oai.text([ANSWER]), oai.text([ANSWER]))
    inproc, real = both(user_env, "ask", "-u", "-m", "gpt-4o-mini", "summarise", input=b"caf\xe9\n")
    assert inproc[0] == real[0] == 0, real[2]
    assert inproc[1] == real[1] == ANSWER.replace("\ud800", "\ufffd").rstrip("\n").encode() + b"\n"
    assert [r.body["messages"] for r in openai_fake.chat_requests()] == [
        [{"role": "user", "content": "caf\ufffd\n\nsummarise"}]
    ] * 2
    # -u's line holds timings that differ from run to run; its shape is the same
    assert inproc[2].split(b" \xc2\xb7 ")[:2] == real[2].split(b" \xc2\xb7 ")[:2]


def test_the_process_is_left_as_it_was(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    """A streamed reply disables and re-enables the collector and installs a SIGTERM handler; the
    runner swaps fds, streams, argv, environment and cwd: all put back."""
    user_env.write_config(f'[providers.openai]\napi_key = "sk-test"\nbase_url = "{openai_fake.base_url}"\n')
    openai_fake.queue(oai.text(["streamed"]))

    def state() -> tuple[object, ...]:
        return (
            gc.isenabled(),
            gc.get_threshold(),
            signal.getsignal(signal.SIGTERM),
            signal.getsignal(signal.SIGINT),
            dict(os.environ),
            os.getcwd(),
            list(sys.argv),
            (sys.stdin, sys.stdout, sys.stderr),
            sys.modules["__main__"],
            [(os.fstat(fd).st_dev, os.fstat(fd).st_ino) for fd in (0, 1, 2)],
        )

    before = state()
    proc = user_env.run("ask", "-m", "gpt-4o-mini", "hi")
    assert (proc.returncode, proc.stdout) == (0, "streamed\n"), proc.stderr
    assert state() == before
