"""Usage statistics: the numbers `agentchat stats` prints (the same `group_stats` over the same
records), per provider and model, with cost and latency per day as terminal plots."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import getters
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from agentchat.core.stats import GroupStats, group_stats, sparkline
from agentchat.tui.format import cost_label, duration_label, spend_label
from agentchat.tui.plain import plain_text

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from agentchat.core.store import Store

WINDOW_DAYS = 30
COLUMNS = (
    "provider",
    "model",
    "reqs",  # requests; short headers leave room for every column at 100 columns
    "in",  # tokens
    "out",
    "cost",
    "cache saved",  # what prompt caching saved
    "ttft",  # medians, as the title says
    "tok/s",
    "err%",
)
LOWER_BOUND_HINT = "“+” after a cost: some requests had no known price, so it is a lower bound."


def row_cells(row: GroupStats) -> list[Text]:
    """One table row; numbers right-aligned, "-" where nothing is known."""
    nothing_priced = row.cost == 0 and row.unpriced
    numbers = (
        f"{row.requests:,}",
        f"{row.input_tokens:,}",
        f"{row.output_tokens:,}",
        "-" if nothing_priced else spend_label(row.cost, row.unpriced),
        (cost_label(row.saved_usd) if row.saved_usd else None) or "-",
        duration_label(row.median_ttft_s) or "-",
        "-" if row.median_tokens_per_s is None else f"{row.median_tokens_per_s:.1f}",
        f"{row.error_rate:.0%}",
    )
    names = [plain_text(row.provider or "-"), plain_text(row.model or "-")]  # as the provider named them
    return names + [Text(n, justify="right") for n in numbers]


def daily_plot(days: list[GroupStats]) -> str:
    """Two sparklines over the days that had requests, oldest first, with the largest value each."""
    peak_cost = max(d.cost for d in days)
    peak_ttft = max(d.median_ttft_s or 0.0 for d in days)
    return "\n".join(
        (
            f"per day, {days[0].day} → {days[-1].day} ({len(days)} days with requests)",
            f"cost     {sparkline([d.cost for d in days])}  peak {spend_label(peak_cost, 0)}",
            f"latency  {sparkline([d.median_ttft_s or 0.0 for d in days])}  "
            f"peak {duration_label(peak_ttft)} (median time to first token)",
        )
    )


class StatsScreen(ModalScreen[None]):
    CSS_PATH = "stats.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close", id="stats-close")]

    table = getters.query_one(DataTable)
    daily = getters.query_one("#daily", Static)
    hint = getters.query_one("#stats-hint", Label)

    def __init__(self, store: Store, now: float, *, days: int = WINDOW_DAYS) -> None:
        super().__init__(classes="dialog")
        self.store = store
        self.now = now
        self.days = days

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body", id="stats"):
            title = f"Usage, last {self.days} days: requests, tokens in and out, median ttft and tok/s (escape closes)"
            yield Label(title, classes="dialog-title")
            yield DataTable(id="stats-table", cursor_type="row", zebra_stripes=True)
            yield Static(id="daily")
            yield Label(LOWER_BOUND_HINT, id="stats-hint")

    def on_mount(self) -> None:
        records = self.store.assistant_records(since=self.now - self.days * 86400)
        table, daily = self.table, self.daily
        if not records:
            table.display = False
            self.hint.display = False
            daily.update(f"No requests in the last {self.days} days.")
            return
        for column in COLUMNS:
            table.add_column(column, key=column)
        for row in group_stats(records, ["provider", "model"]):
            table.add_row(*row_cells(row))
        total = row_cells(group_stats(records)[0])
        total[:2] = [Text("all"), Text("")]
        for cell in total:
            cell.stylize("bold")
        table.add_row(*total)
        self.hint.display = total[COLUMNS.index("cost")].plain.endswith("+")  # the legend of a "+" shown
        daily.update(daily_plot(group_stats(records, ["day"])))
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
