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
