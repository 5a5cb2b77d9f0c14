"""Keys from a password manager: `api_key_cmd` in a provider's table runs once, when the key is
first needed, and its output is never stored, logged or shown."""

from __future__ import annotations

from tests.conftest import UserEnv
from tests.fakes import openai_fake as oai
from tests.fakes.openai_fake import OpenAIFake

KEY = "sk-from-pass-0123456789abcdef"


def config(fake: OpenAIFake, command: str) -> str:
    return f'[providers.openai]\nbase_url = "{fake.base_url}"\napi_key_cmd = {command!r}\n'


def test_the_key_comes_from_the_command_once_and_is_never_kept(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    runs = user_env.root / "runs"
    user_env.write_config(config(openai_fake, f"echo run >> {runs}; printf '{KEY}\\nsecond line\\n'"))
    listing = user_env.run("keys")
    assert listing.returncode == 0
    assert any(line.split()[:3] == ["openai", "set", "command"] for line in listing.stdout.splitlines())
    assert not runs.exists()  # listing keys does not run the command (it may ask for a passphrase)

    openai_fake.queue(oai.tool_calls([("call_1", "now", {})]), oai.text(["done"]))
    proc = user_env.run("ask", "-m", "gpt-4o-mini", "-T", "now", "what time is it?")
    assert proc.returncode == 0, proc.stderr
    assert [r.header("authorization") for r in openai_fake.chat_requests()] == [f"Bearer {KEY}"] * 2
    assert runs.read_text() == "run\n"  # once per process, though two requests were sent
    stored = b"".join(p.read_bytes() for p in user_env.data_dir.rglob("*") if p.is_file())
    assert KEY.encode() not in stored and KEY not in proc.stderr + proc.stdout


def test_a_failing_command_is_one_line_naming_the_provider(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    secret = user_env.root / "secret"
    secret.write_text(KEY + "\n")
    user_env.write_config(
        config(openai_fake, f"cat {secret}; echo 'gpg: decryption failed: No secret key' >&2; exit 2")
    )
    proc = user_env.run("ask", "-m", "gpt-4o-mini", "hi")
    assert proc.returncode == 3
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("agentchat: error: openai: api_key_cmd")
    assert "exit 2: gpg: decryption failed: No secret key" in line
    assert KEY not in line  # what the command printed to stdout is never shown
    assert openai_fake.chat_requests() == []


def test_a_command_that_prints_nothing(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(config(openai_fake, "true"))
    proc = user_env.run("ask", "-m", "gpt-4o-mini", "hi")
    assert proc.returncode == 3 and "it printed no key" in proc.stderr
