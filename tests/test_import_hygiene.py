"""What each entry point loads, in fresh interpreters: the import rules of DESIGN.md that keep
`agentchat --version`, `agentchat ask --help` and `agentchat ask` fast.

Each check runs a real subprocess and reads the modules it imported (`sys.modules`, or
`-X importtime` for whole CLI runs), so a stray top-level import anywhere on the path shows up.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import pytest

from tests.conftest import REPO, UserEnv
from tests.fakes import openai_fake as oai
from tests.fakes.openai_fake import OpenAIFake

FACES = {"textual", "rich", "typer"}
SDKS = {"openai", "anthropic", "ollama", "mcp", "llama_cpp"}
CORE = sorted(f"agentchat.core.{m.name}" for m in pkgutil.iter_modules([str(REPO / "src/agentchat/core")]))
ADAPTERS = {"openai": "openai", "anthropic": "anthropic", "ollama": "ollama"}  # module -> its SDK


def packages_after_import(module: str) -> set[str]:
    """Top-level packages in sys.modules after `import module` in a fresh interpreter."""
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(REPO / "src"), "PATH": ""},
    )
    return {name.split(".")[0] for name in json.loads(proc.stdout)}


def packages_of_cli_run(env: dict[str, str], *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run the real CLI under `-X importtime`; the packages it imported, from the import log."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "agentchat", *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    names = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in proc.stderr.splitlines()
        if line.startswith("import time:") and "self [us]" not in line
    }
    return proc, names


@pytest.mark.parametrize("module", [*CORE, "agentchat.providers", "agentchat.providers.base"])
def test_core_and_provider_base_import_no_face_library(module: str) -> None:
    loaded = packages_after_import(module)
    assert not loaded & FACES, f"{module} imports {sorted(loaded & FACES)}"
    assert not loaded & SDKS, f"{module} imports {sorted(loaded & SDKS)}"


@pytest.mark.parametrize("adapter", sorted(ADAPTERS))
def test_an_adapter_imports_no_other_providers_sdk(adapter: str) -> None:
    loaded = packages_after_import(f"agentchat.providers.{adapter}")
    others = (SDKS - {ADAPTERS[adapter]}) | FACES
    assert not loaded & others, f"providers.{adapter} imports {sorted(loaded & others)}"


def test_version_imports_no_sdk_and_no_textual(user_env: UserEnv) -> None:
    proc, loaded = packages_of_cli_run(user_env.env, "--version")
    assert proc.returncode == 0 and proc.stdout.startswith("agentchat "), proc.stderr[-500:]
    assert not loaded & (SDKS | {"textual", "rich"}), sorted(loaded & (SDKS | {"textual", "rich"}))


def test_ask_help_imports_no_sdk_and_no_textual(user_env: UserEnv) -> None:
    proc, loaded = packages_of_cli_run(user_env.env, "ask", "--help")
    assert proc.returncode == 0 and "--model" in proc.stdout, proc.stderr[-500:]
    assert not loaded & (SDKS | {"textual", "rich"}), sorted(loaded & (SDKS | {"textual", "rich"}))


def test_ask_on_openai_loads_only_the_openai_sdk(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    """A piped `ask` pays for one SDK: no other provider's, no TUI, no Rich (stdout is not a terminal)."""
    user_env.write_config(f'[providers.openai]\napi_key = "sk-test"\nbase_url = "{openai_fake.base_url}"\n')
    openai_fake.queue(oai.text(["Hel", "lo"]))
    proc, loaded = packages_of_cli_run(user_env.env, "ask", "-m", "gpt-4o-mini", "hi")
    assert proc.returncode == 0 and proc.stdout == "Hello\n", proc.stderr[-500:]
    assert "openai" in loaded
    unwanted = (SDKS - {"openai"}) | {"textual", "rich"}
    assert not loaded & unwanted, sorted(loaded & unwanted)
