"""The SQLite history store, on real database files."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import agentchat
from agentchat.core import store_schema
from agentchat.core.errors import StoreError
from agentchat.core.messages import Message, TextPart, ThinkingPart, ToolCallPart, ToolResultPart, Usage
from agentchat.core.store import MATCH_CLOSE, MATCH_OPEN, Store
from agentchat.core.store_schema import MIGRATIONS
from tests.branches import children

WRITER = Path(__file__).with_name("store_writer.py")


class Clock:
    """Each reading is one second later, so 'most recently used' never depends on timer resolution."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "history.db"


@pytest.fixture
def store(db: Path) -> Iterator[Store]:
    with Store(db, clock=Clock()) as s:
        yield s


def chain(store: Store, conversation_id: int, *messages: Message, parent: int | None = None) -> list[Message]:
    """Add messages one after another, each a reply to the previous one."""
    for message in messages:
        message.parent_id = parent
        parent = store.add_message(conversation_id, message)
    return list(messages)


def assistant(text: str, **meta: object) -> Message:
    return Message(role="assistant", parts=[TextPart(text)], **meta)


# --- content ---------------------------------------------------------------------------------------
def test_every_part_type_and_all_metadata_survive_a_reopen(db: Path, store: Store) -> None:
    cid = store.create_conversation(title="tools", agent="coder")
    user, reply, tool = chain(
        store,
        cid,
        Message.system("be brief"),
        Message.user("what's in ./src? ünïcode ✓"),
        Message(
            role="assistant",
            parts=[
                ThinkingPart("let me look", signature="sig-abc=="),
                ThinkingPart("", redacted="opaque-blob"),
                TextPart("Listing it."),
                ToolCallPart("call_1", "list_dir", {"path": "./src", "depth": 2, "glob": ["*.py"]}),
            ],
            provider="anthropic",
            model="claude-x",
            finish_reason="tool_calls",
            usage=Usage(input_tokens=120, output_tokens=40, cached_tokens=100, reasoning_tokens=12),
            cost=0.00123,
            ttft_s=0.42,
            total_s=1.5,
        ),
        Message(role="tool", parts=[ToolResultPart("call_1", "no such dir", is_error=True, name="list_dir")]),
    )[1:]
    assert reply.id is not None and reply.conversation_id == cid and reply.created_at is not None

    with Store(db) as other:  # a second connection, as another process would see it
        for original in (user, reply, tool):
            assert other.get_message(original.id) == original
        assert other.get_message(10_000) is None


def test_unknown_usage_stays_unknown_rather_than_zero(store: Store) -> None:
    cid = store.create_conversation()
    (reply,) = chain(store, cid, assistant("hi", usage=Usage(output_tokens=5)))
    loaded = store.get_message(reply.id)
    assert loaded.usage == Usage(None, 5, None, None)
    assert loaded.cost is None


# --- threads and branches ----------------------------------------------------------------------------
def test_editing_a_message_branches_and_keeps_the_old_branch(store: Store) -> None:
    cid = store.create_conversation()
    u1, a1, u2, a2 = chain(
        store, cid, Message.user("one"), assistant("1"), Message.user("two"), assistant("2")
    )
    u2b, a2b = chain(store, cid, Message.user("two, edited"), assistant("2b"), parent=a1.id)

    assert store.leaf(cid) == a2b.id
    assert [m.text for m in store.thread(store.leaf(cid))] == ["one", "1", "two, edited", "2b"]
    assert [m.id for m in store.thread(a2.id)] == [u1.id, a1.id, u2.id, a2.id]
    assert [m.id for m in children(store, a1.id)] == [u2.id, u2b.id]
    assert children(store, a2b.id) == []
    assert store.thread_length(a2b.id) == 4
    assert store.thread_length(999) == 0
    assert store.conversation(cid).message_count == 6


def test_branch_leaf_follows_the_newest_child_down_from_a_message(store: Store) -> None:
    cid = store.create_conversation()
    u1, a1, u2, a2 = chain(store, cid, Message.user("q1"), assistant("1"), Message.user("q2"), assistant("2"))
    _, a2b = chain(store, cid, Message.user("q2, edited"), assistant("2b"), parent=a1.id)
    (a2r,) = chain(store, cid, assistant("2, regenerated"), parent=u2.id)  # newest, on the old branch

    assert store.leaf(cid) == a2r.id
    assert store.branch_leaf(u1.id) == store.branch_leaf(a1.id) == a2b.id  # the edit is a1's newest child
    assert store.branch_leaf(u2.id) == a2r.id
    assert store.branch_leaf(a2.id) == a2.id
    with pytest.raises(StoreError, match="message 999 no longer exists"):
        store.branch_leaf(999)


def test_regenerating_makes_the_new_reply_the_leaf(store: Store) -> None:
    cid = store.create_conversation()
    u, _ = chain(store, cid, Message.user("q"), assistant("first try"))
    (again,) = chain(store, cid, assistant("second try"), parent=u.id)
    assert store.leaf(cid) == again.id
    assert [m.text for m in children(store, u.id)] == ["first try", "second try"]


def test_thread_limit_returns_only_the_newest_messages_in_order(store: Store) -> None:
    cid = store.create_conversation()
    messages = chain(store, cid, *(Message.user(f"m{i}") for i in range(10)))
    leaf = messages[-1].id
    assert [m.text for m in store.thread(leaf, limit=3)] == ["m7", "m8", "m9"]
    assert len(store.thread(leaf, limit=50)) == 10
    assert store.thread(leaf, limit=0) == []
    assert store.thread(12345) == []
    assert store.leaf(store.create_conversation()) is None


def test_a_parent_from_another_conversation_is_refused(store: Store) -> None:
    first, second = store.create_conversation(), store.create_conversation()
    (m,) = chain(store, first, Message.user("x"))
    with pytest.raises(ValueError, match="belongs to conversation"):
        store.add_message(second, Message(role="user", parts=[TextPart("y")], parent_id=m.id))


def test_writing_to_a_conversation_deleted_by_another_process_is_a_store_error(
    db: Path, store: Store
) -> None:
    cid = store.create_conversation()
    (reply,) = chain(store, cid, assistant("partial", status="streaming"))
    with Store(db) as other:
        other.delete_conversation(cid)
    with pytest.raises(StoreError, match="no longer exists"):
        store.add_message(cid, Message.user("again"))
    with pytest.raises(StoreError, match="no longer exists"):
        store.update_message(reply)


# --- streaming persistence -----------------------------------------------------------------------
def test_a_streamed_reply_is_visible_while_streaming_then_finalised(db: Path, store: Store) -> None:
    cid = store.create_conversation()
    (_, reply) = chain(store, cid, Message.user("tell me"), assistant("Once", status="streaming"))
    with Store(db) as other:  # the TUI in another process
        reply.parts = [ThinkingPart("hmm"), TextPart("Once upon")]
        store.update_message(reply)
        assert other.get_message(reply.id).text == "Once upon"
        assert other.get_message(reply.id).status == "streaming"

        reply.parts = [ThinkingPart("hmm", signature="s"), TextPart("Once upon a time, dragons.")]
        reply.status, reply.finish_reason = "complete", "stop"
        reply.provider, reply.model = "openai", "gpt-x"
        reply.usage, reply.cost, reply.ttft_s, reply.total_s = Usage(3, 7), 0.5, 0.1, 2.0
        store.update_message(reply)
        assert other.get_message(reply.id) == reply
        assert [h.message_id for h in other.search("dragons")] == [reply.id]
        info = other.conversation(cid)
        assert (info.provider, info.model) == ("openai", "gpt-x")


def test_an_interrupted_reply_keeps_its_partial_text_and_status(db: Path, store: Store) -> None:
    cid = store.create_conversation()
    (reply,) = chain(store, cid, assistant("half an ans", status="streaming"))
    reply.status, reply.error = "interrupted", "connection reset by peer"
    store.update_message(reply)
    with Store(db) as other:
        loaded = other.get_message(reply.id)
    assert (loaded.status, loaded.error, loaded.text) == (
        "interrupted",
        "connection reset by peer",
        "half an ans",
    )


def test_update_needs_a_stored_message(store: Store) -> None:
    with pytest.raises(ValueError):
        store.update_message(Message.user("never added"))


# --- listing ------------------------------------------------------------------------------------------
def test_conversations_are_listed_by_last_use_and_continuing_an_old_one_makes_it_most_recent(
    store: Store,
) -> None:
    a, b, c = (store.create_conversation(title=t) for t in "abc")
    assert store.most_recent_conversation() == c
    store.add_message(a, Message.user("back to a"))
    assert [i.id for i in store.list_conversations()] == [a, c, b]
    assert store.most_recent_conversation() == a
    assert [i.id for i in store.list_conversations(limit=2, offset=1)] == [c, b]
    store.rename_conversation(b, "renamed")  # renaming is not using
    assert store.conversation(b).title == "renamed"
    assert store.most_recent_conversation() == a


def test_empty_store_has_no_recent_conversation(store: Store) -> None:
    assert store.most_recent_conversation() is None
    assert store.list_conversations() == []
    assert store.conversation(1) is None


def test_listing_shows_counts_last_model_agent_and_a_derived_title(store: Store) -> None:
    long_text = (
        "How do I   make\nsourdough bread at home without a starter, and how long does it take overall?"
    )
    untitled = store.create_conversation(agent="chef")
    chain(
        store,
        untitled,
        Message.system("you are a chef"),
        Message.user(long_text),
        assistant("...", provider="ollama", model="llama3"),
        Message.user("thanks"),
        assistant("!", provider="openai", model="gpt-4o"),
        Message.user("one more"),
    )
    titled = store.create_conversation(title="My title")
    store.add_message(titled, Message.user("something else"))
    empty = store.create_conversation()

    infos = {i.id: i for i in store.list_conversations()}
    info = infos[untitled]
    expected = "How do I make sourdough bread at home without a starter, and"
    assert info.title == expected + "…" and len(expected) == 60
    assert (info.message_count, info.agent, info.provider, info.model) == (6, "chef", "openai", "gpt-4o")
    assert infos[titled].title == "My title"
    assert (infos[empty].title, infos[empty].message_count, infos[empty].model) == (None, 0, None)
    assert store.conversation(untitled) == info
    assert [i.id for i in store.list_conversations(agent="chef")] == [untitled]
    assert store.list_conversations(agent="nobody") == []


def test_listing_by_agent_none_keeps_only_conversations_without_an_agent(store: Store) -> None:
    plain_old = store.create_conversation()
    named = [store.create_conversation(agent="chef") for _ in range(3)]
    plain_new = store.create_conversation()
    store.add_message(named[0], Message.user("most recent of all"))

    assert [i.id for i in store.list_conversations(agent=None)] == [plain_new, plain_old]
    assert [i.id for i in store.list_conversations(agent=None, limit=1, offset=1)] == [plain_old]
    assert [i.id for i in store.list_conversations(agent="chef", limit=1)] == [named[0]]
    assert len(store.list_conversations()) == 5  # no agent argument: every agent


def test_deleting_a_conversation_removes_its_messages_and_search_entries(db: Path, store: Store) -> None:
    gone, kept = store.create_conversation(), store.create_conversation()
    doomed = chain(store, gone, Message.user("zebra facts"), assistant("zebras have stripes"))
    (survivor,) = chain(store, kept, Message.user("zebra crossing"))

    assert store.delete_conversation(gone) is True
    assert store.delete_conversation(gone) is False
    assert store.conversation(gone) is None
    assert all(store.get_message(m.id) is None for m in doomed)
    assert [h.message_id for h in store.search("zebra")] == [survivor.id]
    with sqlite3.connect(db) as raw:
        assert raw.execute("SELECT count(*) FROM message_fts").fetchone() == (1,)


# --- search --------------------------------------------------------------------------------------------
def test_search_finds_text_tool_output_and_returns_a_marked_snippet(store: Store) -> None:
    cid = store.create_conversation()
    chain(
        store,
        cid,
        Message.user("Explain the quadratic formula to me please"),
        Message(role="assistant", parts=[ThinkingPart("secretthought")], provider="x"),
        Message(role="tool", parts=[ToolResultPart("c1", "grep found 3 matches in parser.py")]),
    )
    (hit,) = store.search("quadratic")
    assert hit.conversation_id == cid and hit.role == "user"
    assert hit.title == "Explain the quadratic formula to me please"
    assert f"{MATCH_OPEN}quadratic{MATCH_CLOSE}" in hit.snippet
    assert [h.role for h in store.search("parser")] == ["tool"]
    assert [h.role for h in store.search("quadr*")] == ["user"]
    assert store.search("QUADRATIC formula")  # every word, any case
    assert store.search("quadratic banana") == []
    assert store.search("secretthought") == []  # thinking is not searched


@pytest.mark.parametrize(
    "query",
    ['"unbalanced', "foo-bar", "-foo", "a:b", "text:foo", "(paren", "paren)", "*", "**", "NOT", "a AND",
     "OR b", "NEAR(x y)", "^start", "x + y", "'single'", '""', "   ", "🙂", "c++", "col:*"],
)  # fmt: skip
def test_search_takes_fts_syntax_in_user_text_literally(store: Store, query: str) -> None:
    cid = store.create_conversation()
    chain(store, cid, Message.user('foo-bar (paren) a:b c++ NOT "unbalanced'))
    assert isinstance(store.search(query), list)


@pytest.mark.parametrize("separator", ["\x00", "\x01", "\t", "\x1b", "\x7f", "\x85", "\ud800"])
def test_control_characters_in_a_query_separate_words(store: Store, separator: str) -> None:
    cid = store.create_conversation()
    (message,) = chain(store, cid, Message.user("hello world"))
    assert [h.message_id for h in store.search(f"hello{separator}world")] == [message.id]
    assert [h.message_id for h in store.search(f"{separator}hello{separator}")] == [message.id]
    assert store.search(separator) == []


def test_operators_quotes_and_parentheses_in_a_query_are_plain_words(store: Store) -> None:
    cid = store.create_conversation()
    (message,) = chain(store, cid, Message.user('cats AND dogs NOT "birds" (fish)'))
    for query in ("AND", "NOT", "NOT cats", "cats OR", '"birds', "(fish)", "fish)", "dogs *", "cat*"):
        hits = [h.message_id for h in store.search(query)]
        assert hits == ([] if query == "cats OR" else [message.id]), query
    assert store.search("*") == store.search("OR") == []


def test_search_matches_punctuated_words_literally(store: Store) -> None:
    cid = store.create_conversation()
    chain(store, cid, Message.user("use foo-bar and (paren)"), Message.user("bar foo"))
    assert [h.snippet for h in store.search("foo-bar")] == [
        f"use {MATCH_OPEN}foo-bar{MATCH_CLOSE} and (paren)"
    ]
    assert len(store.search("(paren)")) == 1


# --- statistics ----------------------------------------------------------------------------------------
def test_assistant_records_cover_only_assistant_messages_since_a_time(store: Store) -> None:
    cid = store.create_conversation()
    _, early, _, late = chain(
        store,
        cid,
        Message.user("q"),
        assistant("a", provider="openai", model="m1", usage=Usage(10, 5), cost=0.1, ttft_s=0.2, total_s=1.0),
        Message.user("q2"),
        assistant("", provider="anthropic", model="m2", status="error", error="overloaded"),
    )
    records = store.assistant_records()
    assert [r.message_id for r in records] == [early.id, late.id]
    first = records[0]
    assert (first.provider, first.model, first.input_tokens, first.output_tokens, first.cost) == (
        "openai", "m1", 10, 5, 0.1
    )  # fmt: skip
    assert (first.ttft_s, first.total_s, first.status, first.conversation_id) == (0.2, 1.0, "complete", cid)
    (only,) = store.assistant_records(since=late.created_at)
    assert (only.status, only.error, only.input_tokens) == ("error", "overloaded", None)


# --- opening, migrations, damage -----------------------------------------------------------------------
def test_a_new_database_is_private_wal_and_at_the_current_schema(db: Path) -> None:
    Store(db).close()
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    if os.name == "posix":
        assert db.stat().st_mode & 0o777 == 0o600


def test_open_default_uses_the_data_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTCHAT_DATA_DIR", str(tmp_path / "data"))
    with Store.open_default() as s:
        s.create_conversation()
    assert (tmp_path / "data" / "history.db").is_file()


def test_an_empty_existing_database_is_migrated_and_reopening_migrates_nothing(db: Path) -> None:
    db.touch()  # a zero-byte file is an empty SQLite database at user_version 0
    with Store(db) as s:
        cid = s.create_conversation(title="kept")
    with Store(db) as s:  # a second migration run would fail on "table already exists"
        assert s.conversation(cid).title == "kept"


def test_an_old_schema_is_migrated_forward_keeping_its_data(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(db) as s:
        cid = s.create_conversation(title="from v1")
    monkeypatch.setattr(
        store_schema, "MIGRATIONS", [*MIGRATIONS, ("ALTER TABLE conversations ADD COLUMN pinned INTEGER",)]
    )
    with Store(db) as s:
        assert s.conversation(cid).title == "from v1"
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS) + 1,)
        assert raw.execute("SELECT pinned FROM conversations").fetchall() == [(None,)]


def test_a_version_1_database_gains_the_conversation_system_prompt(db: Path) -> None:
    with sqlite3.connect(db) as raw:
        for statement in MIGRATIONS[0]:
            raw.execute(statement)
        raw.execute("INSERT INTO conversations (title, created_at, updated_at) VALUES ('old', 1, 1)")
        raw.execute("PRAGMA user_version=1")
    with Store(db) as s:
        (info,) = s.list_conversations()
        assert (info.title, info.system) == ("old", None)
        s.set_system(info.id, "Be terse.")
        assert s.conversation(info.id).system == "Be terse."  # type: ignore[union-attr]


def test_a_database_from_a_newer_version_is_refused_untouched(db: Path) -> None:
    Store(db).close()
    with sqlite3.connect(db) as raw:
        raw.execute("PRAGMA user_version=99")
    before = db.read_bytes()
    with pytest.raises(StoreError, match=r"newer agentchat.*upgrade agentchat"):
        Store(db)
    assert db.read_bytes() == before


def test_a_file_that_is_not_a_database_raises_a_one_line_error_and_is_left_alone(db: Path) -> None:
    db.write_bytes(b"these are my precious notes, not a database\n" * 200)
    before = db.read_bytes()
    with pytest.raises(StoreError) as info:
        Store(db)
    message = str(info.value)
    assert str(db) in message and "\n" not in message and "not a SQLite database" in message
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert db.read_bytes() == before


def test_a_malformed_database_raises_store_error_on_use(db: Path) -> None:
    with Store(db) as s:
        for _ in range(30):
            cid = s.create_conversation()
            chain(s, cid, *(Message.user("x" * 500) for _ in range(10)))
    with db.open("r+b") as fh:  # wreck every page after the header page
        fh.seek(4096)
        fh.write(b"\xa5" * (db.stat().st_size - 4096))
    with pytest.raises(StoreError, match="damaged") as info:
        with Store(db) as s:
            s.list_conversations()
            s.search("x")
    assert str(db) in str(info.value)
    assert db.is_file()


def test_an_uncreatable_directory_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("file")
    with pytest.raises(StoreError, match="cannot create history database"):
        Store(blocker / "sub" / "history.db")


def test_a_database_locked_past_the_timeout_raises_store_error(db: Path) -> None:
    with Store(db, timeout_s=0.05) as s:
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(StoreError, match="locked by another process") as info:
                s.create_conversation()
            assert str(db) in str(info.value)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert s.create_conversation() > 0  # usable again once the other writer is done


# --- concurrency -------------------------------------------------------------------------------------
def test_eight_processes_creating_and_writing_at_once_lose_nothing(db: Path) -> None:
    writers, count = 8, 50
    env = {**os.environ, "PYTHONPATH": str(Path(agentchat.__file__).parents[1])}
    procs = [
        subprocess.Popen(
            [sys.executable, str(WRITER), str(db), f"w{i}x", str(count)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(writers)
    ]
    for proc in procs:  # all opened the new file concurrently (first run of parallel `ask`)
        assert proc.stdout.readline() == "ready\n", proc.communicate()[1]
    with Store(db) as s:
        shared = s.create_conversation(title="shared")
    for proc in procs:  # release them together
        proc.stdin.write(f"{shared}\n")
        proc.stdin.flush()
    outputs = [proc.communicate(timeout=60) for proc in procs]
    assert [p.returncode for p in procs] == [0] * writers, [err for _, err in outputs]

    with Store(db) as s:
        assert s.conversation(shared).message_count == writers * count
        for i, (out, _) in enumerate(outputs):
            own = int(out)
            thread = s.thread(s.leaf(own))
            assert len(thread) == count == s.conversation(own).message_count
            assert thread[1].text == f"w{i}x answer 1" and thread[1].usage == Usage(10, 1)
            assert len(s.search(f"w{i}x", limit=1000)) == 2 * count


def test_threads_sharing_one_store_lose_nothing(store: Store) -> None:
    cid = store.create_conversation()

    def work(n: int) -> None:
        for i in range(50):
            message = assistant(f"t{n} {i}", status="streaming")
            store.add_message(cid, message)
            message.status = "complete"
            store.update_message(message)
            store.list_conversations()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.conversation(cid).message_count == 200
    records = store.assistant_records()
    assert len(records) == 200 and {r.status for r in records} == {"complete"}


# --- scale ---------------------------------------------------------------------------------------------
def fill(db: Path, conversations: int, per_conversation: int, long_thread: int) -> int:
    """Bulk-load a big history through raw SQL (the Store's one-transaction-per-write is too slow for
    100k setup rows); returns the leaf of the long thread in the first conversation."""
    Store(db).close()
    raw = sqlite3.connect(db, isolation_level=None)
    raw.execute("BEGIN")
    msg_id = 0
    leaf = 0
    for c in range(1, conversations + 1):
        n = long_thread if c == 1 else per_conversation
        raw.execute(
            "INSERT INTO conversations (id, created_at, updated_at, message_count) VALUES (?, ?, ?, ?)",
            (c, float(c), float(c), n),
        )
        rows, fts = [], []
        for depth in range(n):
            msg_id += 1
            role = "user" if depth % 2 == 0 else "assistant"
            text = f"conversation {c} message {depth} about topic{depth % 97}"
            parts = json.dumps([{"type": "text", "text": text}])
            parent = msg_id - 1 if depth else None
            rows.append((msg_id, c, parent, depth, role, parts, "complete", float(c) + depth / 1e6))
            fts.append((msg_id, text))
        raw.executemany(
            "INSERT INTO messages (id, conversation_id, parent_id, depth, role, parts, status, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        raw.executemany("INSERT INTO message_fts (rowid, text) VALUES (?, ?)", fts)
        if c == 1:
            leaf = msg_id
    raw.execute("COMMIT")
    raw.close()
    return leaf


@pytest.mark.exclusive  # measures time
def test_a_hundred_thousand_message_store_lists_and_pages_quickly(db: Path) -> None:
    leaf = fill(db, conversations=1_000, per_conversation=90, long_thread=10_090)
    timings = {}
    start = time.perf_counter()
    s = Store(db)
    timings["open"] = time.perf_counter() - start
    start = time.perf_counter()
    listed = s.list_conversations(limit=1_000)
    timings["list 1000"] = time.perf_counter() - start
    start = time.perf_counter()
    page = s.thread(leaf, limit=50)
    timings["thread limit=50"] = time.perf_counter() - start
    start = time.perf_counter()
    length = s.thread_length(leaf)
    timings["thread_length"] = time.perf_counter() - start
    start = time.perf_counter()
    hits = s.search("topic42")
    timings["search"] = time.perf_counter() - start
    start = time.perf_counter()
    tip = s.branch_leaf(1)
    timings["branch_leaf from the root"] = time.perf_counter() - start
    s.close()
    print("\n100k-message store: " + ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in timings.items()))

    assert len(listed) == 1_000 and sum(i.message_count for i in listed) == 100_000
    assert listed[0].id == 1_000 and listed[0].title == "conversation 1000 message 0 about topic0"
    assert [m.text for m in page][-1] == "conversation 1 message 10089 about topic1"
    assert len(page) == 50 and length == 10_090
    assert len(hits) == 20
    assert tip == leaf
