"""The TUI's house rules, checked without running it: every binding has an id (so a keymap can
move it), an id names one key and action wherever it is used, every screen's stylesheet exists
beside it, and no TUI source file reaches 400 lines."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen

import agentchat.tui

TUI = Path(agentchat.tui.__file__).parent


def tui_classes() -> list[type[DOMNode]]:
    for module in pkgutil.walk_packages([str(TUI)], "agentchat.tui."):
        importlib.import_module(module.name)
    found, todo = [], [DOMNode]
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if cls.__module__.startswith("agentchat.tui"):
            found.append(cls)
    return found


def test_every_binding_has_an_id_that_means_one_thing() -> None:
    meaning: dict[str, tuple[str, str]] = {}
    for cls in tui_classes():
        for binding in cls.__dict__.get("BINDINGS", []):
            assert isinstance(binding, Binding), f"{cls.__name__}: {binding!r} is not a Binding"
            assert binding.id, f"{cls.__name__}: the binding for {binding.action!r} has no id"
            key = (binding.key, binding.action)
            assert meaning.setdefault(binding.id, key) == key, f"{binding.id!r} names two bindings"


def test_every_screen_stylesheet_is_beside_it() -> None:
    for cls in tui_classes():
        if issubclass(cls, Screen) and cls.CSS_PATH:
            module = importlib.import_module(cls.__module__)
            assert (Path(module.__file__ or "").parent / str(cls.CSS_PATH)).is_file(), cls.__name__


def test_no_tui_source_file_reaches_400_lines() -> None:
    long = {p.name: n for p in TUI.rglob("*.py") if (n := len(p.read_text().splitlines())) >= 400}
    assert not long, long
