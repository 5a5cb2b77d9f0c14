"""`agentchat history import` at scale: a ChatGPT export and an llm logs.db of many conversations.

Prints, for each source, the end-to-end time of `agentchat history import` into a fresh history (a
real process: read, check, one transaction), conversations and messages per second, the time of
the second import of the same file (idempotent: everything skipped), and the database size. No
peer imports ChatGPT's export or llm's log into another tool's store, so there is no comparison.

    python bench/bench_import.py [--conversations 2000] [--turns 10]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

T0 = 1_700_000_000.0


def chatgpt_export(conversations: int, turns: int) -> list[dict[str, Any]]:
    """Each conversation: `turns` exchanges in a chain, the first answer regenerated (a branch)."""
    out = []
    for c in range(conversations):
        mapping: dict[str, Any] = {"root": {"id": "root", "message": None, "parent": None, "children": []}}
        parent = "root"
        for t in range(turns):
            for role, text in (
                ("user", f"Question {t} of conversation {c}? " * 3),
                ("assistant", "An answer. " * 40),
            ):
                key = f"{c}-{t}-{role}"
                message = {
                    "id": key,
                    "author": {"role": role},
                    "create_time": T0 + c * 100 + t,
                    "content": {"content_type": "text", "parts": [text]},
                    "metadata": {"model_slug": "gpt-4o"} if role == "assistant" else {},
                }
                mapping[key] = {"id": key, "message": message, "parent": parent, "children": []}
                mapping[parent]["children"].append(key)
                if t == 0 and role == "assistant":  # a regenerated first answer
                    alt = dict(mapping[key], id=key + "r", children=[])
                    alt["message"] = dict(message, id=key + "r")
                    mapping[key + "r"] = alt
                    mapping[parent]["children"].append(key + "r")
                parent = key
        out.append(
            {
                "title": f"Conversation {c}",
                "conversation_id": f"c{c}",
                "create_time": T0 + c * 100,
                "mapping": mapping,
            }
        )
    return out


def llm_logs(path: Path, conversations: int, turns: int) -> bool:
    """A logs.db written through llm's own LogStore (False when llm is not installed)."""
    try:
        import sqlite_utils
        from llm.logs import LogStore
        from llm.parts import Message, TextPart
    except ImportError:
        return False
    db = sqlite_utils.Database(path)
    store = LogStore(db)
    with db.conn:
        for c in range(conversations):
            thread = store.create_thread(name=f"Conversation {c}")
            messages = []
            for t in range(turns):
                messages.append(Message(role="user", parts=[TextPart(text=f"Question {t} of {c}?")]))
                messages.append(Message(role="assistant", parts=[TextPart(text="An answer. " * 40)]))
            store.append(thread, messages)
    db.conn.close()
    return True


def run(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "agentchat", *args], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"agentchat {' '.join(args)} failed: {proc.stderr.strip()}")
    return elapsed, proc.stdout.strip()


def measure(source: str, path: Path, work: Path, conversations: int, messages: int) -> None:
    data = work / f"data-{source}"
    env = dict(os.environ, AGENTCHAT_DATA_DIR=str(data), AGENTCHAT_CONFIG=str(work / "none.toml"))
    first, summary = run(["history", "import", source, str(path)], env)
    second, again = run(["history", "import", source, str(path)], env)
    size = (data / "history.db").stat().st_size / 1e6
    print(f"{source}: {summary}")
    print(
        f"  first import {first:.2f} s ({conversations / first:,.0f} conversations/s, "
        f"{messages / first:,.0f} messages/s); again {second:.2f} s ({again.split('; ')[-1]}); "
        f"input {path.stat().st_size / 1e6:.1f} MB, history {size:.1f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=2000)
    parser.add_argument("--turns", type=int, default=10)
    a = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        export = work / "conversations.json"
        export.write_text(json.dumps(chatgpt_export(a.conversations, a.turns)))
        measure("chatgpt", export, work, a.conversations, a.conversations * (a.turns * 2 + 1))
        logs = work / "logs.db"
        if llm_logs(logs, a.conversations, a.turns):
            measure("llm", logs, work, a.conversations, a.conversations * a.turns * 2)
        else:
            print("llm: skipped (the llm package is not installed)")


if __name__ == "__main__":
    main()
