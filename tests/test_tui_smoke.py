"""The real `agentchat` (python -m agentchat) in a real terminal: tmux runs it, we type and read the screen."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fakes.openai_fake import text

TMUX = shutil.which("tmux")


def _pane(tmux: list[str]) -> str:
    return subprocess.run([*tmux, "capture-pane", "-p"], capture_output=True, text=True).stdout


def _wait_for(tmux: list[str], needle: str, timeout_s: float = 20.0) -> str:
    deadline = time.monotonic() + timeout_s
    while True:
        pane = _pane(tmux)
        if needle in pane:
            return pane
        if time.monotonic() > deadline:
            raise AssertionError(f"{needle!r} never appeared; the screen was:\n{pane}")
        time.sleep(0.05)


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed: no real terminal to run the TUI in")
def test_the_real_cli_streams_a_reply_in_a_terminal(user_env, openai_fake, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    user_env.write_config(
        f'[providers.openai]\nbase_url = "{openai_fake.base_url}"\napi_key = "sk-smoke"\nmodels = ["gpt-4o-mini"]\n'
    )
    openai_fake.queue(text(["Hello ", "from ", "a real ", "terminal."], delay_s=0.05))
    tmux = [str(TMUX), "-S", str(tmp_path / "tmux.sock")]
    env = {**user_env.env, "TERM": "xterm-256color", "TEXTUAL_ANIMATIONS": "none"}
    command = f"{sys.executable} -m agentchat"
    subprocess.run(
        [*tmux, "new-session", "-d", "-x", "120", "-y", "40", "-c", str(user_env.root), command],
        env=env,
        check=True,
    )
    try:
        _wait_for(tmux, "Message (enter sends")
        subprocess.run([*tmux, "send-keys", "-l", "say hello"], check=True)
        subprocess.run([*tmux, "send-keys", "Enter"], check=True)
        pane = _wait_for(tmux, "Hello from a real terminal.")
        assert "openai" in pane and "gpt-4o-mini" in pane
        subprocess.run([*tmux, "send-keys", "C-q"], check=True)
        deadline = time.monotonic() + 10
        while subprocess.run([*tmux, "has-session"], capture_output=True).returncode == 0:
            assert time.monotonic() < deadline, "ctrl+q did not quit the TUI"
            time.sleep(0.05)
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
    [request] = openai_fake.chat_requests()
    assert request.body["messages"][-1]["content"] == "say hello"
    store = user_env.store()
    try:
        [info] = store.list_conversations()
        assert store.get_message(store.leaf(info.id)).text == "Hello from a real terminal."
    finally:
        store.close()
