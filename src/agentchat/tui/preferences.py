"""The user's keys and theme: `[keys]` and `[ui]` in the config, applied when the app starts.

`[keys]` maps a binding id to the key(s) that should run it (`new-chat = "ctrl+t"`,
`editor = "ctrl+e,f12"`), handed to Textual's keymap (`App.set_keymap`), so any binding with an id
moves, in every screen and widget. `[ui] theme` is any Textual theme; choosing another from the
palette (or `/theme`) writes it back to the config file (config/edit.py: comments and layout
survive). What the config names that does not exist (a binding id, a theme) is a warning, never
a reason not to start.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from typing import TYPE_CHECKING, Any

from textual.dom import DOMNode

from agentchat.core.errors import AgentchatError

if TYPE_CHECKING:
    from agentchat.tui.app import AgentchatApp


def binding_ids() -> set[str]:
    """Every binding id of the app's screens and widgets (and Textual's own that have one)."""
    import agentchat.tui

    for module in pkgutil.walk_packages(agentchat.tui.__path__, "agentchat.tui."):
        importlib.import_module(module.name)  # screens opened later are imported when opened
    ids, todo = set(), [DOMNode]
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        ids |= {b.id for b in cls.__dict__.get("BINDINGS", []) if getattr(b, "id", None)}
    return ids


def _hint(name: str, known: set[str] | list[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def keymap_from(table: dict[str, Any], where: str) -> tuple[dict[str, str], list[str]]:
    """`[keys]` as Textual's keymap, and a warning for each entry that is not `id = "key"`."""
    keymap, warnings = {}, []
    for binding_id, keys in table.items():
        if isinstance(keys, str) and keys.strip():
            keymap[binding_id] = keys.replace(" ", "")
        else:
            warnings.append(f'{where}: [keys] {binding_id} must be a key such as "ctrl+k" (or "f12,ctrl+k")')
    return keymap, warnings


def apply(app: AgentchatApp) -> None:
    """At start: the keymap and the theme, then (after the first paint) warnings for names that
    match nothing; and from then on, a theme the user picks is kept in the config."""
    config = app.config
    warnings: list[str] = []
    try:
        keys, ui = config.section("keys"), config.section("ui")
    except AgentchatError as exc:  # `keys = 3`: a wrong type is a warning here, not a crash
        keys, ui = {}, {}
        warnings.append(str(exc))
    keymap, bad = keymap_from(keys, str(config.path))
    warnings += bad
    app.set_keymap(keymap)
    theme = ui.get("theme")
    if theme is not None:
        if isinstance(theme, str) and theme in app.available_themes:
            app.theme = theme
        else:
            themes = list(app.available_themes)
            warnings.append(
                f"{config.path}: [ui] theme {theme!r} is not a theme{_hint(str(theme), themes)}; "
                f"themes: {', '.join(sorted(themes))}"
            )
    app.watch(app, "theme", lambda name: _keep_theme(app, name), init=False)

    def check_ids() -> None:
        known = binding_ids()
        for binding_id in keymap:
            if binding_id not in known:
                app.notify(
                    f"{config.path}: [keys] {binding_id!r} is not a binding id{_hint(binding_id, known)}",
                    title="Config",
                    severity="warning",
                    timeout=15,
                )

    for warning in warnings:
        app.notify(warning, title="Config", severity="warning", timeout=15)
    if keymap:
        app.call_after_refresh(check_ids)


def _keep_theme(app: AgentchatApp, name: str) -> None:
    from agentchat.config.edit import set_setting

    config = app.config
    try:
        current = config.section("ui").get("theme")
    except AgentchatError:
        current = None
    if name == current:
        return
    try:
        set_setting(config, "ui", "theme", name)
    except AgentchatError as exc:
        app.notify(str(exc), title="Theme not saved", severity="warning", timeout=10)
