"""A model that runs on the user's machine (the embedded one, Ollama) costs $0, not an unknown
price: `ask -u` shows $0, `--max-cost` is enforced, `stats` has nothing unpriced."""

from __future__ import annotations

import json

from agentchat.core.budget import check_request, estimated_cost
from agentchat.core.messages import Message, Usage
from agentchat.core.pricing import reply_cost
from tests.conftest import UserEnv
from tests.fakes import ollama_fake as oll
from tests.fakes.ollama_fake import OllamaFake


def test_an_ollama_reply_costs_nothing_everywhere(user_env: UserEnv, ollama_fake: OllamaFake) -> None:
    user_env.write_config(f'[providers.ollama]\nhost = "{ollama_fake.root}"\nmodels = ["llama3.2"]\n')
    ollama_fake.queue(oll.text(["hello"]))
    proc = user_env.run("ask", "-u", "--max-cost", "0.01", "-m", "llama3.2", "hi")
    assert proc.returncode == 0, proc.stderr
    assert "$0.000000" in proc.stderr and "cost unknown" not in proc.stderr
    assert "not enforced" not in proc.stderr
    stats = json.loads(user_env.run("stats", "--json").stdout)
    [total] = stats["groups"]
    assert total["unpriced"] == 0 and total["cost"] == 0.0


def test_the_embedded_model_is_priced_at_zero() -> None:
    reply = Message(role="assistant", provider="local", model="smollm2", usage=Usage(40, 8))
    assert reply_cost(reply, {}) == 0.0
    estimate = estimated_cost("smollm2", 40, None, {}, "local")
    assert estimate == 0.0 and check_request("smollm2", estimate, 0.01) is None
    # a price the user configured for a local model still counts
    assert reply_cost(reply, {"smollm2": {"input": 1.0, "output": 1.0}}) == 48 / 1_000_000
