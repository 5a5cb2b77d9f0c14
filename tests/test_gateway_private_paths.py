"""An error body the gateway sends to a (possibly remote) client names no local path: the server's
config file is named by its file name only, and the whole line, path included, goes to the
server's stderr for its operator."""

from __future__ import annotations

import openai
import pytest

from tests.conftest import UserEnv
from tests.fakes.openai_fake import OpenAIFake
from tests.gateway_server import running_gateway


def test_a_401_body_does_not_disclose_the_config_path(
    user_env: UserEnv, openai_fake: OpenAIFake, capsys: pytest.CaptureFixture[str]
) -> None:
    user_env.write_config(f'[providers.openai]\nbase_url = "{openai_fake.base_url}"\n')  # no key
    with running_gateway(user_env) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
        with pytest.raises(openai.AuthenticationError) as info:
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    said = str(info.value)
    assert "no API key for openai" in said and "config.toml" in said
    assert str(user_env.config_path.parent) not in said and "/" + user_env.config_path.name not in said
    assert str(user_env.config_path) in capsys.readouterr().err  # the operator still sees where
    assert user_env.store().list_conversations() == []  # nothing could be sent: nothing stored
