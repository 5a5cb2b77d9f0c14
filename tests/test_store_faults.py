"""Crashes and storage faults as a user meets them: a `kill -9` mid-reply, another process holding
the database's write lock, a disk that fills up. Nothing is lost and nothing stays `streaming`."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from agentchat.core.recovery import reap_dead_streams
from agentchat.core.store import Store
from tests.conftest import UserEnv
from tests.fakes import openai_fake as oai
from tests.fakes.openai_fake import OpenAIFake

KEY = "sk-test-faults-0123456789"
WORDS = [f"word{i} " for i in range(60)]


def config(fake: OpenAIFake) -> str:
    return f'[providers.openai]\napi_key = "{KEY}"\nbase_url = "{fake.base_url}"\n'


def start_ask(user_env: UserEnv, *args: str) -> subprocess.Popen[str]:
    return user_env.popen("ask", "-m", "gpt-4o-mini", *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def first_output(proc: subprocess.Popen[str]) -> str:
    """Block until the reply's first bytes reach stdout: the reply row exists and streams. Read
    from the descriptor, so `communicate` later gets every byte after these."""
    assert proc.stdout is not None
    return os.read(proc.stdout.fileno(), 5).decode()


def replies(user_env: UserEnv) -> list[tuple[str, str]]:
    with user_env.store() as store:
        conv = store.most_recent_conversation()
        assert conv is not None
        return [(m.status, m.text) for m in store.thread(store.leaf(conv)) if m.role == "assistant"]  # type: ignore[arg-type]


def test_a_reply_whose_process_was_killed_becomes_interrupted_and_resumable(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    user_env.write_config(config(openai_fake))
    openai_fake.queue(oai.text(WORDS, delay_s=0.05), oai.text(["the rest."]))
    proc = start_ask(user_env, "count words")
    first_output(proc)
    deadline = time.monotonic() + 30
    while not replies(user_env)[0][1]:  # until a persist interval passed and some words are stored
        assert time.monotonic() < deadline, "no words were stored while the reply streamed"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    # Any later process sees a dead owner: `history` lists it, and the reply is interrupted.
    assert user_env.run("history").returncode == 0
    ((status, text),) = replies(user_env)
    assert status == "interrupted" and text.startswith("word0 ")
    proc2 = user_env.run("ask", "-c", "--resume", stdin=subprocess.DEVNULL)
    assert proc2.returncode == 0, proc2.stderr
    assert proc2.stdout == "the rest.\n"


def test_a_live_stream_in_another_process_is_left_alone(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(config(openai_fake))
    mid_stream = threading.Event()
    openai_fake.queue(replace(oai.text(WORDS), hold=mid_stream, hold_after=3))
    proc = start_ask(user_env, "count words")
    try:
        first_output(proc)
        with Store(user_env.db_path) as other:  # another process's view (this one): it opens and looks
            assert reap_dead_streams(other) == []
        assert user_env.run("history").returncode == 0  # the CLI, in this process, opening the store
        assert replies(user_env)[0][0] == "streaming"
    finally:
        mid_stream.set()
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert replies(user_env) == [("complete", "".join(WORDS))]


@pytest.fixture
def write_lock(user_env: UserEnv) -> Iterator[sqlite3.Connection]:
    """Another process's connection, ready to hold the database's write lock."""
    with user_env.store():
        pass  # the database exists, migrated
    conn = sqlite3.connect(user_env.db_path, isolation_level=None)
    try:
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()


def test_a_write_lock_held_by_another_process_never_stalls_the_output(
    user_env: UserEnv, openai_fake: OpenAIFake, write_lock: sqlite3.Connection
) -> None:
    """The lock is taken once the reply streams and held past its end: every word still reaches
    stdout at the stream's pace, the reply is kept in a recovery file, `ask` ends with one line
    (exit 1), and the next process to open the history stores the reply whole."""
    user_env.write_config(config(openai_fake))
    openai_fake.queue(oai.text(WORDS, delay_s=0.02))
    proc = start_ask(user_env, "count words")
    head = first_output(proc)
    write_lock.execute("BEGIN IMMEDIATE")
    began = time.monotonic()
    out, err = proc.communicate(timeout=60)
    took = time.monotonic() - began
    assert head + out == "".join(WORDS) + "\n"
    assert took < 15, took  # was 30 s of busy waiting, then exit 1 with the reply stuck
    assert proc.returncode == 1
    (line,) = err.strip().splitlines()
    assert "locked by another process" in line and "kept in" in line
    kept = list((user_env.data_dir / "recovery").glob("reply-*.json"))
    assert len(kept) == 1
    write_lock.execute("ROLLBACK")
    assert replies(user_env) == [("complete", "".join(WORDS))]  # imported on opening
    assert not kept[0].exists()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs: a disk that really fills up (root only; skipped elsewhere)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {result.stderr.strip() or 'not root'}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_disk_that_fills_up_mid_stream_says_disk_full(
    user_env: UserEnv, openai_fake: OpenAIFake, small_disk: Path
) -> None:
    user_env.write_config(config(openai_fake))
    user_env.env["AGENTCHAT_DATA_DIR"] = str(small_disk)
    with Store(small_disk / "history.db"):
        pass
    filler = small_disk / "filler"
    with filler.open("wb") as fh:  # leave about 200 KB
        while os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize > 200_000:
            fh.write(b"\0" * 65536)
            fh.flush()
    big = ["x" * 4000 + "\n" for _ in range(150)]  # 600 KB of reply
    openai_fake.queue(oai.text(big, delay_s=0.005))
    proc = user_env.run("ask", "-m", "gpt-4o-mini", "write a lot")
    out, err = proc.stdout, proc.stderr
    assert out == "".join(big).rstrip("\n") + "\n"  # the whole reply reached the screen
    assert proc.returncode == 1
    assert "disk full" in err and "disk I/O error" not in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_sqlite_full_is_reported_as_disk_full(tmp_path: Path) -> None:
    from agentchat.core.errors import StoreError
    from agentchat.core.messages import Message

    with Store(tmp_path / "h.db") as store:
        conv = store.create_conversation()
        store._conn.execute("PRAGMA max_page_count = 20")  # the file may not grow past 20 pages
        with pytest.raises(StoreError, match=r"^disk full: cannot write the history database"):
            store.add_message(conv, Message.user("y" * 200_000))


if sys.platform != "linux":  # pragma: no cover
    pytestmark = pytest.mark.skip(reason="process start times come from /proc")
