"""`agentchat templates` (the listing) and `ask --template NAME` (the prompt it renders).

The files and their rules are core's (`agentchat.core.templates`), shared with the TUI's `/NAME`.
Typer is imported by `register` alone: `ask` reaches `apply_to_ask` on its fast path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentchat.cli.common import err, guarded, load
from agentchat.core.templates import load_template, load_templates, template_dirs
from agentchat.core.text import clean

if TYPE_CHECKING:
    import typer

    from agentchat.cli.session import AskOptions
    from agentchat.config import Config


def apply_to_ask(config: Config, opts: AskOptions) -> None:
    """The template's prompt after what was piped; its model, provider, system and tools where
    no flag chose them (`-T` offers tools as its `tools` list does)."""
    assert opts.template is not None
    template = load_template(config, opts.template)
    rendered = template.render(opts.template_args)
    opts.text = f"{opts.text}\n\n{rendered}" if opts.text and opts.text.strip() else rendered
    opts.model, opts.provider, opts.system, tools = template.fill(
        opts.model, opts.provider, opts.system, opts.tools or None
    )
    opts.tools = list(tools or [])


def register(app: typer.Typer) -> None:
    app.command("templates")(templates)


@guarded
def templates() -> int:
    """Prompt templates: /NAME in the TUI, ask --template NAME (user's, then the workspace's)."""
    from agentchat.cli import state

    config = load(state.config_path)
    found, errors = load_templates(config)
    user_dir, workspace_dir = template_dirs(config)
    for template in found:
        where = "workspace" if template.path.parent == workspace_dir else "user"
        print(clean(f"{template.name:<20} {where:<10} {template.summary}"))
    for message in errors:
        err(f"warning: {message}")
    if not found and not errors:
        err(f"no templates yet: add NAME.md to {user_dir} or {workspace_dir}")
    return 0
