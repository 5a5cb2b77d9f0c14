"""The README's set-up commands are the ones CI runs: they must not drift apart."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _sh_blocks(text: str) -> list[str]:
    return [b.strip() for b in re.findall(r"```sh\n(.*?)```", text, flags=re.S)]


def test_readme_opens_with_install_and_test_commands_and_ci_runs_the_test_one() -> None:
    readme = (REPO / "README.md").read_text()
    install, tests = _sh_blocks(readme)[:2]
    assert "pip install" in install and "agentchat ask" in install and "[local]" in install
    assert "pytest" in tests
    ci = (REPO / ".ci" / "run").read_text()
    assert tests in ci.splitlines()


def test_example_config_is_valid_toml() -> None:
    import tomllib

    data = tomllib.loads((REPO / "config.example.toml").read_text())
    assert {"providers", "agents", "tools", "mcp_servers", "retry", "failover", "pricing"} <= set(data)


def test_readme_fits_the_embedded_models_window_with_room_for_a_reply() -> None:
    """`cat README.md | agentchat ask "Summarize"` is the context issue's own example: on the
    embedded model (8,192 tokens, up to 1,024 kept for the reply) it must be answered, not refused.
    The estimate errs high, so a README it lets through fits the model's own tokenizer too."""
    from agentchat.core.tokens import estimate

    assert estimate((REPO / "README.md").read_text() + "\n\nSummarize") <= 8192 - 1024


def test_readme_and_docs_links_point_at_files_that_exist() -> None:
    for page in [REPO / "README.md", *(REPO / "docs").glob("*.md")]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"
