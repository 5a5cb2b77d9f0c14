"""`GET /v1/models` on a fresh machine (no key, no Ollama) lists the embedded model the gateway
answers with, and not when it is disabled."""

from __future__ import annotations

import openai
import pytest

from agentchat.providers.local import local_available
from tests.conftest import UserEnv
from tests.gateway_server import running_gateway

needs_local = pytest.mark.skipif(
    not local_available(), reason="agentchat[local] extra not installed: no llama_cpp or no SmolLM2 GGUF"
)


def listed(url: str) -> dict[str, str]:
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
    return {m.id: m.owned_by for m in client.models.list()}


@needs_local
def test_the_embedded_model_is_listed_when_it_can_run(user_env: UserEnv) -> None:
    user_env.write_config("", local=True)
    with running_gateway(user_env) as url:
        assert listed(url) == {"smollm2": "local"}


def test_a_disabled_embedded_model_is_not_listed(user_env: UserEnv) -> None:
    user_env.write_config("[providers.local]\nenabled = false\n")
    with running_gateway(user_env) as url:
        assert listed(url) == {}
