"""Turns engine events into widget updates, for one turn. The only place the TUI reads events."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from agentchat.core.events import (
    AssistantFinished,
    AssistantStarted,
    ContextMeasured,
    Notice,
    ProviderEvent,
    Retrying,
    ToolFinished,
    ToolProgress,
    ToolStarted,
    TurnStarted,
)
from agentchat.core.messages import Message
from agentchat.core.progress import progress_label

if TYPE_CHECKING:
    from agentchat.core.events import Event
    from agentchat.core.store import Store
    from agentchat.tui.widgets.conversation import ConversationView, MessageBox, ReplyBox
    from agentchat.tui.widgets.tools import ToolPane


class TurnPresenter:
    def __init__(
        self,
        view: ConversationView,
        tools: ToolPane,
        user_box: MessageBox | None,
        notify: Callable[..., None],
        on_started: Callable[[int], None],
        on_finished: Callable[[int], None],
        on_context: Callable[[int, int | None], None] | None = None,
    ) -> None:
        self.view = view
        self.tools = tools
        self.user_box = user_box
        self.notify = notify
        self.on_started = on_started
        self.on_finished = on_finished
        self.on_context = on_context  # the meter: (tokens, window)
        self.window: int | None = None
        self.reply: ReplyBox | None = None
        self.route: tuple[str, str] | None = None
        self.conversation_id: int | None = None  # the turn's, once the engine has stored the prompt
        self.rebranched = False  # compacted before the request: the reply continues a new branch

    async def show(self, event: Event) -> None:
        if isinstance(event, ProviderEvent):  # what the provider streamed goes to the reply
            if self.reply is not None:
                await self.reply.apply(event)
        elif isinstance(event, TurnStarted):
            self.route = (event.provider, event.model)
            self.conversation_id = event.conversation_id
            if self.user_box is not None and event.user_message is not None:
                self.user_box.update_message(event.user_message)
            self.on_started(event.conversation_id)
        elif isinstance(event, AssistantStarted):
            message = Message(
                role="assistant", id=event.message_id, provider=event.provider, model=event.model,
                status="streaming",
            )  # fmt: skip
            self.reply = await self.view.start_reply(message)
        elif isinstance(event, ContextMeasured):
            self.window = event.window
            self.rebranched = self.rebranched or event.new_branch
            if self.on_context is not None:
                self.on_context(event.tokens, event.window)
        elif isinstance(event, AssistantFinished):
            sent = event.usage.input_tokens
            if self.on_context is not None and sent is not None:  # the provider's own count, and the reply
                self.on_context(sent + (event.usage.output_tokens or 0), self.window)
            if self.reply is not None:
                await self.reply.close(event.message)
                self.reply = None
            if self.rebranched:  # the pane shows the branch the reply is on: summary, kept turns, reply
                self.rebranched = False
                await self.view.show(event.message_id)
            if event.store_error:  # the reply is on screen; the history could not take it
                self.notify(event.store_error, title="History", severity="error", timeout=20)
            self.on_finished(event.message_id)
        elif isinstance(event, ToolStarted):
            self.tools.display = True
            await self.tools.started(event.call)
        elif isinstance(event, ToolProgress):
            self.tools.show_progress(
                event.call.id, progress_label(event.progress, event.total, event.message)
            )
        elif isinstance(event, ToolFinished):
            await self.tools.finished(event.call, event.result, event.status, event.duration_s)
            await self.view.add_tool_result(event.result)
        elif isinstance(event, Notice):  # provider text: brackets in it are not markup
            severity = "warning" if event.kind == "warning" else "information"
            self.notify(event.text, severity=severity, markup=False)
        elif isinstance(event, Retrying):
            self.notify(
                f"retry {event.attempt} in {event.delay_s:.1f} s: {event.reason}",
                title="Retrying",
                severity="warning",
                timeout=max(event.delay_s + 2, 4),
                markup=False,
            )

    async def close(self, store: Store) -> None:
        """After the turn, stopped or failed: the open reply shows what arrived with the label the
        engine stored for it (interrupted, time, tokens so far), and a tool still running is
        marked interrupted. The turn is over, so this is the one read back from the store."""
        if self.reply is not None and self.reply.is_attached:
            message_id = self.reply.message.id
            await self.reply.close(store.get_message(message_id) if message_id is not None else None)
        self.reply = None
        self.tools.interrupt_running()
