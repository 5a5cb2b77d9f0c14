"""The embedded model (`local`) is named wherever providers are listed, and an error about it says
what is actually wrong (disabled in the config, not "install it")."""

from __future__ import annotations

from tests.conftest import UserEnv


def test_an_unknown_provider_lists_local_too(user_env: UserEnv) -> None:
    proc = user_env.run("ask", "-p", "nosuchprov", "hi")
    assert proc.returncode == 2
    assert "configured: openai, anthropic, ollama, local" in proc.stderr, proc.stderr


def test_keys_set_local_says_it_needs_no_key(user_env: UserEnv) -> None:
    proc = user_env.run("keys", "set", "local", input="sk-whatever\n")
    assert proc.returncode == 2 and "local needs no API key" in proc.stderr, proc.stderr
    assert "unknown provider" not in proc.stderr
    proc = user_env.run("keys", "set", "nosuch", input="sk-whatever\n")
    assert proc.returncode == 2 and "(local needs no key)" in proc.stderr


def test_a_disabled_embedded_model_is_called_disabled_not_missing(user_env: UserEnv) -> None:
    user_env.write_config("[providers.local]\nenabled = false\n")
    proc = user_env.run("ask", "hi")
    assert proc.returncode == 3
    assert "[providers.local] enabled = false" in proc.stderr, proc.stderr
    assert "pip install" not in proc.stderr
