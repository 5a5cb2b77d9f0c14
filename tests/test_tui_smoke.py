"""The real `agentchat` (python -m agentchat) in a real terminal: tmux runs it, we type and read the screen."""

from __future__ import annotations

import os
import shutil
import signal
import stat
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


NO_TMUX = pytest.mark.skipif(TMUX is None, reason="tmux is not installed: no real terminal to run the TUI in")


def _start(user_env, openai_fake, tmp_path: Path) -> tuple[list[str], Path]:  # type: ignore[no-untyped-def]
    """`agentchat` in a 120x40 tmux pane; returns tmux's argv and the file its exit status goes to."""
    user_env.write_config(
        f'[providers.openai]\nbase_url = "{openai_fake.base_url}"\napi_key = "sk-smoke"\nmodels = ["gpt-4o-mini"]\n'
    )
    tmux = [str(TMUX), "-S", str(tmp_path / "tmux.sock")]
    env = {**user_env.env, "TERM": "xterm-256color", "TEXTUAL_ANIMATIONS": "none"}
    status, pid = tmp_path / "exit-status", tmp_path / "pid"
    # The inner shell writes its pid and becomes the app (exec); the outer one notes its exit status.
    command = f"sh -c 'echo $$ > {pid}; exec {sys.executable} -m agentchat'; echo $? > {status}"
    subprocess.run(
        [*tmux, "new-session", "-d", "-x", "120", "-y", "40", "-c", str(user_env.root), command],
        env=env,
        check=True,
    )
    return tmux, status


def _exit_status(status: Path, timeout_s: float = 10.0) -> int:
    deadline = time.monotonic() + timeout_s
    while not status.exists() or not status.read_text().strip():
        assert time.monotonic() < deadline, "the TUI did not exit"
        time.sleep(0.05)
    return int(status.read_text())


@NO_TMUX
def test_the_real_cli_streams_a_reply_in_a_terminal(user_env, openai_fake, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    openai_fake.queue(text(["Hello ", "from ", "a real ", "terminal."], delay_s=0.05))
    tmux, status = _start(user_env, openai_fake, tmp_path)
    try:
        _wait_for(tmux, "Message (enter sends")
        subprocess.run([*tmux, "send-keys", "-l", "say hello"], check=True)
        subprocess.run([*tmux, "send-keys", "Enter"], check=True)
        pane = _wait_for(tmux, "Hello from a real terminal.")
        assert "openai" in pane and "gpt-4o-mini" in pane
        subprocess.run([*tmux, "send-keys", "C-q"], check=True)
        assert _exit_status(status) == 0
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


@NO_TMUX
def test_sigterm_while_a_reply_streams_keeps_it_as_interrupted(user_env, openai_fake, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`kill` or a closed terminal (SIGHUP) leaves as ctrl+q does: the partial reply is stored."""
    openai_fake.queue(text([f"word{i} " for i in range(100)], delay_s=0.1))
    tmux, status = _start(user_env, openai_fake, tmp_path)
    try:
        _wait_for(tmux, "Message (enter sends")
        subprocess.run([*tmux, "send-keys", "-l", "count slowly"], check=True)
        subprocess.run([*tmux, "send-keys", "Enter"], check=True)
        _wait_for(tmux, "word3")
        os.kill(int((tmp_path / "pid").read_text()), signal.SIGTERM)
        assert _exit_status(status) == 128 + signal.SIGTERM
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
    store = user_env.store()
    try:
        [info] = store.list_conversations()
        reply = store.get_message(store.leaf(info.id))
        assert reply.status == "interrupted" and reply.text.startswith("word0 word1 word2")
    finally:
        store.close()


@NO_TMUX
def test_a_newcomer_without_keys_sets_one_and_talks(user_env, openai_fake, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """80x24, no key anywhere, no embedded model, Ollama not running: the welcome says what to
    do, f2 takes a key, ctrl+o goes to the provider that now has one, and the reply comes."""
    openai_fake.queue(text(["Welcome ", "aboard."], delay_s=0.05))
    user_env.write_config(
        f'[providers.openai]\nbase_url = "{openai_fake.base_url}"\nmodels = ["gpt-4o-mini"]\n'
    )
    tmux = [str(TMUX), "-S", str(tmp_path / "tmux.sock")]
    env = {**user_env.env, "TERM": "xterm-256color", "TEXTUAL_ANIMATIONS": "none"}
    status = tmp_path / "exit-status"
    command = f"{sys.executable} -m agentchat; echo $? > {status}"
    subprocess.run([*tmux, "new-session", "-d", "-x", "80", "-y", "24", command], env=env, check=True)
    try:
        pane = _wait_for(tmux, "no provider yet: add a key with f2")
        assert "no key: export OPENAI_API_KEY or press f2" in pane and "Search history" not in pane
        subprocess.run([*tmux, "send-keys", "F2"], check=True)
        _wait_for(tmux, "API keys")
        subprocess.run([*tmux, "send-keys", "s"], check=True)  # the openai row
        _wait_for(tmux, "New key for openai")
        subprocess.run([*tmux, "send-keys", "-l", "sk-newcomer-1"], check=True)
        subprocess.run([*tmux, "send-keys", "Enter"], check=True)
        _wait_for(tmux, "key for openai saved")
        subprocess.run([*tmux, "send-keys", "Escape"], check=True)
        _wait_for(tmux, "key in the config file")  # the welcome follows
        subprocess.run([*tmux, "send-keys", "C-o"], check=True)
        _wait_for(tmux, "Your next message goes to   openai  gpt-4o-mini")
        subprocess.run([*tmux, "send-keys", "-l", "hello, I am new"], check=True)
        subprocess.run([*tmux, "send-keys", "Enter"], check=True)
        pane = _wait_for(tmux, "Welcome aboard.")
        assert "hello, I am new" in pane and "sk-newcomer-1" not in pane
        subprocess.run([*tmux, "send-keys", "C-q"], check=True)
        assert _exit_status(status) == 0
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
    [request] = openai_fake.chat_requests()
    assert request.header("authorization") == "Bearer sk-newcomer-1"
    assert stat.S_IMODE(user_env.config_path.stat().st_mode) == 0o600
