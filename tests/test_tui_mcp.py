"""MCP in the TUI, through the real app, engine and our stdio test server: a server's question
(elicitation) as a modal that the call waits on, a prompt from the palette filling the input
(its arguments asked in the same modal), and resources in the `@` picker.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from agentchat.config import load_config
from agentchat.core.store import Store
from agentchat.tools.registry import build_registry
from agentchat.tui.app import AgentchatApp
from agentchat.tui.screens.elicit import ElicitScreen
from tests.conftest import UserEnv
from tests.fakes import openai_fake as oai
from tests.fakes.openai_fake import OpenAIFake
from tests.test_tui_helpers import NOW, SIZE, ready, send, settle, ticking_clock, write_config

SERVER = str(Path(__file__).with_name("mcp_test_server.py"))


@asynccontextmanager
async def mcp_app(user_env: UserEnv, fake: OpenAIFake) -> AsyncIterator[Any]:
    from agentchat.tools.mcp import MCPManager

    table = f"[mcp_servers.demo]\ncommand = {json.dumps(sys.executable)}\nargs = [{json.dumps(SERVER)}]\n"
    # 2025-era: the SDK's servers elicit only over a connection with a back-channel
    table += 'policy = "allow"\nenv = { MCP_TEST_LEGACY = "1" }\n'
    write_config(user_env, openai=fake, extra=table)
    config = load_config(str(user_env.config_path))
    mcp = MCPManager.from_config(config)
    registry = build_registry(config, user_env.root, mcp=mcp, plugins=False)
    app = AgentchatApp(
        config,
        Store(user_env.db_path, clock=ticking_clock()),
        registry=registry,
        mcp=mcp,
        timefmt=lambda ts: "12:00",
        engine_clock=ticking_clock(0.0),
        wall_clock=lambda: NOW,
    )
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await registry.load()
        yield pilot


async def modal(pilot: Any) -> ElicitScreen:
    for _ in range(200):
        if isinstance(pilot.app.screen, ElicitScreen):
            await pilot.pause()
            return pilot.app.screen
        await asyncio.sleep(0.02)
    raise AssertionError("the elicitation modal did not open")


async def test_a_server_question_is_a_modal_the_call_waits_on(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    openai_fake.queue(oai.tool_calls([("call_1", "demo__book", {})]), oai.text(["Booked."]))
    async with mcp_app(user_env, openai_fake) as pilot:
        await send(pilot, "book a table")
        screen = await modal(pilot)
        assert "How many guests?" in " ".join(str(s.render()) for s in screen.query("Static"))
        await pilot.press("x", "enter")  # not a number: said, and the modal stays
        await pilot.pause()
        assert "must be a whole number" in str(screen.problem.render())
        await pilot.press("backspace", "3", "tab", "y", "e", "s", "enter")
        await settle(pilot)
    tool = [m for m in openai_fake.chat_requests()[1].body["messages"] if m["role"] == "tool"]
    assert tool[0]["content"] == "booked for 3 (confirmed: True)"


async def test_palette_prompt_fills_the_input_and_at_lists_resources(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    from agentchat.tui.mcp_prompts import fill_from_prompt, prompt_commands

    async with mcp_app(user_env, openai_fake) as pilot:
        screen = pilot.app.screen
        (command,) = [c for c in prompt_commands(screen)]
        assert command.title == "MCP prompt demo:review"
        assert command.help == "Ask for a code review. · arguments: language, focus?"
        command.callback()
        await modal(pilot)
        await pilot.press("G", "o", "enter")
        await settle(pilot)
        assert screen.prompt.text == "Review this Go code for bugs."

        await fill_from_prompt(screen, _entry(), {"language": "C"})  # arguments given: no modal
        assert screen.prompt.text == "Review this C code for bugs."

        screen.prompt.load_text("")
        screen.prompt.focus()
        await pilot.press("@")
        await settle(pilot)
        await pilot.press(*"demo:greet", "enter")
        await settle(pilot)
        names = [str(chip.attachment.part.name) for chip in screen.query("Chip")]
        assert names == ["mcp:demo:note://greeting"]


def _entry() -> Any:
    from agentchat.tools.mcp.context import PromptEntry

    return PromptEntry("demo", "review", "", [("language", True), ("focus", False)])


async def test_a_tools_progress_shows_in_the_tool_pane(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    from agentchat.tui.widgets.tools import ToolEntry

    openai_fake.queue(oai.tool_calls([("call_1", "demo__count", {"steps": 2, "pause": 0.5})]), oai.text(["ok"]))
    async with mcp_app(user_env, openai_fake) as pilot:
        await send(pilot, "count")
        for _ in range(300):
            entries = list(pilot.app.screen.query(ToolEntry))
            if entries and "1/2 · step 1" in str(entries[0].title):
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("no progress in the tool pane")
        await settle(pilot)
        (entry,) = pilot.app.screen.query(ToolEntry)
        assert entry.status == "done" and "step 1" not in str(entry.title)  # gone once it finished
