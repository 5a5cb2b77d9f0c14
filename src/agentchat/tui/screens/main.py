"""The main screen: agent list, conversation, prompt, tool activity, and what each key does there.

The screen owns what is on show (the conversation, its agent, the branch a prompt continues) and
the widgets. Turns, and the rule that one job runs at a time, are `TurnRunner`'s
(`agentchat.tui.turns`, as `self.turns`); the provider and model a turn goes to are
`RouteControl`'s (`agentchat.tui.route`, as `self.route`); the files attached to the next prompt
are `AttachControl`'s (`agentchat.tui.attach`, as `self.attach`); renaming and deleting a
conversation are `ConversationEdits`'s (`agentchat.tui.conversation_edits`, as `self.edits`).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, ClassVar

from textual import getters
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Footer

from agentchat import gc_policy
from agentchat.tui.app import AgentchatApp
from agentchat.tui.attach import AttachControl
from agentchat.tui.branches import BranchControl
from agentchat.tui.context import branch_tokens, compact_current
from agentchat.tui.conversation_edits import ConversationEdits
from agentchat.tui.format import running_cost
from agentchat.tui.route import RouteControl
from agentchat.tui.screens.keys import KeyStatusScreen
from agentchat.tui.screens.power_keys import PowerKeys
from agentchat.tui.screens.stats import StatsScreen
from agentchat.tui.slash import SlashControl
from agentchat.tui.turns import TurnRunner
from agentchat.tui.widgets.chips import AttachmentBar
from agentchat.tui.widgets.conversation import ConversationView, MessageBox
from agentchat.tui.widgets.prompt import PromptInput
from agentchat.tui.widgets.provider_bar import ProviderBar
from agentchat.tui.widgets.providers import ProvidersPane
from agentchat.tui.widgets.sidebar import DEFAULT_AGENT, Sidebar
from agentchat.tui.widgets.slash import SlashMenu
from agentchat.tui.widgets.tools import ToolPane

if TYPE_CHECKING:
    from textual.app import ComposeResult


PLACEHOLDER = "Message (enter sends, ctrl+j newline, shift+tab to the messages)"


class MainScreen(PowerKeys):  # PowerKeys: the slash popup's, ctrl+e's and the branches' keys
    CSS_PATH = "main.tcss"
    # Every binding has an id, so a keymap (`App.set_keymap`) can move it to another key.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "stop", "Stop", priority=True, id="stop"),  # in the footer while a reply streams
        # Keys that move focus are priority bindings and move it at once: the app hands each key to
        # the widget focused when the key arrives, so without that the letters typed right after
        # ctrl+f (one terminal read) would land in the prompt, and Enter would send them.
        Binding("ctrl+n", "new_chat", "New", priority=True, id="new-chat"),
        Binding("ctrl+r", "regenerate", "Regen", tooltip="Regenerate the last reply", id="regenerate"),
        Binding(
            "f4",
            "edit_last",
            "Edit",
            tooltip="Edit the last message and resend it as a branch",
            id="edit-last",
        ),
        Binding("ctrl+o", "cycle_provider", "Provider", id="cycle-provider"),
        Binding("ctrl+l", "pick_model", "Models", id="pick-model"),
        Binding("f2", "keys", "Keys", id="keys"),
        Binding("f3", "toggle_tools", "Tools", id="toggle-tools"),
        Binding("ctrl+f", "search", "Search", priority=True, id="search"),
        Binding("f5", "copy_reply", "Copy", tooltip="Copy the last reply", id="copy-reply"),
        Binding("f8", "copy_code", "Code", tooltip="Copy a code block of the last reply", id="copy-code"),
        # priority: the prompt binds f6 itself (select line)
        Binding("f6", "stats", "Stats", priority=True, id="stats"),
        # The footer has no room left at 120 columns: these two are in the palette (ctrl+p) only.
        Binding("ctrl+b", "toggle_sidebar", "Sidebar", show=False, id="toggle-sidebar"),
        Binding("f9", "focus_messages", "Messages", priority=True, show=False, id="focus-messages"),
        Binding("f7", "compact", "Compact", priority=True, show=False, id="compact"),  # over select-all
    ]

    # Below 100 columns the sidebar gives its room to the conversation (ctrl+b brings it back).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]  # noqa: RUF012 (Screen types it so)
    AUTO_FOCUS = "#prompt"  # may run before the prompt is mounted: _ready focuses it then
    generating: reactive[bool] = reactive(False)

    app = getters.app(AgentchatApp)
    sidebar = getters.query_one(Sidebar)
    view = getters.query_one(ConversationView)
    tools = getters.query_one(ToolPane)
    bar = getters.query_one(ProviderBar)
    prompt = getters.query_one(PromptInput)
    chips = getters.query_one(AttachmentBar)

    def __init__(self) -> None:
        super().__init__()
        self.conversation_id: int | None = None
        self.agent = DEFAULT_AGENT
        self.branch_tip: int | None = None  # an older branch on screen: the tip a prompt continues
        self.route = RouteControl(self)
        self.turns = TurnRunner(self)
        self.attach = AttachControl(self)
        self.slash = SlashControl(self)  # `/` commands and templates
        self.branches = BranchControl(self)  # ‹ 2/3 › between sibling messages
        self.edits = ConversationEdits(self)  # rename, delete
        self.ready = asyncio.Event()  # set once every widget is mounted and startup work has begun

    # --- layout ----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        app = self.app
        with Horizontal(id="body"):
            yield Sidebar(app.store, app.agent_names(), id="sidebar")
            with Vertical(id="chat"):
                yield ProviderBar(id="provider-bar")
                yield ConversationView(app.store, app.timefmt, id="conversation")
                yield AttachmentBar(id="attachments")
                yield SlashMenu(id="slash")
                yield PromptInput(placeholder=PLACEHOLDER, id="prompt", workspace=app.workspace)
            yield ToolPane(id="tools")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        # The screen mounts before the widgets nested in its containers: start after the first paint.
        self.call_after_refresh(self._ready)

    def _ready(self) -> None:
        gc_policy.startup_done()  # painted: what exists now lives as long as the app
        self.tools.display = False
        if self.focused is None:  # keys pressed during startup may have moved focus already
            self.prompt.focus()
        self.route.resolve_initial()
        self.ready.set()

    def watch_generating(self, busy: bool) -> None:
        self.bar.busy = busy
        self.refresh_bindings()  # Stop is in the footer only while a reply streams

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":  # otherwise escape goes on to the focused widget
            return self.generating or self.slash.is_open
        return super().check_action(action, parameters)

    # --- the route (provider and model) and the key and usage panels ---------------------------
    def set_route(self, provider: str | None, model: str | None) -> None:
        self.route.set(provider, model)

    async def action_cycle_provider(self) -> None:
        await self.route.cycle()

    def action_pick_model(self) -> None:
        self.route.pick()

    async def on_providers_pane_selected(self, event: ProvidersPane.Selected) -> None:
        event.stop()
        await self.route.choose(event.provider)

    def action_keys(self) -> None:
        app = self.app
        app.push_screen(KeyStatusScreen(app.config, on_saved=self.turns.key_saved, health=app.health))

    def action_stats(self) -> None:
        self.app.push_screen(StatsScreen(self.app.store, self.app.wall_clock()))

    # --- turns: what the keys and messages ask of the TurnRunner ---------------------------------
    async def on_prompt_input_submitted(self, event: PromptInput.Submitted) -> None:
        event.stop()
        if event.prompt is self.prompt:
            self.slash.submit(event.text)  # a `/` command, else the message to send

    def on_prompt_input_file_pick_requested(self, event: PromptInput.FilePickRequested) -> None:
        event.stop()
        self.attach.pick()

    def on_prompt_input_files_pasted(self, event: PromptInput.FilesPasted) -> None:
        event.stop()
        self.attach.add_files(event.paths)

    def on_prompt_input_image_paste_requested(self, event: PromptInput.ImagePasteRequested) -> None:
        event.stop()
        self.attach.paste_image()

    def action_stop(self) -> None:
        if self.slash.is_open:  # escape closes the slash popup first
            self.slash.close()
        else:
            self.turns.stop()

    def action_regenerate(self) -> None:
        self.turns.regenerate_from(self.view.last_user_box())

    def on_message_box_regenerate_requested(self, event: MessageBox.RegenerateRequested) -> None:
        event.stop()
        self.turns.regenerate_from(self.view.user_box_before(event.box))

    def on_message_box_edit_requested(self, event: MessageBox.EditRequested) -> None:
        event.stop()
        self.turns.edit(event.box)

    def action_edit_last(self) -> None:
        box = self.view.last_user_box()
        if box is None:
            self.notify("no message to edit yet", severity="warning", timeout=3)
            return
        self.turns.edit(box)

    # --- conversations ---------------------------------------------------------------------------
    def reload_sidebar(self) -> None:
        self.sidebar.reload(self.conversation_id)
        self.show_title()

    def conversation_changed(self) -> None:
        """It has a new message: move it to the top of its agent (if not there) and show its title."""
        self.sidebar.touch(self.conversation_id)
        self.show_title()
        self.view.refresh_branches()  # a regenerated reply or an edited prompt: ‹ 2/2 ›

    def show_title(self) -> None:
        info = self.app.store.conversation(self.conversation_id) if self.conversation_id else None
        self.bar.title = (info.title if info else None) or "new conversation"

    def show_cost(self, leaf: int | None = None) -> None:
        """The shown branch's spend (up to `leaf`, else its newest stored message), read from the
        store so a reopened, regenerated or stopped branch adds up the same as a live one."""
        if leaf is None:
            stored = [box.message.id for box in self.view.boxes() if box.message.id is not None]
            leaf = stored[-1] if stored else None
        thread = self.app.store.thread(leaf) if leaf is not None else []
        self.bar.cost = running_cost(thread) if leaf is not None else None
        self.bar.show_context(branch_tokens(thread))

    def show_context(self, tokens: int | None, window: int | None) -> None:
        self.bar.show_context(tokens, window)

    def action_compact(self) -> None:
        compact_current(self)

    def on_sidebar_open(self, event: Sidebar.Open) -> None:
        event.stop()
        self.open_conversation(event.conversation_id, event.agent, event.leaf_id)

    def open_conversation(
        self,
        conversation_id: int,
        agent: str = DEFAULT_AGENT,
        leaf_id: int | None = None,
        *,
        focus: int | None = None,
    ) -> None:
        """Show its newest branch, or the branch ending at `leaf_id` (a search hit on an older one);
        `focus`: the message to focus then (a branch step from a focused message)."""
        asked_from = self.focused

        async def job() -> None:
            store = self.app.store
            info = store.conversation(conversation_id)
            if info is None:
                self.notify("that conversation no longer exists", severity="warning")
                return
            self.conversation_id, self.agent = conversation_id, agent
            if info.provider and info.model:  # continuing keeps the conversation's provider and model
                self.set_route(info.provider, info.model)
            newest = store.leaf(conversation_id)
            leaf = newest if leaf_id is None else leaf_id
            self.branch_tip = leaf if leaf != newest else None  # the next prompt continues it
            await self.view.show(leaf)
            self.show_cost(leaf)
            await self.tools.load(store.thread(leaf, tools_only=True) if leaf is not None else [])
            self.tools.display = self.tools.count > 0
            self.bar.title = info.title or "(untitled)"
            focused = [box for box in self.view.boxes() if focus is not None and box.message.id == focus]
            if focused:
                focused[0].focus()
            elif self.focused is asked_from:  # ready to type, unless the user went elsewhere meanwhile
                self.prompt.focus()

        self.turns.run_job(job)

    def on_sidebar_new_chat(self, event: Sidebar.NewChat) -> None:
        event.stop()
        self.new_chat(event.agent)

    def action_new_chat(self) -> None:
        self.new_chat(self.agent)

    def new_chat(self, agent: str) -> None:
        self.set_focus(self.prompt)
        self.turns.run_job(lambda: self.show_new_chat(agent))

    async def show_new_chat(self, agent: str) -> None:
        self.conversation_id, self.agent, self.branch_tip = None, agent, None
        settings = self.app.agent(agent)
        if settings.model or settings.provider:
            route = await self.app.router.resolve(settings.model, settings.provider)
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
        self.edits.rename(conversation_id)

    def delete(self, conversation_id: int) -> None:
        self.edits.delete(conversation_id)

    def action_load_earlier(self) -> None:
        self.run_worker(self.view.load_earlier(), group="history", exclusive=True)

    # --- panes, copy, focus ----------------------------------------------------------------------
    def action_toggle_tools(self) -> None:
        self.tools.display = not self.tools.display

    def action_toggle_sidebar(self) -> None:
        self.sidebar.display = not self.sidebar.display

    def action_search(self) -> None:
        self.sidebar.display = True
        self.sidebar.focus_search()

    def action_focus_messages(self) -> None:
        boxes = self.view.boxes()
        if boxes:
            self.set_focus(boxes[-1])

    def _last_reply(self) -> MessageBox | None:
        box = self.view.last_reply()
        if box is None:
            self.notify("no reply yet", severity="warning", timeout=3)
        return box

    def action_copy_reply(self) -> None:
        box = self._last_reply()
        if box is not None:
            box.action_copy()

    def action_copy_code(self) -> None:
        box = self._last_reply()
        if box is not None:
            box.action_copy_code()
