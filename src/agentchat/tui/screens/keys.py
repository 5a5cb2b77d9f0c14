"""Key status: per provider whether a key is set and where from, a live check, and a masked key entry.

A key typed here goes straight to `set_provider_key` (config file, mode 0600); the input is masked
and cleared at once, and nothing here ever renders a key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, ClassVar

from textual import getters, work
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label

from agentchat.config import ENV
from agentchat.config.edit import clean_api_key, set_provider_key
from agentchat.core.errors import AgentchatError
from agentchat.core.keycheck import check_one, key_status
from agentchat.tui.errors import notify_error
from agentchat.tui.plain import plain, plain_text

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from agentchat.config import Config
    from agentchat.core.request import ProviderSettings

COLUMNS = ("provider", "key", "live check", "source")
Checker = Callable[["ProviderSettings"], Awaitable[str]]


class KeyStatusScreen(ModalScreen[None]):
    CSS_PATH = "keys.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Close", id="keys-close"),
        Binding("c", "check_all", "Check again", id="keys-check-all"),
        Binding("s", "set_key", "Set key", id="keys-set-key"),
    ]

    table = getters.query_one(DataTable)
    key_label = getters.query_one("#key-label", Label)
    key_input = getters.query_one("#key-input", Input)

    def __init__(
        self,
        config: Config,
        *,
        on_saved: Callable[[str], Awaitable[None]] | None = None,
        checker: Checker = check_one,
        health: dict[str, str],
    ) -> None:
        super().__init__(classes="dialog")
        self.config = config
        self.on_saved = on_saved
        self.checker = checker
        self.checks: dict[str, str] = {}
        self.health = health  # the app's: the checks' results, for the provider cycle

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body", id="keys"):
            yield Label(
                "API keys: select a provider and press s (or enter) to set its key", classes="dialog-title"
            )
            yield DataTable(id="key-table", cursor_type="row", zebra_stripes=True)
            yield Label("", id="key-label")
            yield Input(password=True, placeholder="paste the key, enter saves", id="key-input")

    def on_mount(self) -> None:
        table = self.table
        for column in COLUMNS:
            table.add_column(column, key=column)
        self.fill()
        self.key_input.display = False
        self.key_label.display = False
        table.focus()
        self.action_check_all()

    def fill(self) -> None:
        table = self.table
        cursor = table.cursor_row
        table.clear()
        for row in key_status(self.config):
            name, source = row["provider"], row["source"]
            if row["status"] == "missing":  # the hint names the config path; here the fix is one key away
                variable = ENV.get(name, ("",))[0]
                source = f"s: set it here{f', or export {variable}' if variable else ''}"
            cells = (name, row["status"], self.checks.get(name, "checking…"), source)
            table.add_row(*(plain_text(cell) for cell in cells), key=name)  # a str cell is read as markup
        if table.row_count:
            table.move_cursor(row=min(cursor, table.row_count - 1))

    def action_cancel(self) -> None:
        """Escape leaves the key entry first (clearing it), then the panel."""
        field = self.key_input
        if not field.display:
            self.dismiss(None)
            return
        field.value = ""
        field.display = False
        self.key_label.display = False
        self.table.focus()

    def _selected(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def action_check_all(self) -> None:
        for name in self.config.provider_names():
            self.check(name)

    @work(group="key-check")
    async def check(self, name: str) -> None:
        self.checks[name] = "checking…"
        self._set_cell(name)
        try:
            settings = self.config.provider(name)
        except AgentchatError as exc:  # e.g. a key with a space inside: say so in its row
            self.checks[name] = f"error: {exc}"
        else:
            self.checks[name] = self.health[name] = await self.checker(settings)
        self._set_cell(name)

    def _set_cell(self, name: str) -> None:
        table = self.table
        if name in table.rows:
            table.update_cell(name, "live check", plain_text(self.checks[name]), update_width=True)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_set_key()

    def action_set_key(self) -> None:
        name = self._selected()
        if name is None:
            return
        self.key_label.update(
            plain(f"New key for {name}: saved to the config file with mode 0600 (escape cancels)")
        )
        self.key_label.display = True
        self.key_input.display = True
        self.key_input.focus()

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        name = self._selected()
        key = event.value.strip()
        self.action_cancel()  # clears the field at once: the key must not linger in a widget
        if name is None or not key:
            return
        try:
            set_provider_key(self.config, name, clean_api_key(key))
        except AgentchatError as exc:  # a malformed key, or a config file that cannot be edited safely
            notify_error(self, exc)
            return
        except OSError as exc:
            self.notify(f"cannot write {self.config.path}: {exc.strerror}", severity="error")
            return
        self.notify(f"key for {name} saved to {self.config.path}", title="Key saved")
        if self.on_saved is not None:
            await self.on_saved(name)
        self.fill()
        self.check(name)
