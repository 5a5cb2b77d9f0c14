"""`agentchat history import` of a newer export: the same conversations continued (more turns, new
branches, a ChatGPT run continued) add just what is new, in its place of the tree; the same file
again adds nothing; a conversation imported before messages were recorded (no `import_messages`
rows) is matched by place and content and continues the same way."""

from __future__ import annotations

import copy
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import UserEnv
from tests.test_history_import import T0, chatgpt_export, node


def at(raw: dict[str, Any], when: float) -> dict[str, Any]:
    raw["message"]["create_time"] = when
    return raw


def newer_export() -> list[dict[str, Any]]:
    """conv-1 a month later: continued after its last answer, u2 edited into a new branch, and the
    "Hi!" answer continued ("continue generating": one more assistant node in its run)."""
    (conv,) = chatgpt_export()
    conv = copy.deepcopy(conv)
    m = conv["mapping"]
    m["ans"]["children"] = ["u3"]
    m["u3"] = at(node("u3", "ans", ["a3"], "user", content_type="text", parts=["And 3+3?"]), T0 + 500)
    m["a3"] = at(node("a3", "u3", [], "assistant", content_type="text", parts=["6."]), T0 + 510)
    m["a1r"]["children"] = ["u2", "u2e"]
    m["u2e"] = at(node("u2e", "a1r", ["a5"], "user", content_type="text", parts=["Sum 3+3"]), T0 + 300)
    m["a5"] = at(node("a5", "u2e", [], "assistant", content_type="text", parts=["Also 6."]), T0 + 310)
    m["a4"]["children"] = ["a4c"]
    m["a4c"] = at(
        node("a4c", "a4", [], "assistant", content_type="text", parts=["How can I help?"]), T0 + 400
    )
    return [conv]


def forget_records(user_env: UserEnv) -> None:
    """What an import made before the import_messages migration left: the conversation and its
    `imports` row, no node records."""
    with sqlite3.connect(user_env.db_path) as conn:
        assert conn.execute("DELETE FROM import_messages").rowcount > 0
    conn.close()


def by_text(user_env: UserEnv, cid: int) -> dict[str, Any]:
    """The conversation's messages by the last line of their text."""
    with user_env.store() as store:
        return {(m.text or m.thinking).splitlines()[-1]: m for m in store.all_messages(cid)}


@pytest.mark.parametrize("before_records", [False, True], ids=["recorded", "imported-before-records"])
def test_a_newer_chatgpt_export_adds_just_what_is_new(
    user_env: UserEnv, tmp_path: Path, before_records: bool
) -> None:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    unchanged = chatgpt_export()[0] | {"conversation_id": "conv-2", "title": "Unchanged"}
    old.write_text(json.dumps([*chatgpt_export(), unchanged]))
    fresh = chatgpt_export()[0] | {"conversation_id": "conv-3", "title": "Fresh"}
    new.write_text(json.dumps([*newer_export(), unchanged, fresh]))
    assert user_env.run("history", "import", "chatgpt", str(old)).returncode == 0
    with user_env.store() as store:
        cid = next(c.id for c in store.list_conversations() if c.title == "Greetings")
    before = by_text(user_env, cid)
    if before_records:
        forget_records(user_env)

    proc = user_env.run("history", "import", "chatgpt", str(new))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (
        "imported 1 conversation (7 messages) from chatgpt; 4 new messages and 1 continued message "
        "in 1 conversation imported before; 1 already imported, skipped\n"
    )
    after = by_text(user_env, cid)
    assert len(after) == 11  # 7 + 4: the continued run is still one message
    assert (
        after["And 3+3?"].parent_id == before["It is 4."].id and after["6."].parent_id == after["And 3+3?"].id
    )
    assert after["Sum 3+3"].parent_id == before["Hey!"].id  # a sibling of "Sum 2+2 in code"
    assert after["Also 6."].parent_id == after["Sum 3+3"].id
    continued = after["How can I help?"]
    assert continued.id == before["Hi!"].id and continued.text == "Hi!\n\nHow can I help?"
    assert "Hi!" not in after  # rewritten in place, not added
    assert {k: v.id for k, v in after.items() if k in before} == {
        k: v.id for k, v in before.items() if k != "Hi!"
    }
    with user_env.store() as store:
        info = store.conversation(cid)
        assert info is not None and info.updated_at == T0 + 510 and info.message_count == 11
        assert store.search("help")[0].conversation_id == cid  # the continued text is searchable
    shown = user_env.run("history", "show", str(cid)).stdout  # the newest branch: the continuation
    assert shown.index("It is 4.") < shown.index("And 3+3?") < shown.index("6.")

    again = user_env.run("history", "import", "chatgpt", str(new))
    assert again.stdout == "imported 0 conversations (0 messages) from chatgpt; 3 already imported, skipped\n"
    older = user_env.run("history", "import", "chatgpt", str(old))  # an older file shortens nothing
    assert older.stdout == "imported 0 conversations (0 messages) from chatgpt; 2 already imported, skipped\n"
    assert by_text(user_env, cid).keys() == after.keys()


def test_a_conversation_imported_before_records_that_matches_nothing_is_left_alone(
    user_env: UserEnv, tmp_path: Path
) -> None:
    """Unrecorded and its stored messages unlike any node (a different rendering): adding the
    newer export under it would repeat the whole conversation, so it is skipped as before."""
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(chatgpt_export()))
    new.write_text(json.dumps(newer_export()))
    assert user_env.run("history", "import", "chatgpt", str(old)).returncode == 0
    forget_records(user_env)
    with sqlite3.connect(user_env.db_path) as conn:
        conn.execute("""UPDATE messages SET parts = '[{"text":"(rendered differently)","type":"text"}]'""")
    conn.close()
    proc = user_env.run("history", "import", "chatgpt", str(new))
    assert proc.stdout == "imported 0 conversations (0 messages) from chatgpt; 1 already imported, skipped\n"
    with user_env.store() as store:
        (info,) = store.list_conversations()
        assert info.message_count == 7


def test_a_newer_run_of_a_malformed_export_still_imports_nothing(user_env: UserEnv, tmp_path: Path) -> None:
    """A newer export whose continuation names a parent the file lacks: the whole import fails
    naming it, and the other conversations' new messages, written first, go too."""
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(chatgpt_export()))
    assert user_env.run("history", "import", "chatgpt", str(old)).returncode == 0
    (continued,) = newer_export()
    broken: dict[str, Any] = {
        "conversation_id": "conv-9",
        "title": "Broken",
        "mapping": {"x": node("x", None, [], "user")},
    }
    del broken["mapping"]["x"]["message"]["author"]["role"]
    new.write_text(json.dumps([continued, broken]))
    proc = user_env.run("history", "import", "chatgpt", str(new))
    assert proc.returncode == 2
    assert proc.stderr == f"agentchat: error: {new}: conversation 2 ('Broken'): missing field 'role'\n"
    with user_env.store() as store:
        (info,) = store.list_conversations()
        assert info.message_count == 7


# --- llm ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("before_records", [False, True], ids=["recorded", "imported-before-records"])
def test_a_grown_llm_log_adds_its_new_turns_and_forks(
    user_env: UserEnv, tmp_path: Path, before_records: bool
) -> None:
    """logs.db written by llm's own LogStore, copied, then continued (two more turns on the thread
    and a fork from its first answer) as the real llm continues it."""
    pytest.importorskip("llm", reason="the llm package is not installed (pip install llm)")
    sqlite_utils = pytest.importorskip("sqlite_utils")
    from llm.logs import LogStore
    from llm.parts import Message as M
    from llm.parts import TextPart

    def turn(role: str, text: str) -> M:
        return M(role=role, parts=[TextPart(text=text)])

    path = tmp_path / "logs.db"
    db = sqlite_utils.Database(path)
    store = LogStore(db)
    first = store.ensure_chain([turn("user", "Say hi"), turn("assistant", "Hello")])
    assert first is not None
    thread = store.create_thread(name="Greeting", tip=first)
    db.conn.close()
    old = tmp_path / "old.db"
    old.write_bytes(path.read_bytes())
    db = sqlite_utils.Database(path)
    store = LogStore(db)
    store.append(thread, [turn("user", "Again"), turn("assistant", "Hello again")])
    store.append(store.fork(first, forked_from=thread), [turn("user", "Bye"), turn("assistant", "Bye!")])
    db.conn.close()

    assert (
        user_env.run("history", "import", "llm", str(old)).stdout
        == "imported 1 conversation (2 messages) from llm\n"
    )
    if before_records:
        forget_records(user_env)
    proc = user_env.run("history", "import", "llm", str(path))
    assert proc.returncode == 0, proc.stderr
    assert (
        proc.stdout
        == "imported 0 conversations (0 messages) from llm; 4 new messages in 1 conversation imported before\n"
    )
    with user_env.store() as ours:
        (info,) = ours.list_conversations()
        messages = {m.text: m for m in ours.all_messages(info.id)}
    assert len(messages) == 6
    hello = messages["Hello"]
    assert messages["Again"].parent_id == hello.id and messages["Bye"].parent_id == hello.id
    assert (
        messages["Hello again"].parent_id == messages["Again"].id
        and messages["Bye!"].parent_id == messages["Bye"].id
    )
    again = user_env.run("history", "import", "llm", str(path))
    assert again.stdout == "imported 0 conversations (0 messages) from llm; 1 already imported, skipped\n"


# --- our own export --------------------------------------------------------------------------------------


def test_a_newer_json_export_of_a_conversation_continues_it(user_env: UserEnv, tmp_path: Path) -> None:
    """Exported, continued (a follow-up and a second branch), exported again: the other history
    that imported the first file ends up with the same conversation as the newer file holds."""
    from agentchat.core.messages import Message

    with user_env.store() as store:
        cid = store.create_conversation(system="Be kind.")
        question = store.add_message(cid, Message.user("Question"))
        answer = store.add_message(cid, Message(role="assistant", parts=[], parent_id=question, model="m1"))
    (tmp_path / "old.json").write_text(user_env.run("history", "export", str(cid), "--format", "json").stdout)
    with user_env.store() as store:
        for text, parent in [("Follow-up", answer), ("Rephrased", question)]:
            message = Message.user(text)
            message.parent_id = parent
            store.add_message(cid, message)
    newer = user_env.run("history", "export", str(cid), "--format", "json").stdout
    (tmp_path / "new.json").write_text(newer)
    other = UserEnv(user_env.root, dict(user_env.env, AGENTCHAT_DATA_DIR=str(tmp_path / "other")))
    assert other.run("history", "import", "json", str(tmp_path / "old.json")).returncode == 0
    proc = other.run("history", "import", "json", str(tmp_path / "new.json"))
    assert (
        proc.stdout
        == "imported 0 conversations (0 messages) from json; 2 new messages in 1 conversation imported before\n"
    )
    assert json.loads(other.run("history", "export", "1", "--format", "json").stdout) == json.loads(newer)
    assert other.run("history", "import", "json", str(tmp_path / "new.json")).stdout.endswith(
        "1 already imported, skipped\n"
    )
