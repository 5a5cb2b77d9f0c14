"""The agent list: agents with their conversations (newest first) and full-text search of history;
at its foot, the providers pane (`agentchat.tui.widgets.providers`).

Titles and snippets are a user's or a model's text: labels are Rich `Text` of `clean`ed text, as a
`str` label is read as markup (`[/b]` in a title made the app exit at every start).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import getters
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList, Tree
from textual.widgets.option_list import Option

from agentchat.core.agents import DEFAULT_AGENT
from agentchat.core.errors import AgentchatError
from agentchat.core.store import MATCH_CLOSE, MATCH_OPEN
from agentchat.tui.errors import notify_error
from agentchat.tui.plain import clean, plain_text
from agentchat.tui.tcss import tcss_beside
from agentchat.tui.widgets.providers import ProvidersPane

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.timer import Timer

    from agentchat.core.store import ConversationInfo, SearchHit, Store

PER_AGENT = 100  # conversations listed per agent; older ones are reached through search
SEARCH_DELAY_S = 0.15


@dataclass(frozen=True, slots=True)
class AgentNode:
    agent: str


@dataclass(frozen=True, slots=True)
class ConversationNode:
    conversation_id: int
    agent: str


def snippet_text(hit: SearchHit) -> Text:
    """Title on one line, the snippet below with the matched words highlighted."""
    text = plain_text(hit.title or "(untitled)", style="bold")
    text.append("\n")
    for index, chunk in enumerate(clean(hit.snippet).replace("\n", " ").split(MATCH_OPEN)):
        if index == 0:
            text.append(chunk, style="dim")
            continue
        matched, _, rest = chunk.partition(MATCH_CLOSE)
        text.append(matched, style="reverse")
        text.append(rest, style="dim")
    return text


def title_label(title: str | None) -> Text:
    """One line: a title may hold line breaks (it is derived from the first prompt)."""
    return plain_text((title or "(untitled)").replace("\n", " "))


class ConversationTree(Tree[AgentNode | ConversationNode]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new_chat", "New here", id="sidebar-new-chat"),
        Binding("r", "rename", "Rename", id="sidebar-rename"),
        Binding("d,delete", "delete", "Delete", id="sidebar-delete"),
    ]

    def _selected(self) -> ConversationNode | None:
        node = self.cursor_node
        return node.data if node is not None and isinstance(node.data, ConversationNode) else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("rename", "delete"):
            return self._selected() is not None
        return True

    def action_new_chat(self) -> None:
        node = self.cursor_node
        data = node.data if node is not None else None
        self.post_message(Sidebar.NewChat(data.agent if data is not None else DEFAULT_AGENT))

    def action_rename(self) -> None:
        selected = self._selected()
        if selected is not None:
            self.post_message(Sidebar.RenameRequested(selected.conversation_id))

    def action_delete(self) -> None:
        selected = self._selected()
        if selected is not None:
            self.post_message(Sidebar.DeleteRequested(selected.conversation_id))


class Sidebar(Vertical):
    DEFAULT_CSS = tcss_beside(__file__)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "clear_search", "Clear search", show=False, id="sidebar-clear-search"),
        Binding("down", "into_results", "Results", show=False, id="sidebar-search-results"),
    ]

    @dataclass
    class Open(Message):
        """Show a conversation. `leaf_id`: the branch to show (a search hit's); None shows the
        newest branch."""

        conversation_id: int
        agent: str
        leaf_id: int | None = None

    @dataclass
    class NewChat(Message):
        """Start a new conversation with this agent."""

        agent: str

    @dataclass
    class RenameRequested(Message):
        conversation_id: int

    @dataclass
    class DeleteRequested(Message):
        conversation_id: int

    search = getters.query_one("#search", Input)
    conversation_tree = getters.query_one(ConversationTree)
    results = getters.query_one("#results", OptionList)

    def __init__(self, store: Store, agents: list[str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self.agents = agents
        self._search_timer: Timer | None = None
        self._hits: list[SearchHit] = []

    def compose(self) -> ComposeResult:
        yield Input(placeholder="Search history (ctrl+f)", id="search")
        tree: ConversationTree = ConversationTree("agents", id="agents")
        tree.show_root = False
        tree.guide_depth = 2
        yield tree
        yield OptionList(id="results")
        yield ProvidersPane(id="providers")

    def on_mount(self) -> None:
        self.results.display = False
        self.reload()

    @contextmanager
    def _store_errors(self) -> Iterator[None]:
        """A locked or damaged database is said in a notification; the sidebar stays usable."""
        try:
            yield
        except AgentchatError as exc:
            notify_error(self, exc)

    # --- the tree --------------------------------------------------------------------------------
    def reload(self, current: int | None = None) -> None:
        """Rebuild from the store (cheap: at most PER_AGENT rows per agent, no message scan)."""
        listing: dict[str, list[ConversationInfo]] = {agent: [] for agent in self.agents}
        with self._store_errors():
            # The default agent's conversations are stored without an agent name.
            listing = {
                agent: self.store.list_conversations(
                    agent=None if agent == DEFAULT_AGENT else agent, limit=PER_AGENT
                )
                for agent in self.agents
            }
        tree = self.conversation_tree
        tree.clear()
        cursor_line = None
        for agent, conversations in listing.items():
            node = tree.root.add(plain_text(agent, style="bold"), data=AgentNode(agent), expand=True)
            for info in conversations:
                leaf = node.add_leaf(
                    title_label(info.title), data=ConversationNode(info.id, info.agent or DEFAULT_AGENT)
                )
                if info.id == current:
                    cursor_line = leaf
        if cursor_line is not None:
            tree.move_cursor(cursor_line)

    def touch(self, conversation_id: int | None) -> None:
        """After a turn: reorder only if the conversation is not already first in its agent."""
        if conversation_id is None:
            return
        for agent_node in self.conversation_tree.root.children:
            if not agent_node.children:
                continue
            first = agent_node.children[0]
            if isinstance(first.data, ConversationNode) and first.data.conversation_id == conversation_id:
                with self._store_errors():
                    info = self.store.conversation(conversation_id)  # the title may have just appeared
                    first.set_label(title_label(info.title if info else None))
                return
        self.reload(conversation_id)

    def on_tree_node_selected(self, event: Tree.NodeSelected[AgentNode | ConversationNode]) -> None:
        data = event.node.data
        if isinstance(data, ConversationNode):
            event.stop()
            self.post_message(self.Open(data.conversation_id, data.agent))

    # --- search ----------------------------------------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(SEARCH_DELAY_S, self.run_search)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter opens the top (highlighted) hit, searching first if the typing has not yet."""
        event.stop()
        self._search_now()
        if self.results.display and self._hits:
            self._open_hit(self.results.highlighted or 0)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "into_results":  # else down goes on (the tree's and the lists' own cursor)
            return self.search.has_focus
        return True

    def action_into_results(self) -> None:
        """Down in the search box: into the hits, the top one highlighted."""
        self._search_now()
        if self.results.display and self._hits:
            self.results.focus()

    def _search_now(self) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
            self._search_timer = None
        self.run_search()

    def run_search(self) -> None:
        query = self.search.value.strip()
        results, tree = self.results, self.conversation_tree
        if not query:
            results.display, tree.display = False, True
            return
        self._hits = []
        with self._store_errors():
            self._hits = self.store.search(query, limit=50)
        results.clear_options()
        if self._hits:
            results.add_options(Option(snippet_text(hit), id=str(i)) for i, hit in enumerate(self._hits))
            results.highlighted = 0
        else:
            results.add_option(Option(Text("no match", style="dim"), disabled=True))
        results.display, tree.display = True, False

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self._open_hit(int(event.option.id))

    def _open_hit(self, index: int) -> None:
        hit = self._hits[index]
        with self._store_errors():
            info = self.store.conversation(hit.conversation_id)
            leaf = self.store.branch_leaf(hit.message_id)  # the hit's branch, maybe not the newest
            agent = info.agent if info is not None and info.agent else DEFAULT_AGENT
            self.post_message(self.Open(hit.conversation_id, agent, leaf_id=leaf))

    def action_clear_search(self) -> None:
        self.search.value = ""
        self.run_search()
        self.conversation_tree.focus()

    def focus_search(self) -> None:
        """At once, not at the next idle (`focus()`): the keys right behind ctrl+f belong here."""
        self.screen.set_focus(self.search)
