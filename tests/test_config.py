"""Config values of the wrong type: a one-line ConfigError naming the file and the key, never a crash."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from agentchat.config import Config, load_config
from agentchat.core.errors import ConfigError
from tests.conftest import REPO, UserEnv
from tests.fakes import openai_fake as oai
from tests.fakes.openai_fake import OpenAIFake

# Not yet read through the typed accessors: engine.py (failover chain) and cli/session.py (agents,
# max_steps) still read the raw tables. These pass once they call Config.failover_chain / .agent /
# .max_steps; the strict xfail then fails, a reminder to drop the mark.
ASK = ("ask", "-m", "gpt-4o-mini", "hi")


@pytest.mark.parametrize(
    ("toml", "key", "args"),
    [
        ("[providers]\nopenai = 3\n", "[providers.openai]", ASK),
        ('[providers.openai]\ntimeout = "abc"\n', "providers.openai.timeout", ASK),
        ('[providers.openai]\nmodels = "x"\n', "providers.openai.models", ASK),
        ("default_model = 5\n", "default_model", ("ask", "hi")),
        ('default_model = "gpt-4o-mini"\ndefault_provider = 5\n', "default_provider", ("ask", "hi")),
        ("workspace = 3\n", "workspace", (*ASK[:-1], "-T", "all", "--yes", "hi")),
        pytest.param('max_steps = "x"\n', "max_steps", ASK),
        pytest.param("[failover]\nchain = [3]\n", "failover.chain[0]", ASK),
        pytest.param('[failover]\nchain = "x"\n', "failover.chain", ASK),
        pytest.param("[agents.default]\nsystem = 3\n", "agents.default.system", ASK),
    ],
)
def test_a_bad_value_is_one_line_naming_file_and_key(
    user_env: UserEnv, toml: str, key: str, args: tuple[str, ...]
) -> None:
    user_env.env["OPENAI_BASE_URL"] = "http://127.0.0.1:9/v1"  # if validation failed, still no real provider
    user_env.write_config(toml)
    proc = user_env.run(*args)
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.splitlines()
    assert f"{user_env.config_path}: {key} must be" in line and "internal error" not in line


def cfg(data: dict[str, Any]) -> Config:
    return Config(Path("/etc/agentchat.toml"), data)


def error_of(fn: Any) -> str:
    with pytest.raises(ConfigError) as info:
        fn()
    return str(info.value)


def test_top_level_accessors_check_types() -> None:
    good = cfg({"default_model": "m", "default_provider": "p", "max_steps": 3, "workspace": "/tmp"})
    assert (good.default_model, good.default_provider, good.max_steps) == ("m", "p", 3)
    assert good.workspace == Path("/tmp").resolve()
    assert cfg({}).max_steps is None and cfg({}).get_str("default_model") is None
    assert error_of(lambda: cfg({"max_steps": 0}).max_steps) == (
        "/etc/agentchat.toml: max_steps must be an integer >= 1, not 0"
    )
    assert "max_steps must be an integer >= 1, not a boolean" in error_of(
        lambda: cfg({"max_steps": True}).max_steps
    )
    assert "workspace must be a string, not 3" in error_of(lambda: cfg({"workspace": 3}).workspace)
    assert "default_model must be a string, not an array" in error_of(
        lambda: cfg({"default_model": []}).default_model
    )
    assert "limit must be an integer >= 5, not 4" in error_of(
        lambda: cfg({"limit": 4}).get_int("limit", minimum=5)
    )


def test_a_wrong_string_is_never_echoed() -> None:
    """A string in the wrong place may be a key: the error names its type, never its text."""
    message = error_of(lambda: cfg({"providers": {"openai": {"api_key": ["sk-SECRET"]}}}).provider("openai"))
    assert message == "/etc/agentchat.toml: providers.openai.api_key must be a string, not an array"


def test_failover_chain_entries() -> None:
    chain = ["gpt-4o-mini", {"provider": "anthropic", "model": "claude-haiku-4-5"}, {"provider": "ollama"}]
    assert cfg({"failover": {"chain": chain}}).failover_chain() == [
        ("gpt-4o-mini", None),
        ("claude-haiku-4-5", "anthropic"),
        (None, "ollama"),
    ]
    assert cfg({}).failover_chain() == []
    assert "failover.chain must be a list, not a string" in error_of(
        lambda: cfg({"failover": {"chain": "x"}}).failover_chain()
    )
    for bad in (3, {}, {"modle": "x"}, {"model": 3}):
        message = error_of(lambda bad=bad: cfg({"failover": {"chain": ["ok", bad]}}).failover_chain())
        assert message.startswith("/etc/agentchat.toml: failover.chain[1] must be a model name or a {")


def test_agent_fields_are_checked() -> None:
    table = {
        "system": "s",
        "model": "m",
        "provider": "p",
        "temperature": 1,
        "max_steps": 2,
        "tools": ["now"],
        "thinking_budget": 9,
    }
    assert cfg({"agents": {"a": table}}).agent("a") == {**table, "temperature": 1.0}
    assert cfg({"agents": {"a": {"tools": {"now": "deny"}}}}).agent("a") == {"tools": {"now": "deny"}}
    assert cfg({}).agent("default") is None
    bad = {
        "system": (3, "a string, not 3"),
        "model": (["x"], "a string, not an array"),
        "temperature": ("hot", "a number, not a string"),
        "max_steps": (0, "an integer >= 1, not 0"),
        "thinking_budget": (1.5, "an integer >= 1, not 1.5"),
        "tools": ("all", "a list of tool names or a table"),
    }
    for key, (value, expected) in bad.items():
        message = error_of(lambda key=key, value=value: cfg({"agents": {"a": {key: value}}}).agent("a"))
        assert message.startswith(f"/etc/agentchat.toml: agents.a.{key} must be {expected}")
    assert 'agents.a.tools.now must be "allow", "ask" or "deny"' in error_of(
        lambda: cfg({"agents": {"a": {"tools": {"now": "sure"}}}}).agent("a")
    )
    assert "[agents.a] must be a table, not 3" in error_of(lambda: cfg({"agents": {"a": 3}}).agent("a"))
    assert "unknown key(s) in [agents.a]: colour" in error_of(
        lambda: cfg({"agents": {"a": {"colour": 1}}}).agent("a")
    )


def test_provider_tables_are_checked() -> None:
    def provider(table: Any, name: str = "openai") -> str:
        return error_of(lambda: cfg({"providers": {name: table}}).provider(name))

    assert provider(3).endswith("[providers.openai] must be a table, not 3")
    assert provider({"timeout": "abc"}).endswith(
        "providers.openai.timeout must be a positive number of seconds"
    )
    assert provider({"models": ["a", 1]}).endswith(
        "providers.openai.models must be a list of strings, not an array"
    )
    assert provider({"base_url": 5}).endswith("providers.openai.base_url must be a string, not 5")
    assert provider({"max_tokens": "big"}, "anthropic").endswith(
        "max_tokens must be an integer >= 1, not a string"
    )
    assert provider({"enabled": "no"}, "local").endswith(
        "providers.local.enabled must be true or false, not a string"
    )
    # a named endpoint that is not a table stops every command that lists providers, with the key named
    assert error_of(lambda: cfg({"providers": {"lan": "x"}}).provider_names()).endswith(
        "[providers.lan] must be a table, not a string"
    )
    settings = cfg({"providers": {"openai": {"timeout": 30, "models": ["a"], "api_key": "k"}}}).provider(
        "openai"
    )
    assert (settings.timeout_s, settings.models, settings.api_key, settings.key_source) == (
        30.0,
        ["a"],
        "k",
        "config",
    )


def test_secret_env_names_every_api_key_env() -> None:
    config = cfg(
        {"providers": {"router": {"type": "openai", "base_url": "http://x", "api_key_env": "OR_KEY"}}}
    )
    assert set(config.secret_env()) == {
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "OLLAMA_API_KEY",
        "OR_KEY",
    }


def test_the_example_config_passes_every_accessor() -> None:
    config = load_config(REPO / "config.example.toml")
    assert config.default_model and config.max_steps == 8
    assert config.failover_chain() == [("claude-haiku-4-5", "anthropic"), ("llama3.2", "ollama")]
    assert config.agent("coder") is not None
    for name in [*config.provider_names(), "local"]:
        config.provider(name)
    assert config.provider("local").extra["enabled"] is True


def test_keys_from_the_file_and_the_environment_are_stripped(
    user_env: UserEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CRLF .env file or a pasted newline must not reach the Authorization header."""
    file_key = cfg({"providers": {"openai": {"api_key": " sk-file\r\n"}}}).provider("openai")
    assert (file_key.api_key, file_key.key_source) == ("sk-file", "config")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env\r")
    blank = cfg({"providers": {"openai": {"api_key": "\n"}}}).provider("openai")  # blank is unset
    assert (blank.api_key, blank.key_source) == ("sk-env", "OPENAI_API_KEY")
    monkeypatch.setenv("OR_KEY", "\tsk-or\n")
    named = {"type": "openai", "base_url": "http://x", "api_key_env": "OR_KEY"}
    assert cfg({"providers": {"router": named}}).provider("router").api_key == "sk-or"
    monkeypatch.setenv("ANTHROPIC_API_KEY", "\r")
    assert cfg({}).provider("anthropic").api_key is None
    assert cfg({}).provider("anthropic").key_source is None


def test_a_key_mangled_inside_is_refused_naming_its_source(
    user_env: UserEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-a b")
    assert error_of(lambda: cfg({}).provider("openai")) == (
        "the openai API key in OPENAI_API_KEY contains whitespace or control characters; "
        "set it on one line, as issued"
    )
    # the file's key wins, so the unused variable is never judged
    assert cfg({"providers": {"openai": {"api_key": "sk-ok"}}}).provider("openai").api_key == "sk-ok"
    message = error_of(
        lambda: cfg({"providers": {"anthropic": {"api_key": "sk-x\x00y"}}}).provider("anthropic")
    )
    assert message.startswith("the anthropic API key in providers.anthropic.api_key in /etc/agentchat.toml ")
    assert "sk-x" not in message


def test_unknown_keys_are_warnings_naming_the_file_the_key_and_the_nearest_name(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    user_env.write_config(
        'defualt_model = "gpt-4o-mini"\n'
        f'[provders.openai]\napi_key = "x"\n[providers.openai]\napi_key = "sk-test-123456"\n'
        f'base_url = "{openai_fake.base_url}"\nmodles = ["gpt-4o-mini"]\n[retry]\nmax_attempts = 2\n'
        "[tools]\nshell_timout = 5\n"
    )
    openai_fake.queue(oai.text(["ok"]))
    proc = user_env.run("ask", "-m", "gpt-4o-mini", "hi")
    assert proc.returncode == 0 and proc.stdout == "ok\n"  # a warning, not an error
    path = user_env.config_path
    assert proc.stderr.splitlines() == [
        f"agentchat: warning: {path}: unknown key 'defualt_model' (did you mean 'default_model'?)",
        f"agentchat: warning: {path}: unknown table [provders] (did you mean 'providers'?)",
        f"agentchat: warning: {path}: unknown key 'modles' in [providers.openai] (did you mean 'models'?)",
        f"agentchat: warning: {path}: unknown key 'shell_timout' in [tools] (did you mean 'shell_timeout'?)",
    ]


def test_the_example_config_has_no_unknown_keys() -> None:
    from agentchat.config.schema import unknown_keys

    example = Path(__file__).resolve().parent.parent / "config.example.toml"
    assert unknown_keys(example, tomllib.loads(example.read_text())) == []
