"""`agentchat keys set` edits the user's file in place; `keys` status; stats and bench tables in a pipe."""

from __future__ import annotations

import json
import os
import stat
import tomllib
from pathlib import Path

import pytest

from agentchat.config import Config, load_config
from agentchat.config.edit import set_provider_key
from agentchat.core.errors import ConfigError
from tests.conftest import UserEnv
from tests.fakes import openai_fake as oai

USER_FILE = """\
# my settings -- hand written
default_model = "gpt-4o-mini"   # fast enough

[providers.openai]
base_url = "http://127.0.0.1:9/v1"
api_key = "sk-old"   # work account # not personal
models = ["gpt-4o-mini"]

[providers.anthropic]
# key below, once I have one
base_url = "http://127.0.0.1:9"

[tools]
shell_timeout = 30  # seconds
"""


def _set(user_env: UserEnv, provider: str, stdin: str) -> str:
    proc = user_env.run("keys", "set", provider, input=stdin)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(os.stat(user_env.config_path).st_mode) == 0o600
    return user_env.config_path.read_text()


def test_replacing_a_key_changes_only_that_line(user_env: UserEnv) -> None:
    user_env.config_path.write_text(USER_FILE)
    text = _set(user_env, "openai", "sk-new\n")
    assert text == USER_FILE.replace('api_key = "sk-old"   #', 'api_key = "sk-new"   #')


def test_a_key_goes_at_the_end_of_its_table(user_env: UserEnv) -> None:
    user_env.config_path.write_text(USER_FILE)
    text = _set(user_env, "anthropic", "sk-ant-new\n")
    assert text == USER_FILE.replace(
        'base_url = "http://127.0.0.1:9"\n', 'base_url = "http://127.0.0.1:9"\napi_key = "sk-ant-new"\n'
    )


def test_a_missing_table_is_appended_and_a_missing_file_created(user_env: UserEnv) -> None:
    user_env.config_path.write_text(USER_FILE.rstrip("\n"))  # no final newline either
    text = _set(user_env, "ollama", "ollama-key")
    assert text == USER_FILE + '\n[providers.ollama]\napi_key = "ollama-key"\n'
    user_env.config_path.unlink()
    assert _set(user_env, "openai", "sk-x\n") == '[providers.openai]\napi_key = "sk-x"\n'


@pytest.mark.parametrize(
    "stdin", ["a\nb", "sk abc", "sk-abc\t", " sk-abc", "sk-\x1b[0mabc", "sk-\u200babc", "\n"]
)
def test_a_key_with_whitespace_or_control_characters_is_refused(user_env: UserEnv, stdin: str) -> None:
    user_env.config_path.write_text(USER_FILE)
    proc = user_env.run("keys", "set", "openai", input=stdin)
    assert proc.returncode == 2
    assert "error:" in proc.stderr and "abc" not in proc.stderr
    assert user_env.config_path.read_text() == USER_FILE


def test_quotes_and_backslashes_are_escaped(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"# crlf file\r\n[providers.openai]\r\nmodels = []\r\n")
    config = load_config(path)
    set_provider_key(config, "openai", 'sk-"q"\\z')
    assert (
        path.read_bytes()
        == b'# crlf file\r\n[providers.openai]\r\nmodels = []\r\napi_key = "sk-\\"q\\"\\\\z"\r\n'
    )
    assert tomllib.loads(path.read_text())["providers"]["openai"]["api_key"] == 'sk-"q"\\z'
    assert config.provider("openai").api_key == 'sk-"q"\\z'


def test_an_inline_table_is_edited_in_place(tmp_path: Path) -> None:
    """tomlkit edits what a line-based edit could not (it used to ask for a hand edit)."""
    path = tmp_path / "config.toml"
    original = '[providers]\nopenai = { base_url = "http://127.0.0.1:9/v1" }  # inline\n'
    path.write_text(original)
    set_provider_key(Config(path, tomllib.loads(original)), "openai", "sk-new")
    assert path.read_text() == (
        '[providers]\nopenai = { base_url = "http://127.0.0.1:9/v1", api_key = "sk-new"}  # inline\n'
    )


def test_a_file_whose_edit_would_change_other_settings_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    original = 'providers.openai.base_url = "http://127.0.0.1:9/v1"\n[tools]\nshell_timeout = 5\n'
    path.write_text(original)
    try:
        set_provider_key(Config(path, tomllib.loads(original)), "openai", "sk-new")
    except ConfigError as exc:
        assert "add api_key" in str(exc) and path.read_text() == original
    else:
        data = tomllib.loads(path.read_text())
        assert data["providers"]["openai"] == {"base_url": "http://127.0.0.1:9/v1", "api_key": "sk-new"}
        assert data["tools"] == {"shell_timeout": 5}


# --- `agentchat keys` ---------------------------------------------------------------------------
def test_an_unset_api_key_env_is_missing_and_named(user_env: UserEnv) -> None:
    user_env.write_config(
        '[providers.router]\ntype = "openai"\nbase_url = "http://127.0.0.1:9/v1"\napi_key_env = "OR_KEY"\n'
        '[providers.lan]\ntype = "openai"\nbase_url = "http://127.0.0.1:9/v1"\n'
    )
    rows = {line.split()[0]: line for line in user_env.run("keys", "--check").stdout.splitlines()}
    assert rows["router"].split()[1] == "missing" and "OR_KEY" in rows["router"]
    assert rows["router"].split().count("missing") == 1  # --check sends nothing without it; said once
    assert rows["lan"].split()[1:3] == ["not", "needed"]
    user_env.env["OR_KEY"] = "or-SECRET"
    proc = user_env.run("keys")
    router = next(line for line in proc.stdout.splitlines() if line.startswith("router"))
    assert router.split()[1:] == ["set", "OR_KEY"] and "or-SECRET" not in proc.stdout


# --- stats and bench in a pipe: Rich must not cut the table to 80 columns --------------------------
LONG_MODEL = "a-rather-long-fine-tuned-model-name-2026-preview"


def _openai(fake: oai.OpenAIFake) -> str:
    return f'[providers.openai]\napi_key = "k"\nbase_url = "{fake.base_url}"\nmodels = ["{LONG_MODEL}"]\n'


def test_stats_table_in_a_pipe_is_not_truncated(user_env: UserEnv, openai_fake: oai.OpenAIFake) -> None:
    user_env.write_config(_openai(openai_fake))
    openai_fake.queue(
        oai.text(["a"], usage=oai.usage(prompt=123456789, completion=987654321), model=LONG_MODEL)
    )
    assert user_env.run("ask", "-m", LONG_MODEL, "hi").returncode == 0
    user_env.env.pop("COLUMNS", None)
    table = user_env.run("stats").stdout
    assert LONG_MODEL in table and "123456789" in table and "987654321" in table and "…" not in table


def test_bench_exits_4_when_every_run_failed(user_env: UserEnv, openai_fake: oai.OpenAIFake) -> None:
    user_env.write_config(_openai(openai_fake))
    user_env.env.pop("COLUMNS", None)
    openai_fake.queue(oai.error(400, "bad"), oai.error(400, "bad"))
    proc = user_env.run("bench", "hi", "--models", LONG_MODEL, "--runs", "2")
    assert proc.returncode == 4, proc.stderr
    assert LONG_MODEL in proc.stdout and "…" not in proc.stdout
    openai_fake.queue(oai.error(400, "bad"), oai.text(["ok"], model=LONG_MODEL))
    proc = user_env.run("bench", "hi", "--models", LONG_MODEL, "--runs", "2", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["errors"] == 1


def test_a_symlinked_config_is_written_through_the_link(user_env: UserEnv) -> None:
    """Dotfiles kept in a repository: the config is a link into it, and stays one."""
    real = user_env.root / "dotfiles" / "agentchat.toml"
    real.parent.mkdir()
    real.write_text(USER_FILE)
    user_env.config_path.unlink()
    user_env.config_path.symlink_to(real)
    proc = user_env.run("keys", "set", "anthropic", input="sk-ant-new-123\n")
    assert proc.returncode == 0, proc.stderr
    assert user_env.config_path.is_symlink() and user_env.config_path.resolve() == real
    assert tomllib.loads(real.read_text())["providers"]["anthropic"]["api_key"] == "sk-ant-new-123"
    assert stat.S_IMODE(os.stat(real).st_mode) == 0o600


def test_a_second_account_is_a_named_provider_table(user_env: UserEnv, openai_fake: oai.OpenAIFake) -> None:
    """`[providers.openai-work] type = "openai"` is OpenAI itself unless base_url says otherwise;
    here it is pointed at the fake, with its own key."""
    user_env.write_config(
        f'[providers.openai-work]\ntype = "openai"\napi_key = "sk-work-123456"\nbase_url = "{openai_fake.base_url}"\n'
        '[providers.openai-personal]\ntype = "openai"\n'
    )
    openai_fake.queue(oai.text(["from work"]))
    proc = user_env.run("ask", "-p", "openai-work", "-m", "gpt-4o-mini", "hi")
    assert proc.returncode == 0, proc.stderr
    assert openai_fake.chat_requests()[0].header("authorization") == "Bearer sk-work-123456"
    config = load_config(user_env.config_path)
    personal = config.provider("openai-personal")
    assert personal.base_url == "https://api.openai.com/v1"  # no base_url: OpenAI's own
    proc = user_env.run("ask", "-p", "openai-personal", "-m", "gpt-4o-mini", "hi")
    assert proc.returncode == 3 and "no API key for openai-personal" in proc.stderr  # never sent keyless
