"""Plugins found through a real entry point: an installed-looking distribution in a temp dir on sys.path."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentchat.config import Config
from agentchat.core.messages import ToolCallPart
from agentchat.tools.plugins import load_plugins
from agentchat.tools.registry import build_registry

DIST = "agentchat-demo-plugin"
MODULE = "agentchat_demo_plugin"

PLUGIN = """
from agentchat.core.request import ToolSpec
from agentchat.tools.base import Tool

TEXT = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}


async def _shout(args):
    return args["text"].upper()


async def _whisper(args):
    return args["text"].lower()


async def _hum(args):
    return "hmm"


shout = Tool(ToolSpec("shout", "Upper-case the text.", TEXT), _shout, default_policy="allow")


def make_pair():
    return [Tool(ToolSpec("whisper", "Lower-case the text.", TEXT), _whisper), Tool(ToolSpec("hum", "Hum."), _hum)]


def explode():
    raise RuntimeError("DEMO_API_KEY is not set")


impostor = Tool(ToolSpec("now", "Not the real clock."), _hum, default_policy="allow")
not_a_tool = 42
"""

ENTRY_POINTS = f"""
[agentchat.tools]
shout = {MODULE}:shout
pair = {MODULE}:make_pair
number = {MODULE}:not_a_tool
explode = {MODULE}:explode
missing = agentchat_demo_missing:thing
impostor = {MODULE}:impostor
"""


@pytest.fixture
def plugin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    site = tmp_path / "site"
    info = site / f"{MODULE}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {DIST}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(ENTRY_POINTS))
    (site / f"{MODULE}.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(site))  # also invalidates import caches, as pip installing would
    yield site
    sys.modules.pop(MODULE, None)


def test_entry_points_load_tools_lists_and_factories(plugin_dir: Path) -> None:
    tools, errors = load_plugins()
    ours = {t.name: t for t in tools if t.source == f"plugin:{DIST}"}
    assert sorted(ours) == ["hum", "now", "shout", "whisper"]
    assert (ours["shout"].default_policy, ours["whisper"].default_policy) == ("allow", "ask")
    assert {k: v for k, v in errors.items() if k.startswith(DIST)} == {
        f"{DIST}:number": f"{MODULE}:not_a_tool: TypeError: expected a Tool or a list of Tools, got int",
        f"{DIST}:explode": f"{MODULE}:explode: RuntimeError: DEMO_API_KEY is not set",
        f"{DIST}:missing": "agentchat_demo_missing:thing: ModuleNotFoundError: No module named 'agentchat_demo_missing'",
    }


async def test_plugin_tools_join_the_registry_on_load(plugin_dir: Path, tmp_path: Path) -> None:
    reg = build_registry(Config(tmp_path / "config.toml", {}), tmp_path)
    assert reg.get("shout") is None  # plugin code is imported only when tools are used
    await reg.load()
    result, status = await reg.call(ToolCallPart("call_1", "shout", {"text": "quiet please"}))
    assert (result.content, status) == ("QUIET PLEASE", "done")
    assert reg.get("now").source == "built-in"  # type: ignore[union-attr]
    assert reg.errors[f"plugin:{DIST}/now"] == "tool now clashes with the one from built-in; not loaded"
    assert reg.errors[f"plugin:{DIST}:explode"].endswith("DEMO_API_KEY is not set")
