"""Keys from a .env with CRLF endings or a pasted newline: sent clean, refused when mangled inside,
and never shown in any form an error text gives them."""

from __future__ import annotations

import pytest

from agentchat.core.errors import ProviderNetworkError, redact
from agentchat.core.messages import Message
from agentchat.core.request import ChatRequest, ProviderSettings
from agentchat.providers.openai import OpenAIProvider
from tests.conftest import UserEnv
from tests.fakes import openai_fake as oai
from tests.fakes.openai_fake import OpenAIFake
from tests.streams import collect_until_error

ASK = ("ask", "-m", "gpt-4o-mini", "hi")


def _answers_with_a_clean_header(user_env: UserEnv, fake: OpenAIFake, key: str) -> None:
    fake.queue(oai.text(["fine"]))
    proc = user_env.run(*ASK)
    assert (proc.returncode, proc.stdout) == (0, "fine\n"), proc.stderr
    assert fake.chat_requests()[0].header("authorization") == f"Bearer {key}"


def test_an_env_key_with_a_trailing_cr_is_sent_without_it(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.env.update(OPENAI_API_KEY="sk-ENVSECRET99\r", OPENAI_BASE_URL=openai_fake.base_url)
    _answers_with_a_clean_header(user_env, openai_fake, "sk-ENVSECRET99")


def test_a_config_key_with_a_trailing_newline_is_sent_without_it(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    user_env.write_config(
        f'[providers.openai]\napi_key = "sk-CFGSECRET42\\n"\nbase_url = "{openai_fake.base_url}"\n'
    )
    _answers_with_a_clean_header(user_env, openai_fake, "sk-CFGSECRET42")


@pytest.mark.parametrize("where", ["env", "config"])
def test_a_key_mangled_inside_is_one_line_naming_provider_and_source(
    user_env: UserEnv, openai_fake: OpenAIFake, where: str
) -> None:
    user_env.env["OPENAI_BASE_URL"] = openai_fake.base_url
    if where == "env":
        user_env.env["OPENAI_API_KEY"] = "sk-ENV SECRET99"
        source = "OPENAI_API_KEY"
    else:
        user_env.write_config('[providers.openai]\napi_key = "sk-CFG\\rSECRET42"\n')
        source = f"providers.openai.api_key in {user_env.config_path}"
    proc = user_env.run(*ASK)
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.splitlines()
    assert f"the openai API key in {source} contains whitespace or control characters" in line
    for fragment in ("sk-ENV", "sk-CFG", "SECRET"):
        assert fragment not in proc.stdout + proc.stderr
    assert openai_fake.chat_requests() == []  # refused before anything was sent


def test_redact_removes_the_escaped_form_an_http_error_quotes() -> None:
    key = "sk-ENVSECRET99\r"
    text = "openai: cannot connect to http://127.0.0.1:8/v1: Illegal header value b'Bearer sk-ENVSECRET99\\r'"
    assert (
        redact(text, key)
        == "openai: cannot connect to http://127.0.0.1:8/v1: Illegal header value b'Bearer ***'"
    )
    inner = "sk-ab\u00e9\tcd"  # non-ASCII and a tab: the str repr and the bytes repr differ
    shown = f"{inner!r} {inner.encode()!r} {inner.strip()}"
    assert redact(shown, inner) == "'***' b'***' ***"
    assert redact("no key here", None, "") == "no key here"


async def test_an_adapter_handed_a_raw_key_never_shows_it(openai_fake: OpenAIFake) -> None:
    """Any path that bypasses Config: the real SDK refuses the header and its error is redacted."""
    settings = ProviderSettings(
        name="openai", type="openai", base_url=openai_fake.base_url, api_key="sk-RAWSECRET7\r"
    )
    provider = OpenAIProvider(settings)
    try:
        _, exc = await collect_until_error(
            provider, ChatRequest(model="gpt-4o", messages=[Message.user("hi")])
        )
    finally:
        await provider.aclose()
    assert isinstance(exc, ProviderNetworkError)
    assert "RAWSECRET" not in str(exc) and "***" in str(exc)


def test_keys_lists_a_mangled_key_as_invalid_and_where_it_is(user_env: UserEnv) -> None:
    """The status command is where a user looks when a key is wrong: it must not refuse to run."""
    user_env.env["ANTHROPIC_API_KEY"] = "sk-ant-BROKEN KEY"
    proc = user_env.run("keys", "--check")
    assert proc.returncode == 0, proc.stderr
    (row,) = [line for line in proc.stdout.splitlines() if "anthropic" in line]
    assert "invalid" in row and "ANTHROPIC_API_KEY" in proc.stdout
    assert "BROKEN" not in proc.stdout + proc.stderr
