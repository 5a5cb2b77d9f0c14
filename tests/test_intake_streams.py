"""`-f <(cmd)`, `-f /dev/stdin`: a pipe or a character device named as a file is read as `-f -`
reads stdin (to its end, capped, sniffed); what cannot be read as a file or a stream is refused."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from agentchat.core.errors import UsageError
from agentchat.core.intake import Limits, read_inputs
from tests.attach_files import make_image
from tests.conftest import UserEnv
from tests.fakes import openai_fake as oai
from tests.fakes.openai_fake import OpenAIFake


@contextmanager
def piped(data: bytes) -> Iterator[str]:
    """What a shell's `<(printf DATA)` gives: /dev/fd/N, the read end of a pipe a writer fills
    in pieces (a thread: more than a pipe holds, and a read that returns only part of it)."""
    read_fd, write_fd = os.pipe()

    def feed() -> None:
        with open(write_fd, "wb", buffering=0) as pipe:
            try:
                for start in range(0, len(data), 1000):
                    pipe.write(data[start : start + 1000])
            except BrokenPipeError:  # refused over the cap: the reader left
                pass

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        yield f"/dev/fd/{read_fd}"
    finally:
        os.close(read_fd)
        writer.join(timeout=5)


def refused(source: str, limits: Limits | None = None) -> str:
    with pytest.raises(UsageError) as info:
        read_inputs([source], limits)
    return str(info.value)


def test_a_pipe_named_as_a_file_is_read_to_its_end_and_sniffed() -> None:
    text = b"secret " * 20_000  # 140 KB: more than a pipe holds at once
    with piped(text) as path:
        (part,) = read_inputs([path]).parts
    assert (part.kind, part.name, part.data) == ("text", path, text)
    png = make_image()
    with piped(png) as path:
        (part,) = read_inputs([path]).parts
    assert (part.kind, part.media_type) == ("image", "image/png")


def test_a_stream_is_held_to_the_per_file_cap_and_an_empty_one_refused() -> None:
    with piped(b"x" * 5_000) as path:
        assert "per-file limit" in refused(path, Limits(max_file_bytes=1_000))
    assert "per-file limit" in refused("/dev/zero", Limits(max_file_bytes=1_000))
    assert refused("/dev/null") == "/dev/null: is empty"


def test_what_is_neither_a_file_nor_a_stream_is_still_refused() -> None:
    assert refused("/proc/self/mem").startswith("/proc/self/mem: cannot read")


def test_ask_attaches_a_process_substitution(
    user_env: UserEnv, openai_fake: OpenAIFake, tmp_path: Path
) -> None:
    user_env.write_config(
        f'[providers.openai]\napi_key = "sk-test-1234567"\nbase_url = "{openai_fake.base_url}"\n'
    )
    openai_fake.queue(oai.text(["seen"]))
    with piped(b"the secret is 42\n") as path:
        proc = user_env.run("ask", "-m", "gpt-4o-mini", "-f", path, "what is the secret?")
    assert (proc.returncode, proc.stdout) == (0, "seen\n"), proc.stderr
    assert "the secret is 42" in str(openai_fake.chat_requests()[0].body["messages"])


def test_ask_f_dev_stdin_attaches_the_piped_input_as_f_dash_does(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    """Not read twice: as the prompt first, then as an empty stream."""
    user_env.write_config(
        f'[providers.openai]\napi_key = "sk-test-1234567"\nbase_url = "{openai_fake.base_url}"\n'
    )
    openai_fake.queue(oai.text(["seen"]))
    proc = user_env.run("ask", "-m", "gpt-4o-mini", "-f", "/dev/stdin", "what is it?", input="piped words\n")
    assert (proc.returncode, proc.stdout) == (0, "seen\n"), proc.stderr
    sent = str(openai_fake.chat_requests()[0].body["messages"])
    assert "piped words" in sent and "what is it?" in sent
