"""Many replies streaming into one history at once (a gateway's clients): they share one writer
thread and connection, every final reply is stored, and one that is deleted meanwhile is let go."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

from agentchat.core.messages import Message, TextPart
from agentchat.core.persist import ReplyWriter
from agentchat.core.store import Store
from tests.conftest import UserEnv
from tests.fakes import openai_fake as oai
from tests.fakes.openai_fake import OpenAIFake

REPLIES = 12


def writer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "agentchat-reply-writer"]


def streaming(store: Store, conv: int, i: int) -> Message:
    message = Message(role="assistant", parts=[TextPart(f"reply {i} so far")], status="streaming")
    store.add_message(conv, message)
    return message


def test_replies_streaming_at_once_share_one_writer_and_all_are_stored(tmp_path: Path) -> None:
    store = Store(tmp_path / "history.db")
    conv = store.create_conversation()
    messages = [streaming(store, conv, i) for i in range(REPLIES)]
    writers = [ReplyWriter(store, final_wait_s=30) for _ in messages]
    other = sqlite3.connect(tmp_path / "history.db", isolation_level=None)  # another process's lock
    other.execute("BEGIN IMMEDIATE")
    before = set(writer_threads())  # other histories' writers (earlier tests') are not this one's

    async def finish() -> list[str | None]:
        for i, (message, writer) in enumerate(zip(messages, writers, strict=True)):
            writer.save(message)
            message.parts, message.status = [TextPart(f"reply {i} done")], "complete"
        closing = [asyncio.create_task(w.close(m)) for w, m in zip(writers, messages, strict=True)]
        await asyncio.sleep(0.05)  # every reply waits for the store
        assert (
            len(set(writer_threads()) - before) == 1
        )  # a thread (and a connection) per reply was the gateway's cost
        other.execute("ROLLBACK")
        return await asyncio.gather(*closing)

    try:
        assert asyncio.run(finish()) == [None] * REPLIES
        stored = [store.get_message(m.id) for m in messages if m.id is not None]
        assert [(m.status, m.text) for m in stored if m] == [
            ("complete", f"reply {i} done") for i in range(REPLIES)
        ]
    finally:
        other.close()
        store.close()


def test_a_reply_deleted_while_it_streams_does_not_hold_up_the_others(tmp_path: Path) -> None:
    store = Store(tmp_path / "history.db")
    kept, gone = store.create_conversation(), store.create_conversation()
    survivor, deleted = streaming(store, kept, 0), streaming(store, gone, 1)
    store.delete_conversation(gone)  # the TUI's delete, mid-stream

    async def finish() -> list[str | None]:
        writers = [ReplyWriter(store, final_wait_s=30), ReplyWriter(store, final_wait_s=30)]
        survivor.status = deleted.status = "complete"
        return await asyncio.gather(writers[0].close(survivor), writers[1].close(deleted))

    try:
        assert asyncio.run(finish()) == [None, None]
        assert survivor.id is not None and deleted.id is not None
        stored = store.get_message(survivor.id)
        assert stored is not None and stored.status == "complete"
        assert store.get_message(deleted.id) is None
    finally:
        store.close()


def test_after_ask_exits_the_history_is_one_file(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    """The writer's connection is closed as the process exits, so the write-ahead log is folded
    into history.db: a copy of that one file (a backup) holds the newest reply."""
    user_env.write_config(
        f'[providers.openai]\napi_key = "sk-test-0123456789"\nbase_url = "{openai_fake.base_url}"\n'
    )
    openai_fake.queue(oai.text(["kept ", "whole"]))
    proc = user_env.run_process("ask", "-m", "gpt-4o-mini", "hi")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in user_env.data_dir.iterdir() if p.name.startswith("history")) == [
        "history.db"
    ]
    copy = user_env.root / "backup.db"
    copy.write_bytes(user_env.db_path.read_bytes())
    with sqlite3.connect(copy) as conn:
        (parts,) = conn.execute("SELECT parts FROM messages WHERE role = 'assistant'").fetchone()
    assert "kept whole" in parts
