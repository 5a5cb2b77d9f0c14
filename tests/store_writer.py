"""One writer process for the multi-process store test: `store_writer.py DB TAG COUNT`.

It opens (and with its siblings, races to create) the store, prints "ready", reads the shared
conversation's id from stdin (so every writer starts together), then writes COUNT messages to its
own conversation, streaming each assistant reply through update_message, and one message per turn
to the shared conversation. It prints its own conversation's id.
"""

from __future__ import annotations

import sys
from pathlib import Path

from agentchat.core.messages import Message, TextPart, Usage
from agentchat.core.store import Store


def main(db: str, tag: str, count: int) -> None:
    with Store(Path(db)) as store:
        print("ready", flush=True)
        shared_id = int(sys.stdin.readline())
        own = store.create_conversation(title=tag)
        parent = None
        for i in range(count):
            if i % 2 == 0:
                message = Message.user(f"{tag} question {i}")
            else:
                message = Message(role="assistant", parts=[TextPart(f"{tag} partial")], status="streaming")
            message.parent_id = parent
            parent = store.add_message(own, message)
            if message.role == "assistant":
                message.parts = [TextPart(f"{tag} answer {i}")]
                store.update_message(message)
                message.status, message.usage = "complete", Usage(10, i)
                store.update_message(message)
            store.add_message(shared_id, Message.user(f"{tag} shared {i}"))
        print(own)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
