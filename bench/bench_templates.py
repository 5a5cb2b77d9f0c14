"""Templates and the slash popup: what they cost as the number of template files grows.

Prints medians of:
- reading and parsing every template (`core.templates.load_templates`: YAML front matter each),
  for 10, 100 and 500 files; and PyYAML's import in a fresh interpreter (paid by `ask --template`
  only, and by the TUI the first time `/` is typed);
- in the real TUI (headless, against the tests' OpenAI fake), with 100 templates: from the `/` key
  to the popup, from a further key to the filtered list, beside a key typed with no popup (the
  pilot's own cost per key: it waits for the screen to be idle), and the matching and list
  rebuilding a key costs without drawing.

No peer has a slash popup over files to compare with; the target is a popup that keeps up with
typing (well under a frame, 16 ms, per key once listed).

    PYTHONPATH=src:. python bench/bench_templates.py [--runs 15]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]
os.environ["TEXTUAL_ANIMATIONS"] = "none"

TEMPLATE = """---
description: Template number {i} for the benchmark
model: gpt-4o-mini
system: You are helper {i}.
tools: [read_file, search_files]
---
Do task {i} on $1 with care. Everything asked: $ARGUMENTS
"""


def write_templates(root: Path, count: int) -> None:
    directory = root / "templates"
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.md"):
        old.unlink()
    for i in range(count):
        (directory / f"task{i:03d}.md").write_text(TEMPLATE.format(i=i))


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:8.2f} ms (min {min(values) * 1000:.2f}, n={len(values)})"


def bench_parsing(root: Path, runs: int) -> None:
    from agentchat.config import load_config
    from agentchat.core import templates

    config = load_config(root / "config.toml")
    for count in (10, 100, 500):
        write_templates(root, count)
        cold, warm = [], []
        for _ in range(runs):
            templates._parsed.clear()  # as a fresh process finds it
            start = time.perf_counter()
            found, errors = templates.load_templates(config, root)
            cold.append(time.perf_counter() - start)
            assert len(found) == count and not errors
            start = time.perf_counter()
            templates.load_templates(config, root)  # files unchanged: not parsed again
            warm.append(time.perf_counter() - start)
        print(f"load_templates, {count:3d} files, parsed: {ms(cold)}")
        print(f"load_templates, {count:3d} files, again:  {ms(warm)}")
    code = "import time; t = time.perf_counter(); import yaml; print(time.perf_counter() - t)"
    imports = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(runs)
    ]
    print(f"import yaml (fresh interpreter):      {ms(imports)}")


async def bench_popup(root: Path, runs: int) -> None:
    from tests.fakes.openai_fake import OpenAIFake

    from agentchat.config import load_config
    from agentchat.core.store import Store
    from agentchat.tui.app import AgentchatApp
    from agentchat.tui.widgets.slash import SlashMenu

    write_templates(root, 100)
    opened, filtered, plain, work = [], [], [], []
    with OpenAIFake() as fake:
        (root / "config.toml").write_text(
            f'[providers.openai]\nbase_url = "{fake.base_url}"\napi_key = "sk-bench"\n'
            "[providers.local]\nenabled = false\n"
        )
        config = load_config(root / "config.toml")
        app = AgentchatApp(config, Store(root / "history.db"), workspace=root)
        async with app.run_test(size=(120, 40)) as pilot:
            await asyncio.wait_for(app.screen.ready.wait(), 10)  # type: ignore[attr-defined]
            await app.workers.wait_for_complete()
            menu = app.screen.query_one(SlashMenu)
            prompt = app.screen.query_one("#prompt")
            for _ in range(runs):
                prompt.load_text("")  # type: ignore[attr-defined]
                await pilot.pause()
                start = time.perf_counter()
                await pilot.press("t", "a", "s", "k", "0", "4")  # the baseline: keys, no popup
                plain.append((time.perf_counter() - start) / 6)
                prompt.load_text("")  # type: ignore[attr-defined]
                await pilot.pause()
                start = time.perf_counter()
                await pilot.press("/")
                while not menu.display:
                    await pilot.pause(0)
                opened.append(time.perf_counter() - start)
                start = time.perf_counter()
                await pilot.press("t", "a", "s", "k", "0", "4")
                while len(menu.items) != 10:
                    await pilot.pause(0)
                filtered.append((time.perf_counter() - start) / 6)
                slash = app.screen.slash  # type: ignore[attr-defined]
                start = time.perf_counter()
                slash.text_changed("/task03")  # our part of a key: match and rebuild the list
                work.append(time.perf_counter() - start)
    print(f"a key typed, no popup (pilot):        {ms(plain)}")
    print(f"'/' to popup, 100 templates (pilot):  {ms(opened)}")
    print(f"a further key, filtered (pilot):      {ms(filtered)}")
    print(f"a further key, our work (no drawing): {ms(work)}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "config.toml").write_text("")
        bench_parsing(root, args.runs)
        asyncio.run(bench_popup(root, args.runs))


if __name__ == "__main__":
    main()
