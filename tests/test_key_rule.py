"""One rule for which providers need a key (core.request.key_needed): `keys`, routing and the
adapters agree, so `keys` never says "not needed" for a provider `models` then calls keyless."""

from __future__ import annotations

from tests.conftest import UserEnv


def test_keys_shows_a_keyless_second_openai_account_as_missing(user_env: UserEnv) -> None:
    user_env.write_config(
        '[providers.openai-work]\ntype = "openai"\n'
        '[providers.claude-team]\ntype = "anthropic"\n'
        '[providers.lmstudio]\ntype = "openai"\nbase_url = "http://localhost:1234/v1"\n'
    )
    proc = user_env.run("keys")
    assert proc.returncode == 0, proc.stderr
    rows = {line.split()[0]: line for line in proc.stdout.splitlines()}
    assert rows["openai-work"].split()[1] == "missing", rows
    assert "providers.openai-work.api_key" in rows["openai-work"]
    assert rows["claude-team"].split()[1] == "missing", rows
    assert "not needed" in rows["lmstudio"]  # an OpenAI-compatible server elsewhere may go keyless
    assert rows["openai"].split()[1] == "missing"
