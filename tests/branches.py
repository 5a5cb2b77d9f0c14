"""Reading a conversation's tree in tests, through the store's public reads (the app itself only
walks threads, so the store keeps no children/roots queries of its own)."""

from __future__ import annotations

from agentchat.core.messages import Message
from agentchat.core.store import Store


def children(store: Store, message_id: int) -> list[Message]:
    """The messages answering `message_id`, oldest first."""
    message = store.get_message(message_id)
    assert message is not None and message.conversation_id is not None
    return [m for m in store.all_messages(message.conversation_id) if m.parent_id == message_id]


def roots(store: Store, conversation_id: int) -> list[Message]:
    """A conversation's first messages: several when the first prompt was edited."""
    return [m for m in store.all_messages(conversation_id) if m.parent_id is None]
