"""The embedded model (SmolLM2 in llama.cpp) with its trained 8,192-token window: what once failed
with llama.cpp's "Requested tokens (3162) exceed context window of 2048" now fits, and what can
never fit is a clear error before anything is generated. The real model, counted by its own
tokenizer; skipped, saying why, without the `agentchat[local]` extra. Reading a 5,000-token prompt
takes this model minutes on a busy 2-core machine, so the test that generates is in the `peers` run."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from agentchat.config import Config
from agentchat.core.context import ContextError
from agentchat.core.engine import Engine
from agentchat.core.events import AssistantFinished, ContextMeasured
from agentchat.core.messages import Message
from agentchat.core.request import ChatRequest
from agentchat.core.store import Store
from agentchat.core.turn import TurnRequest
from agentchat.providers.local import LocalProvider, bundled_gguf

README = Path(__file__).parent.parent / "README.md"
DIFF = "".join(f"+line {i}: some changed code here();\n" for i in range(5000))


@pytest.fixture
async def engine(tmp_path: Path):
    if importlib.util.find_spec("llama_cpp") is None or bundled_gguf() is None:
        pytest.skip("agentchat[local] extra not installed: no llama_cpp or no SmolLM2 GGUF")
    config = Config(tmp_path / "config.toml", {"providers": {"local": {"enabled": True}}})
    engine = Engine(config, Store(tmp_path / "history.db"))
    yield engine
    await engine.aclose()


async def test_trained_window_own_tokenizer_and_a_huge_diff_is_a_clear_error(engine: Engine) -> None:
    route = await engine.router.resolve(None, "local")
    provider = engine.provider_for(route.settings)
    assert isinstance(provider, LocalProvider)
    caps = await engine.capabilities(route)
    assert caps.context_window == 8192  # the GGUF's llama.context_length, not llama.cpp's old 2,048
    readme = README.read_text()
    counted = await provider.count_tokens(ChatRequest("smollm2", [Message.user(readme)]))
    exact = len((await provider.model()).llama.tokenize(readme.encode(), add_bos=False))
    assert counted is not None and 2048 < exact <= counted < exact + 64
    with pytest.raises(
        ContextError, match=r"the prompt is [\d,]+ tokens but smollm2's context window is 8,192"
    ):
        async for _ in engine.run_turn(TurnRequest(f"{DIFF}\nWrite a commit message", provider="local")):
            pass  # refused before llama.cpp reads a token


@pytest.mark.peers
async def test_cat_readme_summarize_is_answered(engine: Engine) -> None:
    """The issue's own failing example: `cat README.md | agentchat ask "Summarize"`."""
    turn = TurnRequest(f"{README.read_text()}\n\nSummarize", provider="local", max_tokens=8, temperature=0)
    events = [event async for event in engine.run_turn(turn)]
    measured = next(e for e in events if isinstance(e, ContextMeasured))
    finished = next(e for e in events if isinstance(e, AssistantFinished))
    assert measured.window == 8192
    assert finished.status == "complete" and finished.usage.input_tokens is not None
    assert 2048 < finished.usage.input_tokens <= measured.tokens
