"""`agentchat history import`: llm's logs.db as the real `llm` writes it, a ChatGPT export built from
its documented shape (branches included), and our own JSON export round trip. Idempotent, one
transaction, a clear error naming the bad record."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import UserEnv
from tests.fakes import openai_fake as oai
from tests.fakes.openai_fake import OpenAIFake

T0 = 1_764_000_000.0


# --- llm ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def llm_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A logs.db written by the real `llm` CLI: a system prompt, a continued conversation and a tool
    call (llm's own llm_time tool), against the OpenAI fake as an extra-openai-models entry."""
    if shutil.which("llm") is None and not (Path(sys.executable).parent / "llm").exists():
        pytest.skip("the llm package is not installed (pip install llm)")
    home = tmp_path_factory.mktemp("llm")
    exe = shutil.which("llm") or str(Path(sys.executable).parent / "llm")
    with OpenAIFake() as fake:
        (home / "extra-openai-models.yaml").write_text(
            f"- model_id: fakegpt\n  model_name: gpt-4o-mini\n  api_base: {fake.base_url}\n  supports_tools: true\n"
        )
        env = dict(os.environ, LLM_USER_PATH=str(home), OPENAI_API_KEY="sk-test")
        fake.queue(oai.text(["Hello", " there"], usage=oai.usage(prompt=12, completion=3)))
        first = subprocess.run(
            [exe, "-m", "fakegpt", "-s", "Be brief.", "Say hi"], env=env, capture_output=True
        )
        assert first.returncode == 0, first.stderr
        fake.queue(
            oai.tool_calls([("call_1", "llm_time", {})], usage=oai.usage(prompt=20, completion=5)),
            oai.text(["It is noon."], usage=oai.usage(prompt=40, completion=4)),
        )
        second = subprocess.run(
            [exe, "-c", "-T", "llm_time", "What time is it?"], env=env, capture_output=True
        )
        assert second.returncode == 0, second.stderr
    # A fork after the first answer, through llm's own API (its CLI cannot continue a fork).
    import sqlite_utils
    from llm.logs import LogStore
    from llm.parts import Message, TextPart

    db = sqlite_utils.Database(home / "logs.db")
    store = LogStore(db)
    (thread,) = [row["id"] for row in db["threads"].rows]
    first_reply = db.execute("SELECT tip_message_hash FROM turns ORDER BY datetime_utc LIMIT 1").fetchone()[0]
    fork = store.fork(first_reply, name="Joke branch", forked_from=thread)
    store.append(
        fork,
        [
            Message(role="user", parts=[TextPart(text="Tell a joke")]),
            Message(role="assistant", parts=[TextPart(text="A joke.")]),
        ],
    )
    db.conn.close()
    return home / "logs.db"


@pytest.mark.peers  # two runs of the real llm CLI: ~3 s
def test_llm_logs_import_with_models_tokens_and_tool_calls(user_env: UserEnv, llm_logs: Path) -> None:
    proc = user_env.run("history", "import", "llm", str(llm_logs))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "imported 1 conversation (8 messages) from llm\n"  # the fork is a branch
    assert proc.stderr == ""  # no progress bar off a terminal
    with user_env.store() as store:
        (info,) = store.list_conversations()
        messages = store.all_messages(info.id)
    assert info.title == "Say hi" and info.system == "Be brief."
    joke, answer = [m for m in messages if m.text in ("Tell a joke", "A joke.")]
    messages = [m for m in messages if m not in (joke, answer)]
    assert joke.parent_id == messages[1].id and answer.parent_id == joke.id
    assert [m.role for m in messages] == ["user", "assistant", "user", "assistant", "tool", "assistant"]
    assert [m.parent_id for m in messages[1:]] == [m.id for m in messages[:-1]]  # one chain
    assert messages[1].text == "Hello there" and messages[1].model == "fakegpt"
    assert (messages[1].usage.input_tokens, messages[1].usage.output_tokens) == (12, 3)
    (call,) = messages[3].tool_calls
    assert (call.id, call.name) == ("call_1", "llm_time")
    (result,) = messages[4].tool_results
    assert result.call_id == "call_1" and "utc_time" in result.content
    assert messages[5].text == "It is noon." and messages[5].usage.output_tokens == 4
    assert messages[0].created_at is not None and messages[0].created_at < messages[5].created_at  # type: ignore[operator]
    again = user_env.run("history", "import", "llm", str(llm_logs))
    assert again.stdout == "imported 0 conversations (0 messages) from llm; 1 already imported, skipped\n"
    with user_env.store() as store:
        assert len(store.list_conversations()) == 1


def test_llm_message_store_written_by_its_logstore(user_env: UserEnv, tmp_path: Path) -> None:
    """The current layout written in-process through llm's own LogStore: a fragment-backed prompt
    (text_ref), reasoning, a tool call and its result, and a fork that diverges (a branch)."""
    llm = pytest.importorskip("llm", reason="the llm package is not installed (pip install llm)")
    sqlite_utils = pytest.importorskip("sqlite_utils")
    from llm.logs import LogStore
    from llm.parts import Message as M
    from llm.parts import ReasoningPart, TextPart, ToolCallPart, ToolResultPart

    db = sqlite_utils.Database(tmp_path / "logs.db")
    store = LogStore(db)
    doc = llm.Fragment("A LONG DOCUMENT " * 20, source="doc.txt")
    first = store.ensure_chain(
        [
            M(role="system", parts=[TextPart(text="Be brief.")]),
            M(role="user", parts=[TextPart(text="Summarise: " + str(doc))]),
            M(role="assistant", parts=[TextPart(text="It repeats.")]),
        ],
        fragments=[doc],
    )
    tip = store.ensure_chain(
        [
            M(role="user", parts=[TextPart(text="Count it")]),
            M(role="assistant", parts=[ReasoningPart(text="Use the tool."), ToolCallPart(name="count", arguments={"n": 1}, tool_call_id="c1")]),
            M(role="tool", parts=[ToolResultPart(name="count", output="20", tool_call_id="c1")]),
            M(role="assistant", parts=[TextPart(text="20 times.")]),
        ],
        parent=first,
    )  # fmt: skip
    thread = store.create_thread(name="Summary", tip=tip)
    store.append(store.fork(first, forked_from=thread), [M(role="user", parts=[TextPart(text="Shorter?")])])
    db.conn.close()
    proc = user_env.run("history", "import", "llm", str(tmp_path / "logs.db"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "imported 1 conversation (7 messages) from llm\n"
    with user_env.store() as ours:
        (info,) = ours.list_conversations()
        messages = {m.text or m.role: m for m in ours.all_messages(info.id)}
    assert info.title == "Summary" and info.system == "Be brief."
    assert messages["Summarise: " + "A LONG DOCUMENT " * 20].parent_id is None
    replied = messages["It repeats."]
    assert messages["Count it"].parent_id == replied.id and messages["Shorter?"].parent_id == replied.id
    call = messages["assistant"]
    assert call.thinking == "Use the tool." and [(c.id, c.name, c.arguments) for c in call.tool_calls] == [
        ("c1", "count", {"n": 1})
    ]
    assert [(r.call_id, r.content) for r in messages["tool"].tool_results] == [("c1", "20")]
    assert messages["20 times."].parent_id == messages["tool"].id


def test_llm_older_responses_layout(user_env: UserEnv, tmp_path: Path) -> None:
    """Releases before the message store logged `conversations` and `responses` (with tool_calls and
    tool_results beside them): llm's own migrations make the tables, rows as those releases wrote."""
    sqlite_utils = pytest.importorskip("sqlite_utils")
    migrations = pytest.importorskip("llm.migrations")
    path = tmp_path / "logs.db"
    db = sqlite_utils.Database(path)
    migrations.migrate(db)
    db["conversations"].insert({"id": "c1", "name": "Capitals", "model": "gpt-4o"})
    row: dict[str, Any] = {"model": "gpt-4o", "conversation_id": "c1", "system": "Terse.", "duration_ms": 900}
    db["responses"].insert(
        row
        | {"id": "r1", "prompt": "Capital of France?", "response": "", "datetime_utc": "2025-01-01T10:00:00"}
        | {"input_tokens": 10, "output_tokens": 2}
    )
    db["tool_calls"].insert(
        {"response_id": "r1", "name": "lookup", "arguments": '{"q": "France"}', "tool_call_id": "t1"}
    )
    db["responses"].insert(
        row | {"id": "r2", "prompt": "", "response": "Paris.", "datetime_utc": "2025-01-01T10:00:05"}
    )
    db["tool_results"].insert(
        {"response_id": "r2", "name": "lookup", "output": "Paris", "tool_call_id": "t1"}
    )
    db.conn.close()
    proc = user_env.run("history", "import", "llm", str(path))
    assert proc.returncode == 0, proc.stderr
    with user_env.store() as store:
        (info,) = store.list_conversations()
        messages = store.all_messages(info.id)
    assert info.title == "Capitals" and info.system == "Terse."
    assert [m.role for m in messages] == ["user", "assistant", "tool", "assistant"]
    assert messages[1].tool_calls[0].arguments == {"q": "France"}
    assert messages[2].tool_results[0].call_id == "t1" and messages[3].text == "Paris."


# --- ChatGPT ------------------------------------------------------------------------------------------


def node(
    key: str, parent: str | None, children: list[str], role: str | None = None, **content: Any
) -> dict[str, Any]:
    message = None
    if role is not None:
        meta = content.pop("metadata", {})
        message = {
            "id": key,
            "author": {"role": role, "name": content.pop("name", None), "metadata": {}},
            "create_time": T0 + len(key),
            "content": content,
            "status": "finished_successfully",
            "metadata": meta,
        }
    return {"id": key, "message": message, "parent": parent, "children": children}


def chatgpt_export() -> list[dict[str, Any]]:
    """A first message edited (two roots of the tree), an answer regenerated (two siblings), a code
    run (code, its output and the answer: one assistant message), an image, reasoning, hidden system."""
    mapping = {
        "root": node("root", None, ["sys"]),
        "sys": node("sys", "root", ["u1", "u1e"], "system", content_type="text", parts=[""],
                    metadata={"is_visually_hidden_from_conversation": True}),
        "u1": node("u1", "sys", ["a1", "a1r"], "user", content_type="text", parts=["Hi"]),
        "a1": node("a1", "u1", [], "assistant", content_type="text", parts=["Hello!"], metadata={"model_slug": "gpt-4o"}),
        "a1r": node("a1r", "u1", ["u2"], "assistant", content_type="text", parts=["Hey!"], metadata={"model_slug": "gpt-4o"}),
        "u2": node("u2", "a1r", ["th"], "user", content_type="multimodal_text",
                   parts=[{"content_type": "image_asset_pointer", "asset_pointer": "file-service://file-abc"}, "Sum 2+2 in code"]),
        "th": node("th", "u2", ["code"], "assistant", content_type="thoughts", thoughts=[{"summary": "s", "content": "Use Python."}]),
        "code": node("code", "th", ["out"], "assistant", content_type="code", language="python", text="print(2+2)"),
        "out": node("out", "code", ["ans"], "tool", name="python", content_type="execution_output", text="4"),
        "ans": node("ans", "out", [], "assistant", content_type="text", parts=["It is 4."], metadata={"model_slug": "gpt-4o"}),
        "u1e": node("u1e", "sys", ["a4"], "user", content_type="text", parts=["Hi there"]),
        "a4": node("a4", "u1e", [], "assistant", content_type="text", parts=["Hi!"]),
    }  # fmt: skip
    conv = {"title": "Greetings", "create_time": T0, "update_time": T0 + 60, "mapping": mapping}
    return [conv | {"conversation_id": "conv-1", "current_node": "ans"}]


def test_chatgpt_export_keeps_branches(user_env: UserEnv, tmp_path: Path) -> None:
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(chatgpt_export()))
    proc = user_env.run("history", "import", "chatgpt", str(path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "imported 1 conversation (7 messages) from chatgpt\n"
    with user_env.store() as store:
        (info,) = store.list_conversations()
        messages = {m.text or m.thinking: m for m in store.all_messages(info.id)}
    assert info.title == "Greetings" and info.created_at == T0
    roots = [m.text for m in messages.values() if m.parent_id is None]
    assert sorted(roots) == ["Hi", "Hi there"]  # the edit is a second root branch
    hi = messages["Hi"]
    assert {m.text for m in messages.values() if m.parent_id == hi.id} == {"Hello!", "Hey!"}
    question = next(m for m in messages.values() if "Sum 2+2" in m.text)
    assert question.text == "[image_asset_pointer: file-service://file-abc]\nSum 2+2 in code"
    (answer,) = [m for m in messages.values() if m.parent_id == question.id]
    assert answer.thinking == "Use Python." and answer.provider == "openai"
    assert answer.text == "```python\nprint(2+2)\n```\n\n[python]\n4\n\nIt is 4." and answer.model == "gpt-4o"
    assert user_env.run("history", "import", "chatgpt", str(path)).stdout.endswith(
        "1 already imported, skipped\n"
    )


def test_malformed_record_is_named_and_nothing_is_imported(user_env: UserEnv, tmp_path: Path) -> None:
    good = chatgpt_export()[0]
    bad = {"title": "Broken one", "conversation_id": "conv-2", "mapping": {"x": node("x", None, [], "user")}}
    del bad["mapping"]["x"]["message"]["author"]["role"]
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps([good, bad]))
    proc = user_env.run("history", "import", "chatgpt", str(path))
    assert proc.returncode == 2
    assert proc.stderr == f"agentchat: error: {path}: conversation 2 ('Broken one'): missing field 'role'\n"
    (tmp_path / "not.db").write_text("hello")
    proc = user_env.run("history", "import", "llm", str(tmp_path / "not.db"))
    assert proc.returncode == 2 and "not an llm log database" in proc.stderr
    proc = user_env.run("history", "import", "claude", str(path))
    assert proc.returncode == 2 and "sources: chatgpt, llm, json" in proc.stderr
    with user_env.store() as store:
        assert store.list_conversations() == []


# --- our own export --------------------------------------------------------------------------------------


def test_json_export_round_trip(user_env: UserEnv, tmp_path: Path) -> None:
    from agentchat.core.messages import Message

    with user_env.store() as store:
        cid = store.create_conversation(system="Be kind.")
        first = store.add_message(cid, Message.user("Question"))
        store.add_message(cid, Message(role="assistant", parts=[], parent_id=first, model="m1"))
        reply = Message.user("Follow-up")
        reply.parent_id = first  # a second branch under the question
        store.add_message(cid, reply)
    exported = user_env.run("history", "export", str(cid), "--format", "json")
    assert exported.returncode == 0, exported.stderr
    (tmp_path / "conv.json").write_text(exported.stdout)
    other = UserEnv(user_env.root, dict(user_env.env, AGENTCHAT_DATA_DIR=str(tmp_path / "other")))
    assert other.run("history", "import", "json", str(tmp_path / "conv.json")).returncode == 0
    assert other.run("history", "import", "json", str(tmp_path / "conv.json")).stdout.endswith("skipped\n")
    again = other.run("history", "export", "1", "--format", "json")
    assert json.loads(again.stdout) == json.loads(exported.stdout)


def test_a_large_import_shows_a_progress_bar_on_a_terminal(user_env: UserEnv, tmp_path: Path) -> None:
    """stderr a terminal and 50+ conversations: Rich's bar; the summary line still ends it."""
    pexpect = pytest.importorskip("pexpect")
    many = [conv | {"conversation_id": f"conv-{i}"} for i in range(60) for conv in chatgpt_export()]
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(many))
    child = pexpect.spawn(
        sys.executable,
        ["-m", "agentchat", "history", "import", "chatgpt", str(path)],
        env=user_env.env,
        cwd=str(user_env.root),
        encoding="utf-8",
        dimensions=(24, 100),
        timeout=60,
    )
    child.expect("importing")
    child.expect("imported 60 conversations \\(420 messages\\) from chatgpt")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_a_failure_while_storing_rolls_the_whole_import_back(user_env: UserEnv, tmp_path: Path) -> None:
    """The second conversation's reply names a parent the file does not hold before it: found only
    while writing, so the first conversation, already written in the transaction, goes too."""
    from agentchat.core.messages import Message

    with user_env.store() as store:
        cid = store.create_conversation()
        store.add_message(cid, Message.user("Question"))
    exported = json.loads(user_env.run("history", "export", str(cid), "--format", "json").stdout)
    broken = json.loads(json.dumps(exported))
    broken["conversation"]["id"] = 99
    broken["messages"][0]["parent_id"] = 12345
    (tmp_path / "two.json").write_text(json.dumps([exported, broken]))
    other = UserEnv(user_env.root, dict(user_env.env, AGENTCHAT_DATA_DIR=str(tmp_path / "other")))
    proc = other.run("history", "import", "json", str(tmp_path / "two.json"))
    assert proc.returncode == 2, proc.stderr
    assert "message 1 names a parent (12345) that is not before it in the file" in proc.stderr
    with other.store() as store:
        assert store.list_conversations() == []
