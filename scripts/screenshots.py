"""Regenerate screenshots/*.svg and *.png from the real TUI driven against the fake servers.

    PYTHONPATH=src python scripts/screenshots.py [--out screenshots]

Nothing here is staged by hand: the app, the engine, the SDKs and the store are the real ones; only
the servers are the loopback fakes from tests/fakes. PNGs need cairosvg and a monospace font that
exists on this machine (Textual's SVG asks for Fira Code, which usually does not).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]
os.environ["TEXTUAL_ANIMATIONS"] = "none"

from tests.attach_files import make_image, make_pdf  # noqa: E402
from tests.fakes import anthropic_fake, ollama_fake, openai_fake  # noqa: E402

from agentchat.config import Config, load_config  # noqa: E402
from agentchat.core.messages import Message, TextPart  # noqa: E402
from agentchat.core.routing import Router  # noqa: E402
from agentchat.core.store import Store  # noqa: E402
from agentchat.providers import list_models  # noqa: E402
from agentchat.tools.registry import build_registry  # noqa: E402
from agentchat.tui.app import AgentchatApp  # noqa: E402

SIZE = (130, 40)
FONTS = ("DejaVu Sans Mono", "Liberation Mono", "Noto Sans Mono", "Ubuntu Mono")
EPOCH = 1_767_260_400.0  # a fixed date, so the pictures do not change with the clock

ANSWER = """Python's `functools.lru_cache` memoizes a function by its arguments:

```python
from functools import lru_cache

@lru_cache(maxsize=None)
def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)

print(fib(80))  # 23416728348467685
```

- **maxsize** bounds the cache; `None` means unbounded.
- `fib.cache_info()` shows hits and misses.
"""

HISTORY = [
    ("Rust borrow checker, explained", "How do lifetimes relate to borrows?"),
    ("Weekend trip: Lisbon", "Three days in Lisbon, what should I see?"),
    ("SQL window functions", "Running totals per customer in Postgres?"),
    ("Regex for ISO dates", "A regex for YYYY-MM-DD?"),
]


def monospace_font() -> str:
    """The first of FONTS that fontconfig knows."""
    try:
        listed = subprocess.run(["fc-list", ":spacing=mono", "family"], capture_output=True, text=True).stdout
    except OSError:
        listed = ""
    for font in FONTS:
        if font in listed:
            return font
    return "monospace"


def write_png(svg: str, path: Path, font: str, width: int = SIZE[0]) -> None:
    import cairosvg

    svg = svg.replace("Fira Code", font)
    cairosvg.svg2png(bytestring=svg.encode(), write_to=str(path), output_width=width * 12)


def seed(store: Store) -> None:
    for title, question in HISTORY:
        conversation = store.create_conversation(title=title)
        store.add_message(conversation, Message(role="user", parts=[TextPart(question)]))


def project(workspace: Path) -> None:
    """The workspace the `@` picker lists: a few sources, docs, and what .gitignore hides."""
    files = {
        "README.md": b"# demo\n",
        "docs/diagram.png": make_image(320, 200, color=(40, 90, 160)),
        "docs/architecture.pdf": make_pdf(["Client, API, database.", "Deployment."]),
        "notes/todo.md": b"- cache the API responses\n",
        "src/api.py": b"def handler(request): ...\n",
        "src/app.py": b"print('hi')\n",
        "build/app.bin": b"\x00",
        ".gitignore": b"build/\n",
    }
    for name, data in files.items():
        (workspace / name).parent.mkdir(parents=True, exist_ok=True)
        (workspace / name).write_bytes(data)


def clock(start: float, step: float) -> Any:
    moment = [start]

    def tick() -> float:
        moment[0] += step
        return moment[0]

    return tick


async def shoot(out: Path, work: Path) -> list[Path]:
    font = monospace_font()
    written: list[Path] = []
    with (
        openai_fake.OpenAIFake() as gpt,
        anthropic_fake.AnthropicFake() as claude,
        ollama_fake.OllamaFake() as llama,
    ):
        gpt.models = ["gpt-4o-mini", "gpt-4.1", "gpt-4.1-nano", "o4-mini"]
        os.environ["HOME"] = str(work)  # the welcome shows ~/.config/agentchat/config.toml
        config_path = work / ".config" / "agentchat" / "config.toml"
        config_path.parent.mkdir(parents=True)
        config_path.write_text(
            f'[providers.openai]\nbase_url = "{gpt.base_url}"\napi_key = "sk-demo"\nmodels = ["gpt-4o-mini"]\n\n'
            f'[providers.anthropic]\nbase_url = "{claude.root}"\napi_key = "sk-ant-demo"\n\n'
            f'[providers.ollama]\nhost = "{llama.root}"\n\n'
            '[agents.reviewer]\nsystem = "You review code."\n'
        )
        os.environ["AGENTCHAT_DATA_DIR"] = str(work)
        config = load_config(config_path)
        store = Store(work / "history.db", clock=clock(EPOCH, 7.0))
        seed(store)
        workspace = work / "project"
        workspace.mkdir()
        project(workspace)
        app = AgentchatApp(
            config,
            store,
            router=installed_local(config),  # listed as installed; never loaded here
            registry=build_registry(config, workspace, plugins=False),
            timefmt=lambda ts: "09:41",
            engine_clock=clock(0.0, 0.05),
            workspace=workspace,
        )

        chunks = [ANSWER[i : i + 12] for i in range(0, len(ANSWER), 12)]
        gpt.queue(openai_fake.text(chunks, openai_fake.usage(212, 168)))
        call = ("call_1", "write_file", {"path": "notes/fib.py", "content": "print('fib')\n"})
        gpt.queue(openai_fake.tool_calls([call]), openai_fake.text(["Saved it as `notes/fib.py`."]))
        seen = "A request goes from the **client** through the API to the database, and back."
        gpt.queue(openai_fake.text([seen], openai_fake.usage(480, 22)))
        async with app.run_test(size=SIZE) as pilot:

            async def save(name: str) -> None:
                """The screen as it is, with every cursor steady (a blinking one is caught in either phase)."""
                for screen_ in app.screen_stack:
                    for field in screen_.query("Input, TextArea"):
                        field.cursor_blink = False  # type: ignore[attr-defined]
                await pilot.pause()
                svg = app.export_screenshot(title="agentchat")
                (out / f"{name}.svg").write_text(svg)
                write_png(svg, out / f"{name}.png", font)
                written.extend([out / f"{name}.svg", out / f"{name}.png"])

            async def settle() -> None:
                await app.workers.wait_for_complete()
                await pilot.pause()

            screen: Any = app.screen
            await settle()
            screen.query_one("#prompt").load_text("How do I memoize a recursive function in Python?")
            await pilot.press("enter")
            await settle()
            await save("main")

            screen.query_one("#provider-list").focus()  # the providers pane, checked now
            await pilot.press("c")
            await settle()
            await pilot.press("down")
            await save("provider-switcher")
            screen.prompt.focus()

            await pilot.press("ctrl+l")
            await settle()
            await save("model-picker")
            await pilot.press("escape")

            await pilot.press("f2")
            await settle()
            await save("key-status")
            await pilot.press("escape")

            screen.query_one("#prompt").load_text("Save that function to notes/fib.py")
            await pilot.press("enter")
            while type(app.screen).__name__ != "ApprovalScreen":
                await pilot.pause(0.02)
            await pilot.pause()
            await save("tool-approval")
            await pilot.press("y")
            await settle()
            for entry in screen.query("ToolEntry"):
                entry.collapsed = False
            await settle()
            await save("tool-call")

            # attachments: a sent image listed under its message, two chips, the @ picker
            await pilot.press("ctrl+n")
            await settle()
            screen.attach.add_files(["docs/diagram.png"])
            await settle()
            screen.query_one("#prompt").load_text("What does this diagram show?")
            await pilot.press("enter")
            await settle()
            screen.attach.add_files(["docs/architecture.pdf", "notes/todo.md"])
            await settle()
            prompt = screen.query_one("#prompt")
            prompt.load_text("Does the design doc match it? See ")
            prompt.move_cursor(prompt.document.end)
            await pilot.press("@", "a", "p")
            await settle()
            await save("attachments")
        store.close()
    written += await newcomer(out, work, font)
    return written


def installed_local(config: Config) -> Router:
    """The real router, told the embedded model is installed (the pictures never load it)."""
    return Router(config, discover=list_models, local_available=lambda: True)


async def newcomer(out: Path, work: Path, font: str) -> list[Path]:
    """What someone with no key and no config file sees first, in an 80x24 terminal."""
    os.environ["HOME"] = str(work / "newcomer")
    for variable in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OLLAMA_HOST"):  # a stranger's shell
        os.environ.pop(variable, None)
    config = load_config(work / "newcomer" / ".config" / "agentchat" / "config.toml")
    store = Store(work / "newcomer.db", clock=clock(EPOCH, 7.0))
    app = AgentchatApp(config, store, router=installed_local(config), timefmt=lambda ts: "09:41")
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.clear_notifications()  # the start-up notice would hide half the welcome
        for field in app.screen.query("Input, TextArea"):
            field.cursor_blink = False  # type: ignore[attr-defined]
        await pilot.pause()
        svg = app.export_screenshot(title="agentchat")
    store.close()
    (out / "newcomer.svg").write_text(svg)
    write_png(svg, out / "newcomer.png", font, width=80)
    return [out / "newcomer.svg", out / "newcomer.png"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        for path in asyncio.run(shoot(args.out, Path(work))):
            print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)


if __name__ == "__main__":
    main()
