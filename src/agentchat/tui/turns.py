"""Turn orchestration for the main screen: send, unsend, queued sends, stop, regenerate, edit and
resend, the turn itself and the stored-failure display.

One job runs at a time in the "generation" worker group (a turn, opening a conversation): a new
job cancels the running one and waits for it to settle, so the view never sees two writers.
Cancelling a turn lands inside the engine, which stores the partial reply as interrupted.

The screen owns what is on show (conversation, agent, route, the branch a prompt continues) and
the widgets; `TurnRunner` owns the jobs. Building the request is core's (`assemble_turn`, as in
`ask`), reading the engine's events is `TurnPresenter`'s.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from textual.worker import Worker, WorkerCancelled, WorkerError, WorkerFailed, get_current_worker

from agentchat import gc_policy
from agentchat.core.agents import Choices, assemble_turn
from agentchat.core.errors import AgentchatError
from agentchat.core.messages import AttachmentPart, Message
from agentchat.tui.attachments import Attachment
from agentchat.tui.errors import notify_error
from agentchat.tui.presenter import TurnPresenter
from agentchat.tui.screens.dialogs import TextPrompt
from agentchat.tui.waiting import FirstTokenWait

if TYPE_CHECKING:
    from agentchat.tui.screens.main import MainScreen
    from agentchat.tui.widgets.conversation import MessageBox

Job = Callable[[], Awaitable[None]]
FULL_COLLECTION_DELAY_S = 1.0  # after a turn, so the catch-up collection does not delay its last frame


class TurnRunner:
    """The main screen's jobs, one at a time, and its turns. Owned by the screen (`screen.turns`)."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self._job: Worker[None] | None = None
        self._pending: tuple[str, int | None] | None = None  # a sent prompt whose job has not started
        self._reset_clients = False  # a key changed during a reply: drop the cached clients after it

    # --- one job at a time -----------------------------------------------------------------------
    def run_job(self, job: Job) -> None:
        """Run `job` once the one under way has stopped (it is told to)."""
        self._restore_pending()  # a send that never started is replaced: its text goes back
        # A callable, not a coroutine: a job cancelled before it starts leaves nothing un-awaited.
        self._job = self.screen.run_worker(
            partial(self._run_job, self._job, job), name="run_job", group="generation", exit_on_error=False
        )

    def send_job(self, job: Job, text: str, parent: int | None) -> None:
        """A job that sends `text`: until it starts (the last reply may take a moment to stop), the
        text is pending, and a stop or a newer job puts it back into the prompt."""
        self.run_job(job)
        self._pending = (text, parent)  # the worker starts later, on the event loop

    def _restore_pending(self) -> None:
        if self._pending is not None:
            (text, parent), self._pending = self._pending, None
            self._unsent(text, parent)

    async def _run_job(self, previous: Worker[None] | None, job: Job) -> None:
        await self.screen.ready.wait()
        if previous is not None and not previous.is_finished:
            previous.cancel()
            try:
                await previous.wait()
            except (WorkerCancelled, WorkerFailed, WorkerError):
                pass
        if get_current_worker().is_cancelled:  # stopped while the last one wound down: don't start
            return
        await self._guarded(job)

    def run_background(self, job: Job) -> None:
        """A store change that must not stop a reply streaming meanwhile (rename, delete another)."""
        self.screen.run_worker(self._guarded(job), group="background", exit_on_error=False)

    async def _guarded(self, job: Job) -> None:
        try:
            await job()
        except AgentchatError as exc:  # e.g. the store is locked or damaged: say so, keep running
            notify_error(self.screen, exc, timeout=12)
        except Exception as exc:  # a face never crashes; the message says what broke
            self.screen.notify(
                f"{type(exc).__name__}: {exc}",
                title="Internal error",
                severity="error",
                timeout=12,
                markup=False,
            )

    def stop(self) -> None:
        """Every generation job: one just queued has not yet stopped the one streaming."""
        self.screen.app.workers.cancel_group(self.screen, "generation")
        self._restore_pending()

    # --- sending ---------------------------------------------------------------------------------
    def submit(self, text: str, *, extra: Choices | None = None) -> None:
        """The prompt was sent with the chips above it: it continues the branch on screen (the
        newest unless an older one was opened). The chips stay until the message is stored.
        `extra`: a template's (or /system's) choices for this turn (see `_turn`)."""
        screen = self.screen
        attached = screen.chips.attachments
        if not text.strip() and not attached:
            return
        parent = screen.branch_tip
        screen.branch_tip = None  # once this turn has stored a message, its branch is the newest
        screen.prompt.clear()
        self.send_job(lambda: self._send(text, parent, attached=attached, extra=extra), text, parent)

    async def _send(
        self,
        text: str,
        parent_id: int | None = None,
        *,
        from_root: bool = False,
        attached: Sequence[Attachment] = (),
        extra: Choices | None = None,
    ) -> None:
        self._pending = None  # started: from here on _unsend gives the text back if need be
        screen = self.screen
        view = screen.view
        conversation = screen.conversation_id  # None: the engine creates it with the turn
        try:
            parts = await screen.attach.read(list(attached))
        except AgentchatError as exc:  # a file gone or grown too big since it was attached
            notify_error(screen, exc, timeout=12)
            await self._unsend(text, conversation, parent_id)
            return
        user_box = await view.append(Message.user(text, parts))
        view.anchor()
        try:
            await self._turn(
                text, conversation, parent_id, from_root=from_root, user_box=user_box,
                attachments=parts, sent=attached, extra=extra,
            )  # fmt: skip
        finally:
            if user_box.message.id is None:  # the turn ended before it stored the prompt
                await self._unsend(text, conversation, parent_id)

    async def _unsend(self, text: str, conversation: int | None, parent_id: int | None) -> None:
        """No provider could take the prompt (no key, unknown model) or it was stopped at once:
        nothing was stored (not even a new conversation), so the branch it was for is shown again
        and the text goes back."""
        leaf = self.screen.app.store.leaf(conversation) if conversation is not None else None
        await self.screen.view.show(parent_id if parent_id is not None else leaf)
        self._unsent(text, parent_id if parent_id != leaf else None)

    def _unsent(self, text: str, branch_tip: int | None) -> None:
        """Back into the prompt, before anything typed meanwhile; and the branch it continues."""
        prompt = self.screen.prompt
        typed = prompt.text
        if text.strip():  # (a message of attachments alone has no text to give back: its chips stayed)
            prompt.load_text(f"{text}\n{typed}" if typed.strip() else text)
        self.screen.branch_tip = branch_tip

    # --- the turn --------------------------------------------------------------------------------
    async def _turn(
        self,
        prompt: str | None,
        conversation: int | None,
        parent_id: int | None,
        *,
        from_root: bool = False,
        user_box: MessageBox | None = None,
        attachments: list[AttachmentPart] | None = None,
        sent: Sequence[Attachment] = (),
        extra: Choices | None = None,
    ) -> None:
        """One turn, assembled by core exactly as `ask` assembles it: the agent, the attachments,
        and the provider and model chosen in the provider bar (None while it still resolves: the
        engine picks). The chips `sent` go once the engine has stored the message; a turn it
        refuses (an image to a model without vision) leaves them, and the text goes back."""
        screen = self.screen
        app = screen.app
        agent, route = app.agent(screen.agent), screen.route
        choices = Choices(
            provider=route.provider,
            model=route.model if route.provider else None,
            attachments=attachments or [],
        )
        if extra is not None:  # a template's model (with its provider) beats the bar's, for this turn
            if extra.model or extra.provider:
                choices.model, choices.provider = extra.model, extra.provider
            choices.system, choices.tool_names = extra.system, extra.tool_names
        waiting = FirstTokenWait(screen, choices.provider, choices.model)
        await waiting.start()  # the message and "connecting…" are drawn before anything else runs
        try:
            turn = assemble_turn(
                app.config, agent, prompt, conversation_id=conversation, parent_id=parent_id,
                from_root=from_root, choices=choices,
            )  # fmt: skip
        except BaseException:
            await waiting.stop()
            raise
        app.engine.gate = app.gate_for(conversation, agent)
        presenter = TurnPresenter(
            screen.view,
            screen.tools,
            user_box,
            screen.notify,
            partial(self._started, sent=sent),
            screen.show_cost,
            screen.show_context,
        )
        screen.show_cost()  # a regeneration drops the replaced reply's cost at once
        screen.generating = True
        gc_policy.postpone_full_collections()  # a full one would freeze the stream for 50-180 ms
        try:
            async with aclosing(app.engine.run_turn(turn)) as events:
                async for event in events:
                    await waiting.seen(event)
                    await presenter.show(event)
            if presenter.route is not None:
                screen.set_route(*presenter.route)
        except AgentchatError as exc:
            waiting.failed(exc)
            notify_error(screen, exc, timeout=12)
            await self._show_stored_failure(turn.conversation_id or presenter.conversation_id)
        finally:
            await waiting.stop()
            await presenter.close(app.store)
            screen.generating = False
            screen.set_timer(FULL_COLLECTION_DELAY_S, self._allow_full_collections)
            screen.show_cost()  # a stopped reply was stored with what it cost so far
            screen.conversation_changed()
            if self._reset_clients:
                self._reset_clients = False
                await app.engine.aclose()

    def _started(self, conversation_id: int, *, sent: Sequence[Attachment] = ()) -> None:
        """The engine stored the prompt: a new conversation now exists, with this id, and the
        chips sent with it have done their work."""
        screen = self.screen
        if screen.conversation_id is None:
            screen.app.adopt_gate(conversation_id)  # "always" answers given in it hold on
            screen.conversation_id = conversation_id
        screen.conversation_changed()
        if sent:
            screen.run_worker(screen.chips.discard(sent), group="attach", exit_on_error=False)

    async def _show_stored_failure(self, conversation: int | None) -> None:
        """A request that failed before its first token is stored as an error reply, which the next
        prompt follows: show it where it is, as reopening the conversation would."""
        store, view = self.screen.app.store, self.screen.view
        leaf = store.leaf(conversation) if conversation is not None else None
        failed = store.get_message(leaf) if leaf is not None else None
        shown = {box.message.id for box in view.boxes()}
        if (
            failed is not None
            and failed.role == "assistant"
            and failed.status == "error"
            and leaf not in shown
        ):
            await view.append(failed)
            view.anchor()

    def _allow_full_collections(self) -> None:
        if not self.screen.generating:  # else the next turn has begun: its end will allow them
            gc_policy.allow_full_collections()

    async def key_saved(self, provider: str) -> None:
        """Cached clients hold the old key: drop them now, or after the running reply."""
        if self.screen.generating:
            self._reset_clients = True
        else:
            await self.screen.app.engine.aclose()

    # --- regenerate, edit and resend -------------------------------------------------------------
    def regenerate_from(self, user_box: MessageBox | None) -> None:
        """Ask again from `user_box`: the replies after it leave the screen, and the new one is
        stored as a sibling branch (the old ones stay in the store)."""
        screen = self.screen
        if user_box is None or screen.conversation_id is None:
            screen.notify("nothing to regenerate yet", severity="warning", timeout=3)
            return
        conversation = screen.conversation_id

        async def job() -> None:
            screen.branch_tip = None  # the new reply will be the newest branch
            view = screen.view
            children = list(view.children)
            await view.remove_children(children[children.index(user_box) + 1 :])
            view.anchor()
            await self._turn(None, conversation, user_box.message.id)

        self.run_job(job)

    def edit(self, box: MessageBox) -> None:
        """Resend an edited user message as a sibling branch, with its attachments (their bytes
        from the store); the old branch stays in the store."""
        screen = self.screen

        def resend(text: str | None) -> None:
            if text is None or not box.is_attached:
                return
            parent = box.message.parent_id
            kept = [replace(part) for part in box.message.attachments]  # copies: the box keeps its own

            async def job() -> None:
                screen.branch_tip = None  # the resent message will be the newest branch
                await screen.view.truncate_from(box)
                if kept:
                    screen.app.store.load_attachments([Message(role="user", parts=list(kept))])
                attached = [Attachment(part) for part in kept]
                await self._send(text, parent, from_root=parent is None, attached=attached)

            self.send_job(job, text, parent)

        screen.app.push_screen(
            TextPrompt("Edit and resend (a new branch)", box.message.text, multiline=True), resend
        )
