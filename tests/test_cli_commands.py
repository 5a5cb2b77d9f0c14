"""The listing and management commands as a user runs them (in this process through `user_env.run`,
isolated config and data)."""

from __future__ import annotations

import json
import os
import stat

from tests.conftest import UserEnv
from tests.fakes import anthropic_fake as anth
from tests.fakes import openai_fake as oai

KEY = "sk-cmd-test-SECRET-987654"


def _config(openai_fake, anthropic_fake=None) -> str:
    text = f'[providers.openai]\napi_key = "{KEY}"\nbase_url = "{openai_fake.base_url}"\nmodels = ["gpt-4o-mini"]\n'
    if anthropic_fake is not None:
        text += f'[providers.anthropic]\nbase_url = "{anthropic_fake.root}"\n'
    return text


def test_keys_shows_status_and_source_never_the_key(user_env: UserEnv, openai_fake, anthropic_fake) -> None:
    user_env.write_config(_config(openai_fake, anthropic_fake))
    env_key = "sk-ant-from-env-SECRET"
    user_env.env["ANTHROPIC_API_KEY"] = env_key
    anthropic_fake.api_key = "sk-ant-the-only-valid-key"  # the fake rejects every other key with 401
    proc = user_env.run("keys", "--check")
    assert proc.returncode == 3, proc.stderr  # a key that is set was rejected
    assert (
        proc.stderr == "agentchat: the key set for anthropic was rejected: replace it where its source says\n"
    )
    lines = {line.split()[0]: line for line in proc.stdout.splitlines()}
    assert "set" in lines["openai"] and "config" in lines["openai"] and "valid" in lines["openai"]
    assert "ANTHROPIC_API_KEY" in lines["anthropic"] and "rejected" in lines["anthropic"]
    assert KEY not in proc.stdout + proc.stderr and env_key not in proc.stdout + proc.stderr


def test_keys_set_writes_config_with_mode_0600(user_env: UserEnv, openai_fake) -> None:
    user_env.write_config(_config(openai_fake))
    proc = user_env.run("keys", "set", "anthropic", input="sk-ant-new-key\n")
    assert proc.returncode == 0, proc.stderr
    mode = stat.S_IMODE(os.stat(user_env.config_path).st_mode)
    assert mode == 0o600
    assert 'api_key = "sk-ant-new-key"' in user_env.config_path.read_text()
    assert "base_url" in user_env.config_path.read_text()  # the rest of the file is kept
    assert "sk-ant-new-key" not in proc.stdout + proc.stderr
    status = user_env.run("keys")
    assert "anthropic" in status.stdout and "config" in status.stdout.split("anthropic")[1].splitlines()[0]


def test_models_lists_configured_and_discovered(user_env: UserEnv, openai_fake) -> None:
    user_env.write_config(_config(openai_fake))
    openai_fake.models = ["gpt-4o-mini", "gpt-4.1", "o3-mini"]
    proc = user_env.run("models", "--refresh")
    assert proc.returncode == 0, proc.stderr
    assert "gpt-4o-mini" in proc.stdout and "config" in proc.stdout
    assert "o3-mini" in proc.stdout and "discovered" in proc.stdout
    # discovered models route without a family rule or config entry
    assert json.loads((user_env.data_dir / "models.json").read_text())["openai"]["models"][-1] == "o3-mini"


def test_history_list_show_search_export_rm(user_env: UserEnv, openai_fake) -> None:
    user_env.write_config(_config(openai_fake))
    openai_fake.queue(oai.text(["The answer involves *aardvarks*."]), oai.text(["Second talk."]))
    assert user_env.run("ask", "-m", "gpt-4o-mini", "tell me about burrowing animals").returncode == 0
    assert user_env.run("ask", "-m", "gpt-4o-mini", "something else").returncode == 0
    listing = user_env.run("history")
    assert "tell me about burrowing animals" in listing.stdout and "something else" in listing.stdout
    assert listing.stdout.index("something else") < listing.stdout.index("burrowing")  # newest first
    conv = int(listing.stdout.split("burrowing")[0].splitlines()[-1].split()[0])
    found = user_env.run("history", "search", "aardvarks")
    assert found.returncode == 0
    assert found.stdout.split()[0] == str(conv) and "aardvarks" in found.stdout
    shown = user_env.run("history", "show", str(conv))
    assert "aardvarks" in shown.stdout and "openai/gpt-4o-mini" in shown.stdout
    md = user_env.run("history", "export", str(conv), "--format", "md")
    assert md.stdout.startswith("# tell me about burrowing animals")
    data = json.loads(user_env.run("history", "export", str(conv), "--format", "json").stdout)
    assert [m["role"] for m in data["messages"]] == ["user", "assistant"]
    assert data["messages"][1]["parts"][0] == {"type": "text", "text": "The answer involves *aardvarks*."}
    assert user_env.run("history", "rm", str(conv)).returncode == 0
    assert "burrowing" not in user_env.run("history").stdout
    assert user_env.run("history", "show", str(conv)).returncode == 2


def test_stats_json_and_table(user_env: UserEnv, openai_fake) -> None:
    user_env.write_config(_config(openai_fake))
    openai_fake.queue(oai.text(["a"], usage=oai.usage(prompt=100, completion=50)), oai.error(400, "bad"))
    assert user_env.run("ask", "-m", "gpt-4o-mini", "one").returncode == 0
    assert user_env.run("ask", "-m", "gpt-4o-mini", "two").returncode == 2
    data = json.loads(user_env.run("stats", "--json").stdout)
    (row,) = data["groups"]
    assert (row["provider"], row["model"], row["requests"], row["errors"]) == ("openai", "gpt-4o-mini", 2, 1)
    assert row["input_tokens"] == 100 and row["output_tokens"] == 50
    assert abs(row["cost"] - (100 * 0.15 + 50 * 0.6) / 1e6) < 1e-12
    user_env.env["COLUMNS"] = "160"
    table = user_env.run("stats")
    assert "gpt-4o-mini" in table.stdout and "50%" in table.stdout


def test_bench_compares_models(user_env: UserEnv, openai_fake, anthropic_fake) -> None:
    user_env.write_config(
        _config(openai_fake) + f'[providers.anthropic]\napi_key = "k"\nbase_url = "{anthropic_fake.root}"\n'
    )
    openai_fake.queue(*[oai.text(["x y z"], usage=oai.usage(prompt=10, completion=3)) for _ in range(2)])
    anthropic_fake.queue(*[anth.text(["a b"]) for _ in range(2)])
    proc = user_env.run("bench", "hi", "--models", "gpt-4o-mini,claude-haiku-4-5", "--runs", "2", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = {r["model"]: r for r in json.loads(proc.stdout)}
    assert rows["gpt-4o-mini"]["runs"] == 2 and rows["gpt-4o-mini"]["median_output_tokens"] == 3
    assert rows["claude-haiku-4-5"]["errors"] == 0
    assert rows["gpt-4o-mini"]["median_cost"] is not None
    assert user_env.run("history").stdout == ""  # bench leaves no history behind


def test_version_and_help_are_quick_paths(user_env: UserEnv) -> None:
    assert user_env.run("--version").stdout.startswith("agentchat ")
    help_text = user_env.run("ask", "--help").stdout
    assert "--model" in help_text and "Exit codes" in help_text


def test_tools_lists_builtins_mcp_and_policies(user_env: UserEnv) -> None:
    import sys
    from pathlib import Path

    server = Path(__file__).parent / "mcp_test_server.py"
    user_env.write_config(
        f'[tools.policies]\nrun_shell = "deny"\n'
        f'[mcp_servers.demo]\ncommand = "{sys.executable}"\nargs = ["{server}"]\n'
        f'[mcp_servers.broken]\ncommand = "/nonexistent/server"\n'
    )
    proc = user_env.run("tools")
    assert proc.returncode == 0, proc.stderr
    rows = {line.split()[0]: line.split()[1:3] for line in proc.stdout.splitlines()}
    assert rows["read_file"] == ["built-in", "allow"]
    assert rows["write_file"] == ["built-in", "ask"]
    assert rows["run_shell"] == ["built-in", "deny"]
    assert any(
        name.startswith("demo__") and src == "mcp:demo" and pol == "ask" for name, (src, pol) in rows.items()
    )
    assert "broken" in proc.stderr and "Traceback" not in proc.stderr
