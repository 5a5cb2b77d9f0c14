"""Renaming and deleting a conversation from the main screen (the sidebar's r and d, the palette):
each asks first in a modal, then changes the store without stopping a reply that streams into
another conversation; deleting the one on show stops its reply and opens a new chat in its place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentchat.tui.screens.dialogs import Confirm, TextPrompt

if TYPE_CHECKING:
    from agentchat.tui.screens.main import MainScreen


class ConversationEdits:
    """The main screen's rename and delete (`screen.edits`)."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen

    def rename(self, conversation_id: int) -> None:
        screen = self.screen
        store = screen.app.store
        info = store.conversation(conversation_id)

        async def job(title: str) -> None:
            store.rename_conversation(conversation_id, title)
            screen.reload_sidebar()
            if conversation_id == screen.conversation_id:
                screen.show_title()

        def done(title: str | None) -> None:
            if title and title.strip():
                screen.turns.run_background(lambda: job(title.strip()))

        screen.app.push_screen(TextPrompt("Rename conversation", (info.title if info else None) or ""), done)

    def delete(self, conversation_id: int) -> None:
        screen = self.screen
        store = screen.app.store
        info = store.conversation(conversation_id)
        name = (info.title if info else None) or "(untitled)"

        async def job() -> None:
            store.delete_conversation(conversation_id)
            if conversation_id == screen.conversation_id:
                await screen.show_new_chat(screen.agent)
            else:
                screen.reload_sidebar()
            screen.notify(f"deleted “{name}”", timeout=3, markup=False)

        def done(yes: bool | None) -> None:
            if not yes:
                return
            if conversation_id == screen.conversation_id:
                screen.turns.run_job(job)  # stops a reply streaming into it first
            else:
                screen.turns.run_background(job)

        screen.app.push_screen(Confirm(f"Delete “{name}” and all its messages?"), done)
