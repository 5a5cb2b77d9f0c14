"""`ask -c --compact [FOCUS] [PROMPT]`: the conversation compacted now (core/compact.py), then the
prompt, if one was given, asked on the compacted branch. Without a prompt the summary is the
answer: stdout gets it (or, with --json, one object saying what was compacted)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentchat.cli.common import err
from agentchat.cli.output import JsonWriter, for_stdout, json_line

if TYPE_CHECKING:
    from agentchat.cli.session import Session


async def compact_now(session: Session) -> bool:
    """Compact; True when a prompt is to be asked next."""
    from agentchat.core.compact import compact_conversation

    turn = session.turn
    assert turn.conversation_id is not None  # build_session refuses --compact without one
    done = await compact_conversation(
        session.engine,
        turn.conversation_id,
        session.compact or None,
        model=turn.model,
        provider=turn.provider,
    )
    err(
        f"compacted {done.turns} turn(s) of conversation {done.conversation_id} "
        f"({done.tokens_before:,} → {done.tokens_after:,} tokens) with {done.model}: a new branch "
        "starts from the summary, the original stays in the history"
    )
    if turn.prompt is not None:
        return True
    summary = session.writer.summary
    summary.context_tokens, summary.context_window = done.tokens_after, done.window
    if isinstance(session.writer, JsonWriter):
        payload = {
            "text": done.summary,
            "conversation_id": done.conversation_id,
            "message_id": done.root_id,
            "compacted_turns": done.turns,
            "model": done.model,
            "context_tokens": done.tokens_after,
            "context_window": done.window,
        }
        session.writer.write(json_line(payload) + "\n")
    else:  # exact in a pipe, without control sequences on a terminal
        session.writer.write(for_stdout(done.summary) + "\n")
    return False
