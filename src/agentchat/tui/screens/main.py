"""The main screen: agent list, conversation, prompt, tool activity; every action lives here.

One job runs at a time in the "generation" worker group (a turn, opening a conversation): a new
job cancels the running one and waits for it to settle, so the view never sees two writers.
Cancelling a turn lands inside the engine, which stores the partial reply as interrupted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from typing import TYPE_CHECKING, ClassVar, NamedTuple

from textual import work
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker, WorkerCancelled, WorkerError, WorkerFailed, get_current_worker

from agentchat import gc_policy
from agentchat.core.agents import Choices, assemble_turn
from agentchat.core.errors import AgentchatError
from agentchat.core.keycheck import UNUSABLE, key_status
from agentchat.core.messages import Message
from agentchat.tui.errors import notify_error
from agentchat.tui.format import running_cost
from agentchat.tui.presenter import TurnPresenter
from agentchat.tui.screens.dialogs import Choice, Confirm, TextPrompt
from agentchat.tui.screens.keys import KeyStatusScreen
from agentchat.tui.screens.models import ModelPicker
from agentchat.tui.screens.stats import StatsScreen
from agentchat.tui.widgets.conversation import ConversationView, MessageBox
from agentchat.tui.widgets.prompt import PromptInput
from agentchat.tui.widgets.provider_bar import ProviderBar
from agentchat.tui.widgets.sidebar import DEFAULT_AGENT, Sidebar
from agentchat.tui.widgets.tools import ToolPane

if TYPE_CHECKING:
    from agentchat.core.routing import Route
    from agentchat.tui.app import AgentchatApp

PLACEHOLDER = "Message (enter sends, ctrl+j newline, shift+tab to the messages)"
FULL_COLLECTION_DELAY_S = 1.0  # after a turn, so the catch-up collection does not delay its last frame


class Command(NamedTuple):
    title: str
    help: str
    action: str


COMMANDS = (
    Command("New chat", "Start a new conversation with the current agent (ctrl+n)", "new_chat"),
    Command("Stop generation", "Stop the reply; the partial reply is kept (escape)", "stop"),
    Command("Regenerate last reply", "Ask again from the last user message (ctrl+r)", "regenerate"),
    Command(
        "Edit last message", "Edit the last user message and resend it as a new branch (f4)", "edit_last"
    ),
    Command("Next provider", "Cycle through providers with a key (ctrl+o)", "cycle_provider"),
    Command("Pick model", "Models per provider, discovered live (ctrl+l)", "pick_model"),
    Command("Key status", "Keys per provider, live check, set a key (f2)", "keys"),
    Command(
        "Usage statistics", "Requests, tokens, cost and speed per provider and model, per day (f6)", "stats"
    ),
    Command("Toggle tool activity", "Show or hide the tool calls pane (f3)", "toggle_tools"),
    Command("Toggle sidebar", "Show or hide the agent list (ctrl+b)", "toggle_sidebar"),
    Command("Search history", "Full-text search over every conversation (ctrl+f)", "search"),
    Command("Rename conversation", "Give the current conversation a title", "rename"),
    Command("Delete conversation", "Delete the current conversation", "delete"),
    Command("Copy last reply", "Copy the last reply as Markdown (f5)", "copy_reply"),
    Command("Copy code from last reply", "Copy a code block of the last reply (f8)", "copy_code"),
    Command(
        "Focus messages", "Move to the messages: c copy, y code, e edit, r regenerate (f9)", "focus_messages"
    ),
    Command("Load earlier messages", "Mount the previous page of this conversation", "load_earlier"),
)


class MainScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "stop", "Stop", priority=True),  # in the footer while a reply streams
        # Keys that move focus are priority bindings and move it at once: the app hands each key to
        # the widget focused when the key arrives, so without that the letters typed right after
        # ctrl+f (one terminal read) would land in the prompt, and Enter would send them.
        Binding("ctrl+n", "new_chat", "New", priority=True),
        Binding("ctrl+r", "regenerate", "Regen", tooltip="Regenerate the last reply"),
        Binding("f4", "edit_last", "Edit", tooltip="Edit the last message and resend it as a branch"),
        Binding("ctrl+o", "cycle_provider", "Provider"),
        Binding("ctrl+l", "pick_model", "Models"),
        Binding("f2", "keys", "Keys"),
        Binding("f3", "toggle_tools", "Tools"),
        Binding("ctrl+f", "search", "Search", priority=True),
        Binding("f5", "copy_reply", "Copy", tooltip="Copy the last reply"),
        Binding("f8", "copy_code", "Code", tooltip="Copy a code block of the last reply"),
        # priority: the prompt binds f6 itself (select line)
        Binding("f6", "stats", "Stats", priority=True),
        # The footer has no room left at 120 columns: these two are in the palette (ctrl+p) only.
        Binding("ctrl+b", "toggle_sidebar", "Sidebar", show=False),
        Binding("f9", "focus_messages", "Messages", priority=True, show=False),
    ]

    AUTO_FOCUS = "#prompt"  # may run before the prompt is mounted: _ready focuses it then
    generating: reactive[bool] = reactive(False)

    def __init__(self) -> None:
        super().__init__()
        self.conversation_id: int | None = None
        self.agent = DEFAULT_AGENT
        self.provider: str | None = None
        self.model: str | None = None
        self._job: Worker[None] | None = None
        self._last_model: dict[str, str] = {}
        self._reset_clients = False
        self._frozen_sdk = False
        self._branch_tip: int | None = None  # an older branch on screen: the tip a prompt continues
        self._pending: tuple[str, int | None] | None = None  # a sent prompt whose job has not started
        self.ready = asyncio.Event()  # set once every widget is mounted and startup work has begun

    @property
    def chat_app(self) -> AgentchatApp:
        return self.app  # type: ignore[return-value]

    # --- layout ----------------------------------------------------------------------------------
    def compose(self):  # type: ignore[no-untyped-def]
        app = self.chat_app
        with Horizontal(id="body"):
            yield Sidebar(app.store, app.agent_names(), id="sidebar")
            with Vertical(id="chat"):
                yield ProviderBar(id="provider-bar")
                yield ConversationView(app.store, app.timefmt, id="conversation")
                yield PromptInput(placeholder=PLACEHOLDER, id="prompt")
            yield ToolPane(id="tools")
        yield Footer(compact=True)

    @property
    def view(self) -> ConversationView:
        return self.query_one(ConversationView)

    @property
    def tools(self) -> ToolPane:
        return self.query_one(ToolPane)

    @property
    def bar(self) -> ProviderBar:
        return self.query_one(ProviderBar)

    @property
    def prompt(self) -> PromptInput:
        return self.query_one(PromptInput)

    def on_mount(self) -> None:
        # The screen mounts before the widgets nested in its containers: start after the first paint.
        self.call_after_refresh(self._ready)

    def _ready(self) -> None:
        gc_policy.startup_done()  # painted: what exists now lives as long as the app
        self.tools.display = False
        if self.focused is None:  # keys pressed during startup may have moved focus already
            self.prompt.focus()
        self.resolve_initial_route()
        self.ready.set()

    def watch_generating(self, busy: bool) -> None:
        self.bar.busy = busy
        self.refresh_bindings()  # Stop is in the footer only while a reply streams

    def set_route(self, provider: str | None, model: str | None) -> None:
        if provider and provider != self.provider:
            self.warm_up(provider)
        self.provider, self.model = provider, model
        if provider and model:
            self._last_model[provider] = model
        self.bar.provider, self.bar.model = provider, model

    @work(thread=True, group="warm-up", exit_on_error=False)
    def warm_up(self, provider: str) -> None:
        """Import the provider's SDK off the event loop (0.2-1 s) so the first send does not freeze."""
        self.chat_app.warm_sdk(provider)
        if not self._frozen_sdk:  # the first SDK is part of start-up: frozen out of collections
            self._frozen_sdk = True  # later, freezing would also keep a conversation's garbage alive
            gc_policy.startup_done()

    @work(thread=True, group="startup", exit_on_error=False)
    def resolve_initial_route(self) -> None:
        """The provider `ask` would use; probing Ollama can block, hence a thread."""
        app = self.chat_app
        agent = app.agent(self.agent)
        try:
            route: Route = asyncio.run(app.router.resolve(agent.model, agent.provider))
        except AgentchatError as exc:
            app.call_from_thread(
                self.notify, str(exc), title="No provider", severity="warning", timeout=10, markup=False
            )
            return
        if self.provider is None:
            app.call_from_thread(self.set_route, route.provider, route.model)

    # --- one job at a time -----------------------------------------------------------------------
    def run_job(self, job: Callable[[], Awaitable[None]]) -> None:
        """Run `job` once the one under way has stopped (it is told to)."""
        self._restore_pending()  # a send that never started is replaced: its text goes back
        self._job = self._run_job(self._job, job)

    def send_job(self, job: Callable[[], Awaitable[None]], text: str, parent: int | None) -> None:
        """A job that sends `text`: until it starts (the last reply may take a moment to stop), the
        text is pending, and a stop or a newer job puts it back into the prompt."""
        self.run_job(job)
        self._pending = (text, parent)  # the worker starts later, on the event loop

    def _restore_pending(self) -> None:
        if self._pending is not None:
            (text, parent), self._pending = self._pending, None
            self._unsent(text, parent)

    @work(group="generation", exit_on_error=False)
    async def _run_job(self, previous: Worker[None] | None, job: Callable[[], Awaitable[None]]) -> None:
        await self.ready.wait()
        if previous is not None and not previous.is_finished:
            previous.cancel()
            try:
                await previous.wait()
            except (WorkerCancelled, WorkerFailed, WorkerError):
                pass
        if get_current_worker().is_cancelled:  # stopped while the last one wound down: don't start
            return
        await self._guarded(job)

    def run_background(self, job: Callable[[], Awaitable[None]]) -> None:
        """A store change that must not stop a reply streaming meanwhile (rename, delete another)."""
        self.run_worker(self._guarded(job), group="background", exit_on_error=False)

    async def _guarded(self, job: Callable[[], Awaitable[None]]) -> None:
        try:
            await job()
        except AgentchatError as exc:  # e.g. the store is locked or damaged: say so, keep running
            notify_error(self, exc, timeout=12)
        except Exception as exc:  # a face never crashes; the message says what broke
            self.notify(
                f"{type(exc).__name__}: {exc}",
                title="Internal error",
                severity="error",
                timeout=12,
                markup=False,
            )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return self.generating  # otherwise escape goes on to the focused widget
        return True

    def action_stop(self) -> None:
        # Every generation job: one just queued has not yet stopped the one streaming.
        self.app.workers.cancel_group(self, "generation")
        self._restore_pending()

    # --- turns -----------------------------------------------------------------------------------
    async def on_prompt_input_submitted(self, event: PromptInput.Submitted) -> None:
        event.stop()
        if event.prompt is not self.prompt:
            return
        text, parent = event.text, self._branch_tip
        self._branch_tip = None  # once this turn has stored a message, its branch is the newest
        self.prompt.clear()
        self.send_job(lambda: self._send(text, parent), text, parent)

    async def _send(self, text: str, parent_id: int | None = None, *, from_root: bool = False) -> None:
        self._pending = None  # started: from here on _unsend gives the text back if need be
        conversation = self.conversation_id  # None: the engine creates it once a provider is chosen
        user_box = await self.view.append(Message.user(text))
        self.view.anchor()
        try:
            await self._turn(text, conversation, parent_id, from_root=from_root, user_box=user_box)
        finally:
            if user_box.message.id is None:  # the turn ended before it stored the prompt
                await self._unsend(text, conversation, parent_id)

    async def _unsend(self, text: str, conversation: int | None, parent_id: int | None) -> None:
        """No provider could take the prompt (no key, unknown model) or it was stopped at once:
        nothing was stored (not even a new conversation), so the branch it was for is shown again
        and the text goes back."""
        leaf = self.chat_app.store.leaf(conversation) if conversation is not None else None
        await self.view.show(parent_id if parent_id is not None else leaf)
        self._unsent(text, parent_id if parent_id != leaf else None)

    def _unsent(self, text: str, branch_tip: int | None) -> None:
        """Back into the prompt, before anything typed meanwhile; and the branch it continues."""
        typed = self.prompt.text
        self.prompt.load_text(f"{text}\n{typed}" if typed.strip() else text)
        self._branch_tip = branch_tip

    async def _turn(
        self,
        prompt: str | None,
        conversation: int | None,
        parent_id: int | None,
        *,
        from_root: bool = False,
        user_box: MessageBox | None = None,
    ) -> None:
        """One turn, assembled by core exactly as `ask` assembles it: the agent, and the provider
        and model chosen in the provider bar (None while it still resolves: the engine picks)."""
        app = self.chat_app
        agent = app.agent(self.agent)
        turn = assemble_turn(
            app.config,
            agent,
            prompt,
            conversation_id=conversation,
            parent_id=parent_id,
            from_root=from_root,
            choices=Choices(provider=self.provider, model=self.model if self.provider else None),
        )
        app.engine.gate = app.gate_for(conversation, agent)
        presenter = TurnPresenter(
            self.view, self.tools, user_box, self.notify, self._turn_started, self.show_cost
        )
        self.show_cost()  # a regeneration drops the replaced reply's cost at once
        self.generating = True
        gc_policy.postpone_full_collections()  # a full one would freeze the stream for 50-180 ms
        try:
            async with aclosing(app.engine.run_turn(turn)) as events:
                async for event in events:
                    await presenter.show(event)
            if presenter.route is not None:
                self.set_route(*presenter.route)
        except AgentchatError as exc:
            notify_error(self, exc, timeout=12)
            await self._show_stored_failure(turn.conversation_id or presenter.conversation_id)
        finally:
            await presenter.close(app.store)
            self.generating = False
            self.set_timer(FULL_COLLECTION_DELAY_S, self._allow_full_collections)
            self.show_cost()  # a stopped reply was stored with what it cost so far
            self.conversation_changed()
            if self._reset_clients:
                self._reset_clients = False
                await app.engine.aclose()

    async def _show_stored_failure(self, conversation: int | None) -> None:
        """A request that failed before its first token is stored as an error reply, which the next
        prompt follows: show it where it is, as reopening the conversation would."""
        store = self.chat_app.store
        leaf = store.leaf(conversation) if conversation is not None else None
        failed = store.get_message(leaf) if leaf is not None else None
        shown = {box.message.id for box in self.view.boxes()}
        if (
            failed is not None
            and failed.role == "assistant"
            and failed.status == "error"
            and leaf not in shown
        ):
            await self.view.append(failed)
            self.view.anchor()

    def _allow_full_collections(self) -> None:
        if not self.generating:  # else the next turn has begun: its end will allow them
            gc_policy.allow_full_collections()

    def _user_box_before(self, box: MessageBox) -> MessageBox | None:
        boxes = self.view.boxes()
        for candidate in reversed(boxes[: boxes.index(box) + 1]):
            if candidate.message.role == "user" and candidate.message.id is not None:
                return candidate
        return None

    def regenerate_from(self, user_box: MessageBox | None) -> None:
        if user_box is None or self.conversation_id is None:
            self.notify("nothing to regenerate yet", severity="warning", timeout=3)
            return
        conversation = self.conversation_id

        async def job() -> None:
            self._branch_tip = None  # the new reply will be the newest branch
            children = list(self.view.children)
            await self.view.remove_children(children[children.index(user_box) + 1 :])
            self.view.anchor()
            await self._turn(None, conversation, user_box.message.id)

        self.run_job(job)

    def action_regenerate(self) -> None:
        self.regenerate_from(self.view.last_user_box())

    def on_message_box_regenerate_requested(self, event: MessageBox.RegenerateRequested) -> None:
        event.stop()
        self.regenerate_from(self._user_box_before(event.box))

    def on_message_box_edit_requested(self, event: MessageBox.EditRequested) -> None:
        event.stop()
        self.edit(event.box)

    def action_edit_last(self) -> None:
        box = self.view.last_user_box()
        if box is None:
            self.notify("no message to edit yet", severity="warning", timeout=3)
            return
        self.edit(box)

    def edit(self, box: MessageBox) -> None:
        """Resend an edited user message as a sibling branch; the old branch stays in the store."""

        def resend(text: str | None) -> None:
            if text is None or not box.is_attached:
                return
            parent = box.message.parent_id

            async def job() -> None:
                self._branch_tip = None  # the resent message will be the newest branch
                await self.view.truncate_from(box)
                await self._send(text, parent, from_root=parent is None)

            self.send_job(job, text, parent)

        self.app.push_screen(
            TextPrompt("Edit and resend (a new branch)", box.message.text, multiline=True), resend
        )

    # --- conversations ---------------------------------------------------------------------------
    def reload_sidebar(self) -> None:
        self.query_one(Sidebar).reload(self.conversation_id)
        self.show_title()

    def _turn_started(self, conversation_id: int) -> None:
        """The engine stored the prompt: a new conversation now exists, with this id."""
        if self.conversation_id is None:
            self.chat_app.adopt_gate(conversation_id)  # "always" answers given in it hold on
            self.conversation_id = conversation_id
        self.conversation_changed()

    def conversation_changed(self) -> None:
        """It has a new message: move it to the top of its agent (if not there) and show its title."""
        self.query_one(Sidebar).touch(self.conversation_id)
        self.show_title()

    def show_title(self) -> None:
        info = self.chat_app.store.conversation(self.conversation_id) if self.conversation_id else None
        self.bar.title = (info.title if info else None) or "new conversation"

    def show_cost(self, leaf: int | None = None) -> None:
        """The shown branch's spend (up to `leaf`, else its newest stored message), read from the
        store so a reopened, regenerated or stopped branch adds up the same as a live one."""
        if leaf is None:
            stored = [box.message.id for box in self.view.boxes() if box.message.id is not None]
            leaf = stored[-1] if stored else None
        self.bar.cost = running_cost(self.chat_app.store.thread(leaf)) if leaf is not None else None

    def on_sidebar_open(self, event: Sidebar.Open) -> None:
        event.stop()
        self.open_conversation(event.conversation_id, event.agent, event.leaf_id)

    def open_conversation(
        self, conversation_id: int, agent: str = DEFAULT_AGENT, leaf_id: int | None = None
    ) -> None:
        """Show its newest branch, or the branch ending at `leaf_id` (a search hit on an older one)."""
        asked_from = self.focused

        async def job() -> None:
            store = self.chat_app.store
            info = store.conversation(conversation_id)
            if info is None:
                self.notify("that conversation no longer exists", severity="warning")
                return
            self.conversation_id, self.agent = conversation_id, agent
            if info.provider and info.model:  # continuing keeps the conversation's provider and model
                self.set_route(info.provider, info.model)
            newest = store.leaf(conversation_id)
            leaf = newest if leaf_id is None else leaf_id
            self._branch_tip = leaf if leaf != newest else None  # the next prompt continues it
            await self.view.show(leaf)
            self.show_cost(leaf)
            await self.tools.load(store.thread(leaf, tools_only=True) if leaf is not None else [])
            self.tools.display = self.tools.count > 0
            self.bar.title = info.title or "(untitled)"
            if self.focused is asked_from:  # ready to type, unless the user went elsewhere meanwhile
                self.prompt.focus()

        self.run_job(job)

    def on_sidebar_new_chat(self, event: Sidebar.NewChat) -> None:
        event.stop()
        self.new_chat(event.agent)

    def action_new_chat(self) -> None:
        self.new_chat(self.agent)

    def new_chat(self, agent: str) -> None:
        self.set_focus(self.prompt)
        self.run_job(lambda: self._show_new_chat(agent))

    async def _show_new_chat(self, agent: str) -> None:
        self.conversation_id, self.agent, self._branch_tip = None, agent, None
        settings = self.chat_app.agent(agent)
        if settings.model or settings.provider:
            route = await self.chat_app.router.resolve(settings.model, settings.provider)
            self.set_route(route.provider, route.model)
        await self.view.show(None)
        self.show_cost()
        await self.tools.clear()
        self.tools.display = False
        self.reload_sidebar()

    def on_sidebar_rename_requested(self, event: Sidebar.RenameRequested) -> None:
        event.stop()
        self.rename(event.conversation_id)

    def on_sidebar_delete_requested(self, event: Sidebar.DeleteRequested) -> None:
        event.stop()
        self.delete(event.conversation_id)

    def action_rename(self) -> None:
        if self.conversation_id is not None:
            self.rename(self.conversation_id)

    def action_delete(self) -> None:
        if self.conversation_id is not None:
            self.delete(self.conversation_id)

    def rename(self, conversation_id: int) -> None:
        store = self.chat_app.store
        info = store.conversation(conversation_id)

        async def job(title: str) -> None:
            store.rename_conversation(conversation_id, title)
            self.reload_sidebar()
            if conversation_id == self.conversation_id:
                self.show_title()

        def done(title: str | None) -> None:
            if title and title.strip():
                self.run_background(lambda: job(title.strip()))

        self.app.push_screen(TextPrompt("Rename conversation", (info.title if info else None) or ""), done)

    def delete(self, conversation_id: int) -> None:
        store = self.chat_app.store
        info = store.conversation(conversation_id)
        name = (info.title if info else None) or "(untitled)"

        async def job() -> None:
            store.delete_conversation(conversation_id)
            if conversation_id == self.conversation_id:
                await self._show_new_chat(self.agent)
            else:
                self.reload_sidebar()
            self.notify(f"deleted “{name}”", timeout=3, markup=False)

        def done(yes: bool | None) -> None:
            if not yes:
                return
            if conversation_id == self.conversation_id:
                self.run_job(job)  # stops a reply streaming into it first
            else:
                self.run_background(job)

        self.app.push_screen(Confirm(f"Delete “{name}” and all its messages?"), done)

    def action_load_earlier(self) -> None:
        self.run_worker(self.view.load_earlier(), group="history", exclusive=True)

    # --- providers and keys ----------------------------------------------------------------------
    async def action_cycle_provider(self) -> None:
        names = [row["provider"] for row in key_status(self.chat_app.config) if row["status"] != "missing"]
        if not names:
            self.notify("no provider has a key: press f2 to set one", severity="warning")
            return
        # Skip what the last live check (f2, or the model picker's discovery) found unusable.
        health = self.chat_app.health
        names = [n for n in names if health.get(n) not in UNUSABLE or n == self.provider] or names
        if names == [self.provider]:
            self.notify("no other provider is usable: f2 shows why", severity="warning", timeout=4)
            return
        index = names.index(self.provider) + 1 if self.provider in names else 0
        name = names[index % len(names)]
        try:
            route = await self.chat_app.router.resolve(self._last_model.get(name), name)
        except AgentchatError as exc:
            notify_error(self, exc)
            return
        self.set_route(route.provider, route.model)
        self.notify(f"{route.provider} · {route.model}", title="Provider", timeout=2)

    def action_pick_model(self) -> None:
        app = self.chat_app

        async def picked(choice: tuple[str | None, str] | None) -> None:
            if choice is None:
                return
            provider, model = choice
            try:
                route = await app.router.resolve(model, provider)
            except AgentchatError as exc:
                notify_error(self, exc)
                return
            self.set_route(route.provider, route.model)

        self.app.push_screen(
            ModelPicker(app.config, app.router, (self.provider, self.model), app.health), picked
        )

    def action_keys(self) -> None:
        app = self.chat_app
        self.app.push_screen(KeyStatusScreen(app.config, on_saved=self._key_saved, health=app.health))

    def action_stats(self) -> None:
        app = self.chat_app
        self.app.push_screen(StatsScreen(app.store, app.wall_clock()))

    async def _key_saved(self, provider: str) -> None:
        """Cached clients hold the old key: drop them now, or after the running reply."""
        if self.generating:
            self._reset_clients = True
        else:
            await self.chat_app.engine.aclose()

    # --- panes, copy, focus ----------------------------------------------------------------------
    def action_toggle_tools(self) -> None:
        self.tools.display = not self.tools.display

    def action_toggle_sidebar(self) -> None:
        sidebar = self.query_one(Sidebar)
        sidebar.display = not sidebar.display

    def action_search(self) -> None:
        sidebar = self.query_one(Sidebar)
        sidebar.display = True
        sidebar.focus_search()

    def action_focus_messages(self) -> None:
        boxes = self.view.boxes()
        if boxes:
            self.set_focus(boxes[-1])

    def _last_reply(self) -> MessageBox | None:
        for box in reversed(self.view.boxes()):
            if box.message.role == "assistant":
                return box
        self.notify("no reply yet", severity="warning", timeout=3)
        return None

    def action_copy_reply(self) -> None:
        box = self._last_reply()
        if box is not None:
            box.action_copy()

    def action_copy_code(self) -> None:
        box = self._last_reply()
        if box is not None:
            box.action_copy_code()

    def on_message_box_copy_code_requested(self, event: MessageBox.CopyCodeRequested) -> None:
        event.stop()
        blocks = event.blocks

        def copy(index: int | None) -> None:
            if index is not None:
                self.app.copy_to_clipboard(blocks[index])
                self.notify("code copied to the clipboard", timeout=2)

        if len(blocks) == 1:
            copy(0)
            return
        previews = [
            f"{i + 1}. {block.splitlines()[0] if block else ''}"[:70] for i, block in enumerate(blocks)
        ]
        self.app.push_screen(Choice("Copy which code block?", previews), copy)
