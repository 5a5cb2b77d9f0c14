"""`agentchat stats` (usage, cost, speed from the store) and `agentchat bench` (models side by side)."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agentchat.cli.common import at_least, err, guarded, load, open_store
from agentchat.core.text import clean

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

PIPE_WIDTH = 200


def register(app: typer.Typer) -> None:
    app.command("stats")(stats)
    app.command("bench")(bench)


def _cell(value: object) -> Text:
    """A provider or model name as a table cell: Rich would read a `str` as markup (`[/b]` in a
    model name raised MarkupError) and print its escape sequences."""
    from rich.text import Text

    return Text(clean(str(value or "-")))


def _fmt(value: float | None, spec: str, suffix: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def _console() -> Console:
    """Rich assumes 80 columns when stdout is not a terminal and would cut numbers and model names
    in a pipe or a file; there nothing wraps, so give the tables room instead."""
    from agentchat.cli.rich_console import PipeConsole

    console = PipeConsole()
    return console if console.is_terminal else PipeConsole(width=PIPE_WIDTH)


@guarded
def stats(
    by: Annotated[str, typer.Option("--by", help="Group by any of provider,model,day.")] = "provider,model",
    days: Annotated[int, typer.Option("--days", help="Only the last N days (0: all).")] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> int:
    """Requests, tokens, cost, median time to first token, tokens/s and error rate."""
    from agentchat.cli import state
    from agentchat.core.stats import group_stats

    at_least("--days", days, 0)
    load(state.config_path)  # a malformed config is reported like everywhere else
    since = time.time() - days * 86400 if days > 0 else None
    with open_store() as store:
        records = store.assistant_records(since=since)
    groups = [g.strip() for g in by.split(",") if g.strip()]
    rows = group_stats(records, groups)  # type: ignore[arg-type]
    daily = group_stats(records, ["day"])
    if as_json:
        print(
            json.dumps({"groups": [asdict(r) for r in rows], "daily": [asdict(r) for r in daily]}, indent=2)
        )
        return 0
    if not records:
        err("no requests recorded yet")
        return 0
    _print_tables(rows, groups, daily)
    return 0


def _print_tables(rows: list[Any], groups: list[str], daily: list[Any]) -> None:
    from rich.table import Table

    from agentchat.core.stats import sparkline

    console = _console()
    table = Table(title="usage", title_justify="left")
    for g in groups:
        table.add_column(g)
    columns = ("requests", "tokens in", "tokens out", "cost $", "saved by caching $", "ttft p50", "tok/s p50")
    for name in (*columns, "errors"):
        table.add_column(name, justify="right")
    for r in rows:
        cost = f"{r.cost:.4f}" + ("+" if r.unpriced else "")
        table.add_row(
            *[_cell(getattr(r, g)) for g in groups],
            str(r.requests),
            str(r.input_tokens),
            str(r.output_tokens),
            cost,
            f"{r.saved_usd:.4f}",
            _fmt(r.median_ttft_s, ".2f", "s"),
            _fmt(r.median_tokens_per_s, ".1f"),
            f"{r.error_rate:.0%}",
        )
    console.print(table)
    if daily:
        console.print(f"cost/day    {sparkline([d.cost for d in daily])}  {daily[0].day} → {daily[-1].day}")
        console.print(f"ttft/day    {sparkline([d.median_ttft_s or 0.0 for d in daily])}")
    console.print("[dim]'+' after a cost: some requests had no known price[/dim]")


@guarded
def bench(
    prompt: Annotated[
        str, typer.Argument(help="The prompt every model gets.")
    ] = "Write a haiku about terminals.",
    models: Annotated[str, typer.Option("--models", help="Comma-separated models: a,b,c.")] = "",
    runs: Annotated[int, typer.Option("--runs", help="Runs per model.")] = 3,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> int:
    """Run one prompt on several models and compare ttft, tokens/s, total time, tokens and cost."""
    from agentchat.cli import state
    from agentchat.core.errors import ProviderError, UsageError

    names = [m.strip() for m in models.split(",") if m.strip()]
    if not names or runs < 1:
        raise UsageError("give --models a,b,... and --runs N (N >= 1)")
    config = load(state.config_path)
    results = asyncio.run(_bench(config, prompt, names, runs))
    summary = [_summarise(name, results[name]) for name in names]
    if as_json:
        print(json.dumps(summary, indent=2))
    else:
        _print_bench(summary, runs)
    if all(s["errors"] == s["runs"] for s in summary):
        return ProviderError.exit_code  # nothing worked: exit like `ask` does when the provider fails
    return 0


async def _bench(config: Any, prompt: str, names: list[str], runs: int) -> dict[str, list[dict[str, Any]]]:
    """Runs are interleaved (a, b, c, a, b, c...) so a slow minute hurts every model alike."""
    from pathlib import Path

    from agentchat.core.engine import Engine
    from agentchat.core.errors import AgentchatError
    from agentchat.core.events import AssistantFinished
    from agentchat.core.store import Store
    from agentchat.core.turn import TurnRequest

    results: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    with Store(Path(":memory:")) as store:
        engine = Engine(config, store)
        try:
            for run in range(runs):
                for name in names:
                    started = time.monotonic()
                    finished: AssistantFinished | None = None
                    try:
                        async for event in engine.run_turn(TurnRequest(prompt=prompt, model=name)):
                            if isinstance(event, AssistantFinished):
                                finished = event
                    except AgentchatError as exc:
                        err(f"{name} run {run + 1}: {exc}")
                        results[name].append({"error": str(exc)})
                        continue
                    results[name].append(_run_row(finished, time.monotonic() - started))
        finally:
            await engine.aclose()
    return results


def _run_row(finished: Any, wall_s: float) -> dict[str, Any]:
    usage = finished.usage if finished else None
    out = usage.output_tokens if usage else None
    ttft = finished.ttft_s if finished else None
    gen = wall_s - (ttft or 0.0)
    return {
        "ttft_s": ttft,
        "total_s": wall_s,
        "tokens_per_s": out / gen if out and gen > 0 else None,
        "input_tokens": usage.input_tokens if usage else None,
        "output_tokens": out,
        "cost": finished.cost if finished else None,
    }


def _median(rows: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(values) if values else None


def _summarise(name: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("ttft_s", "tokens_per_s", "total_s", "input_tokens", "output_tokens", "cost")
    return {
        "model": name,
        "runs": len(rows),
        "errors": sum("error" in r for r in rows),
        **{f"median_{k}": _median(rows, k) for k in keys},
    }


def _print_bench(summary: list[dict[str, Any]], runs: int) -> None:
    from rich.table import Table

    table = Table(title=f"medians over {runs} run(s)", title_justify="left")
    for name in ("model", "ttft", "tok/s", "total", "tokens in", "tokens out", "cost $", "errors"):
        table.add_column(name, justify="left" if name == "model" else "right")
    for s in summary:
        table.add_row(
            _cell(s["model"]),
            _fmt(s["median_ttft_s"], ".2f", "s"),
            _fmt(s["median_tokens_per_s"], ".1f"),
            _fmt(s["median_total_s"], ".2f", "s"),
            _fmt(s["median_input_tokens"], ".0f"),
            _fmt(s["median_output_tokens"], ".0f"),
            _fmt(s["median_cost"], ".6f"),
            str(s["errors"]),
        )
    _console().print(table)
