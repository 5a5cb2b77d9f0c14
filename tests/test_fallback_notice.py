"""The notice "no API key or Ollama found: using the embedded local model" is said once per session: on the
first turn of a TUI session or an `ask` (one process each), on the first request `serve` takes,
whichever of its histories (logged or --no-log) the request goes to."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentchat.config import Config
from agentchat.core.engine import Engine
from agentchat.core.errors import AgentchatError
from agentchat.core.events import Notice
from agentchat.core.routing import ModelCache, Router
from agentchat.core.store import Store
from agentchat.core.turn import TurnRequest
from agentchat.providers.local import local_available
from tests.conftest import UserEnv

SAID = "no API key or Ollama found: using the embedded local model missing"


def config(tmp_path: Path) -> Config:
    # The embedded provider with a model file that is not there: the route is chosen ("nothing else
    # usable") and the request fails at once, without loading a model.
    local = {"model_path": str(tmp_path / "missing.gguf")}
    return Config(tmp_path / "config.toml", {"providers": {"local": local}, "retry": {"max_attempts": 1}})


async def notices(engine: Engine) -> list[str]:
    said: list[str] = []
    with pytest.raises(AgentchatError):
        async for event in engine.run_turn(TurnRequest("hi")):
            if isinstance(event, Notice):
                said.append(event.text)
    return said


def engine_for(tmp_path: Path, cfg: Config) -> Engine:
    router = Router(cfg, cache=ModelCache(tmp_path / "models.json"), local_available=lambda: True)
    router.ollama_probe = lambda _url: False
    return Engine(cfg, Store(tmp_path / "history.db"), router=router)


async def test_the_fallback_is_announced_once_per_session(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    engine = engine_for(tmp_path, cfg)
    try:
        assert SAID in await notices(engine)
        assert SAID not in await notices(engine)  # the second turn of the same session
    finally:
        await engine.aclose()


@pytest.mark.skipif(not local_available(), reason="agentchat[local] extra not installed: no llama_cpp")
async def test_serve_says_it_once_whichever_history_a_request_goes_to(user_env: UserEnv) -> None:
    from agentchat.gateway.service import Gateway

    gateway = Gateway(config(user_env.root))
    try:
        assert SAID in await notices(gateway.engine(no_log=False))
        assert SAID not in await notices(gateway.engine(no_log=True))  # its --no-log engine
        assert SAID not in await notices(gateway.engine(no_log=False))
    finally:
        await gateway.aclose()
