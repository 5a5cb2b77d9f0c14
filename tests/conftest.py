"""Shared fixtures: loopback fake servers and an isolated user environment for the CLI (run in this
process or as a subprocess)."""

from __future__ import annotations

import asyncio
import fcntl
import gc
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.fakes.anthropic_fake import AnthropicFake
from tests.fakes.ollama_fake import OllamaFake
from tests.fakes.openai_fake import OpenAIFake
from tests.inproc import run_cli

if TYPE_CHECKING:
    from agentchat.core.store import Store

REPO = Path(__file__).resolve().parent.parent
# Variables of the real user environment that must never leak into a test.
SCRUB = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_AUTH_TOKEN",
    "OLLAMA_HOST",
    "OLLAMA_API_KEY",
    "AGENTCHAT_CONFIG",
    "AGENTCHAT_DATA_DIR",
    "NO_COLOR",
)


# Modules that share something expensive started once per process (the llama.cpp model and server,
# the LiteLLM proxy): under xdist (`--dist loadgroup`) each group runs in one worker, which starts it
# once.
XDIST_GROUPS = {
    "test_llama_server.py": "llama",
    "test_llama_attach.py": "llama",
    "test_provider_local.py": "llama",
    "test_context_local.py": "llama",
    "test_peer_litellm.py": "litellm",
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "exclusive: runs while no other test runs, also under xdist (it measures time, or a process "
        "it starts spins a CPU): see _exclusive_when_parallel in tests/conftest.py",
    )
    config.addinivalue_line("markers", "xdist_group(name): with --dist loadgroup, one worker runs the group")


# Modules whose tests take seconds each (a Textual app; real subprocesses, terminals or MCP
# servers). They run first: under xdist the run then ends on tests of a few milliseconds, not with
# one worker finishing a long test while the other has nothing left to do.
SLOW_FIRST = (
    "test_tui_",
    "test_face_parity.py",
    "test_store_faults.py",
    "test_shared_limits.py",
    "test_tools_mcp.py",
    "test_mcp_client.py",
    "test_hostile_text.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in XDIST_GROUPS:
            item.add_marker(pytest.mark.xdist_group(XDIST_GROUPS[item.path.name]))
    items.sort(key=lambda item: not item.path.name.startswith(SLOW_FIRST))  # stable: files keep their order


def pytest_collection_finish(session: pytest.Session) -> None:
    """Everything imported so far (Textual, the SDKs, pytest and the collected tests) lives as long
    as the run: frozen, no collection walks it again (as the app itself does at start-up)."""
    gc.collect()
    gc.freeze()
    _quicker_idle_checks()


def _quicker_idle_checks() -> None:
    """Textual's pilot waits for the process to go idle twice per key press and once per
    `pause()`, sleeping in 20 ms slices until one passes with (almost) no CPU used: at least
    40 ms a key, a third of a TUI test's time spent asleep. 5 ms slices with the same ratio still
    see an app at work as busy, and wait a quarter as long once it is idle (textual/_wait.py
    reads both numbers on every call)."""
    wait = sys.modules.get("textual._wait")  # loaded with the collected TUI tests, if any
    if wait is not None:
        wait.SLEEP_GRANULARITY = 0.005
        wait.SLEEP_IDLE = wait.SLEEP_GRANULARITY / 20


@pytest.fixture(autouse=True)
def _exclusive_when_parallel(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """Under xdist (`-n 2`) a test marked `exclusive` runs alone, as in a serial run: it waits for
    the test running on the other worker to end and no other test starts until it is done.

    Every test holds a shared lock on a file all workers see while it runs (set up, call and
    tear down); an exclusive test takes it exclusively. A second lock, held exclusively while an
    exclusive test waits, keeps the other worker from starting a new test meanwhile (writer
    preference: flock alone would let a stream of shared holders starve it). Without xdist, a
    no-op."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        yield
        return
    run_dir = tmp_path_factory.getbasetemp().parent  # shared by the workers of this run
    exclusive = request.node.get_closest_marker("exclusive") is not None
    with open(run_dir / "exclusive.intent", "a") as intent, open(run_dir / "exclusive.lock", "a") as lock:
        if exclusive:
            fcntl.flock(intent, fcntl.LOCK_EX)
            fcntl.flock(lock, fcntl.LOCK_EX)
        else:
            fcntl.flock(intent, fcntl.LOCK_SH)
            fcntl.flock(lock, fcntl.LOCK_SH)
            fcntl.flock(intent, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            fcntl.flock(intent, fcntl.LOCK_UN)


@pytest.fixture(autouse=True)
def _fresh_process_caches() -> Iterator[None]:
    """What a process keeps for its lifetime (each provider's rate limiter with its window so far,
    keys from `api_key_cmd`) starts empty for each test, as for a new process: an app or `ask`
    run in this process by an earlier test must not change what a later one sees."""
    from agentchat.core import ratelimit
    from agentchat.providers import base

    ratelimit._LIMITERS.clear()
    base._COMMAND_KEYS.clear()
    yield
    ratelimit._LIMITERS.clear()
    base._COMMAND_KEYS.clear()


@pytest.fixture(autouse=True)
def _collector_as_found() -> Iterator[None]:
    """The TUI and `ask` run in this process: they disable the collector during start-up and
    postpone full collections while a reply streams (gc_policy). Each test leaves it enabled and
    with the thresholds it found. What they froze stays frozen: it spares every later collection
    a walk over Textual's and the SDKs' objects (unfreezing after each test made the TUI tests
    a fifth slower)."""
    from agentchat import gc_policy

    enabled, threshold, saved_full = gc.isenabled(), gc.get_threshold(), gc_policy._saved_full
    yield
    gc.set_threshold(*threshold)
    gc_policy._saved_full = saved_full
    if enabled:
        gc.enable()
    else:
        gc.disable()


@pytest.fixture
def openai_fake() -> Iterator[OpenAIFake]:
    with OpenAIFake() as fake:
        yield fake


@pytest.fixture
def anthropic_fake() -> Iterator[AnthropicFake]:
    with AnthropicFake() as fake:
        yield fake


@pytest.fixture
def ollama_fake() -> Iterator[OllamaFake]:
    with OllamaFake() as fake:
        yield fake


@dataclass
class UserEnv:
    """A user's world in a temp dir: config file, data dir and environment variables."""

    root: Path
    env: dict[str, str]

    @property
    def config_path(self) -> Path:
        return Path(self.env["AGENTCHAT_CONFIG"])

    @property
    def data_dir(self) -> Path:
        return Path(self.env["AGENTCHAT_DATA_DIR"])

    @property
    def db_path(self) -> Path:
        return self.data_dir / "history.db"

    def write_config(self, text: str, *, local: bool = False) -> None:
        """Write config.toml; the embedded local model stays disabled unless `local` (it is slow to load)."""
        if not local and "[providers.local]" not in text:
            text += "\n[providers.local]\nenabled = false\n"
        self.config_path.write_text(text)

    def run(
        self,
        *args: str | bytes,
        input: str | bytes | None = None,
        timeout: float = 60,
        stdin: int | None = None,
        text: bool | None = None,
    ) -> subprocess.CompletedProcess[Any]:
        """Run the real `agentchat` CLI inside this process, as a pipeline would run it: the user's
        environment and cwd, stdout and stderr captured (not a terminal), stdin from `input` or
        /dev/null, the exit code (tests/inproc.py). Text unless `input` is bytes or `text=False`.
        For what only a real process shows (signals, closed fds, terminals, several processes at
        once, import cost) use `run_process` or `popen`. Inside a running event loop (an async
        test) `ask`'s own asyncio.run cannot nest, so there it is a subprocess too."""
        if _loop_running():
            return self._subprocess(args, input=input, stdin=stdin, text=text, timeout=timeout)
        return run_cli(
            args, env=self.env, cwd=self.root, input=input, stdin=stdin, text=text, timeout=timeout
        )

    def run_process(
        self, *args: str, input: str | None = None, timeout: float = 60, stdin: int | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run the real `agentchat` CLI in a subprocess (python -m agentchat)."""
        return self._subprocess(args, input=input, stdin=stdin, text=True, timeout=timeout)

    def _subprocess(
        self,
        args: tuple[str | bytes, ...],
        *,
        input: str | bytes | None,
        stdin: int | None,
        text: bool | None,
        timeout: float,
    ) -> subprocess.CompletedProcess[Any]:
        return subprocess.run(
            [sys.executable, "-m", "agentchat", *args],
            input=input,
            stdin=stdin if input is None else None,
            capture_output=True,
            text=not isinstance(input, bytes) if text is None else text,
            env=self.env,
            timeout=timeout,
            cwd=self.root,
        )

    def popen(self, *args: str, **kwargs: object) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "agentchat", *args],
            env=self.env,
            cwd=self.root,
            text=True,
            **kwargs,  # type: ignore[call-overload]  # the caller's Popen keywords, passed through
        )

    def store(self) -> Store:
        from agentchat.core.store import Store

        return Store(self.db_path)


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@pytest.fixture
def user_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> UserEnv:
    """Isolates both this process and CLI subprocesses from the real user's keys, config and data."""
    for name in SCRUB:
        monkeypatch.delenv(name, raising=False)
    data = tmp_path / "data"
    data.mkdir()
    config = tmp_path / "config.toml"
    monkeypatch.setenv("AGENTCHAT_DATA_DIR", str(data))
    monkeypatch.setenv("AGENTCHAT_CONFIG", str(config))
    # Nothing listens here: Ollama is "not running" unless a test points OLLAMA_HOST at a fake.
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9")
    env = {k: v for k, v in os.environ.items() if k not in SCRUB}
    env.update(
        AGENTCHAT_DATA_DIR=str(data),
        AGENTCHAT_CONFIG=str(config),
        OLLAMA_HOST="http://127.0.0.1:9",
        PYTHONPATH=str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", ""),
        HOME=str(tmp_path / "home"),
    )
    (tmp_path / "home").mkdir()
    work = tmp_path / "work"
    work.mkdir()
    user = UserEnv(work, env)
    user.write_config("")
    return user
