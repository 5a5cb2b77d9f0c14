"""Tools as a user of `agentchat ask` meets them: a search that would run for hours stops on Ctrl-C,
a huge file costs no memory, bad tool arguments from Ollama are the model's problem and not an
exit 4, and the approval question says what approving run_shell means. A real subprocess, real
SDKs, loopback fakes."""

from __future__ import annotations

import fcntl
import os
import select
import signal
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

import pytest

from agentchat.tools.sandbox import bwrap_path, unavailable_reason
from tests.conftest import UserEnv
from tests.fakes import ollama_fake as oll
from tests.fakes import openai_fake as oai
from tests.fakes.ollama_fake import OllamaFake
from tests.fakes.openai_fake import OpenAIFake

NO_SANDBOX = unavailable_reason(bwrap_path())


def openai_config(fake: OpenAIFake, extra: str = "") -> str:
    return f'[providers.openai]\napi_key = "sk-test"\nbase_url = "{fake.base_url}"\n{extra}'


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                kids += [int(k) for k in fh.read().split()]
        except FileNotFoundError:  # that thread ended while we looked
            continue
    return kids


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read()
    except OSError:
        return b""


def _read_until(stream, needle: str, deadline_s: float = 30) -> str:  # type: ignore[no-untyped-def]
    """Lines of a text stream until one contains `needle`."""
    seen = ""
    end = time.monotonic() + deadline_s
    while needle not in seen and time.monotonic() < end:
        line = stream.readline()
        if not line:
            break
        seen += line
    assert needle in seen, seen
    return seen


@pytest.mark.exclusive  # measures time
def test_ctrl_c_stops_a_catastrophic_search_at_once(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    """Before: the search thread held the GIL, so SIGINT was never handled: `ask` ran on for hours."""
    (user_env.root / "evil.txt").write_text("a" * 40 + "b\n")
    user_env.write_config(openai_config(openai_fake))
    openai_fake.queue(
        oai.tool_calls([("call_1", "search_files", {"pattern": "(a+)+$"})]), oai.text(["never"])
    )
    proc = user_env.popen(
        "ask",
        "-T",
        "search_files",
        "-m",
        "gpt-4o-mini",
        "find it",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _read_until(proc.stderr, "tool search_files")
        worker = None
        end = time.monotonic() + 3  # the worker shows up at once; the old in-thread search never does
        while worker is None and time.monotonic() < end:
            worker = next((k for k in _children(proc.pid) if b"grep_worker" in _cmdline(k)), None)
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert time.monotonic() - started < 5
    assert worker is not None and not _cmdline(worker)  # the search process is gone too
    with user_env.store() as store:
        thread = store.thread(store.leaf(store.most_recent_conversation()))
    assert [m.role for m in thread] == ["user", "assistant", "tool"]
    assert thread[-1].tool_results[0].status == "interrupted"


def _run_measured(user_env: UserEnv, *args: str) -> tuple[int, str, int]:
    """(exit code, stderr, peak resident memory in MB) of one `agentchat` run."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "agentchat", *args],
            env=user_env.env,
            cwd=user_env.root,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        return proc.returncode, err.read().decode(), usage.ru_maxrss // 1024


def test_reading_a_huge_file_costs_no_memory_and_tells_the_model_how_to_read_on(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    """Before: a 64 MB line was read and decoded whole (about +130 MB) and silently cut at 90,000
    characters."""
    (user_env.root / "small.js").write_text("x" * 1000 + "\n")
    with open(user_env.root / "huge.js", "w") as fh:  # 64 MB in one line, as minified code has
        for _ in range(64):
            fh.write("x" * (1 << 20))
    user_env.write_config(openai_config(openai_fake))
    rss = {}
    for name in ("small.js", "huge.js"):
        openai_fake.queue(oai.tool_calls([("call_1", "read_file", {"path": name})]), oai.text(["Read."]))
        code, err, rss[name] = _run_measured(user_env, "ask", "-T", "read_file", "-m", "gpt-4o-mini", "read")
        assert code == 0, err
    assert rss["huge.js"] - rss["small.js"] < 32, rss
    result = openai_fake.chat_requests()[-1].body["messages"][-1]
    assert result["role"] == "tool" and len(result["content"].encode()) <= 100_000
    assert (
        "[line 1 is longer than the output limit (100,000 bytes): only its first 99,400 bytes"
        in result["content"]
    )


def test_bad_tool_arguments_from_ollama_go_back_to_the_model(
    user_env: UserEnv, ollama_fake: OllamaFake
) -> None:
    """Before: the 0.6.3 client's validation failed on the whole reply line, and `ask` exited 4."""
    (user_env.root / "notes.txt").write_text("pelican\n")
    user_env.write_config(f'[providers.ollama]\nhost = "{ollama_fake.root}"\nmodels = ["llama3.2"]\n')
    ollama_fake.queue(
        oll.tool_calls([("read_file", '{"path": "notes.t')]),  # arguments as a string of broken JSON
        oll.tool_calls([("read_file", {"path": "notes.txt"})]),
        oll.text(["Pelican."]),
    )
    proc = user_env.run("ask", "-T", "read_file", "-m", "llama3.2", "the word?")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Pelican.\n"
    second = ollama_fake.chat_requests()[1].body["messages"]
    assert second[-1] == {
        "role": "tool",
        "content": 'error: read_file: the arguments are not valid JSON: \'{"path": "notes.t\'',
        "tool_name": "read_file",
    }
    assert "pelican" in ollama_fake.chat_requests()[2].body["messages"][-1]["content"]


def _ask_on_a_terminal(user_env: UserEnv, *args: str, answer: bytes) -> tuple[int, str, str]:
    """Run `ask` with a controlling terminal, as from a user's shell; answer its question with
    `answer`. Returns (exit code, what the terminal showed, stdout)."""
    master, slave = os.openpty()

    def controlling_terminal() -> None:
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(
        [sys.executable, "-m", "agentchat", *args],
        env=user_env.env,
        cwd=user_env.root,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        pass_fds=(slave,),
        preexec_fn=controlling_terminal,
    )
    os.close(slave)
    screen = b""
    try:
        while b"deny: " not in screen:
            ready, _, _ = select.select([master], [], [], 30)
            assert ready, screen.decode(errors="replace")
            screen += os.read(master, 4096)
        os.write(master, answer)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return proc.returncode, screen.decode(errors="replace"), out.decode()


def test_the_approval_question_says_run_shell_is_not_confined(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    user_env.write_config(openai_config(openai_fake))
    openai_fake.queue(
        oai.tool_calls([("call_1", "run_shell", {"command": "echo hi > ran.txt"})]), oai.text(["Not run."])
    )
    code, screen, out = _ask_on_a_terminal(
        user_env, "ask", "-T", "run_shell", "-m", "gpt-4o-mini", "run it", answer=b"n\n"
    )
    assert code == 6 and out == "Not run.\n"
    question = " ".join(screen.split())  # the terminal wraps long lines
    assert 'agentchat: allow tool run_shell (built-in) {"command": "echo hi > ran.txt"}?' in question
    assert "note: not confined to the workspace: the command runs with your rights" in question
    assert "agentchat's config with your API keys" in question and "[tools] sandbox = true" in question
    assert not (user_env.root / "ran.txt").exists()


@pytest.mark.skipif(NO_SANDBOX is not None, reason=f"no sandbox on this machine: {NO_SANDBOX}")
def test_sandbox_from_the_config_confines_an_approved_command(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    user_env.write_config(openai_config(openai_fake, "[tools]\nsandbox = true\n"))
    openai_fake.queue(
        oai.tool_calls([("call_1", "run_shell", {"command": f"cat {user_env.config_path}; echo done"})]),
        oai.text(["Ok."]),
    )
    proc = user_env.run("ask", "-T", "run_shell", "--allow-tool", "run_shell", "-m", "gpt-4o-mini", "go")
    assert proc.returncode == 0, proc.stderr
    result = openai_fake.chat_requests()[1].body["messages"][-1]["content"]
    assert "sk-test" not in result and result.endswith("done\n[exit code: 0]")


def test_max_output_bytes_from_the_config_caps_results(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    (user_env.root / "log.txt").write_text("line\n" * 10_000)
    user_env.write_config(openai_config(openai_fake, "[tools]\nmax_output_bytes = 5000\n"))
    openai_fake.queue(oai.tool_calls([("call_1", "read_file", {"path": "log.txt"})]), oai.text(["Ok."]))
    proc = user_env.run("ask", "-T", "read_file", "-m", "gpt-4o-mini", "go")
    assert proc.returncode == 0, proc.stderr
    result = openai_fake.chat_requests()[1].body["messages"][-1]["content"]
    assert len(result) <= 5000 and "read again with offset=881" in result


def test_a_bad_max_output_bytes_is_a_one_line_config_error(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    user_env.write_config(openai_config(openai_fake, "[tools]\nmax_output_bytes = 10\n"))
    openai_fake.queue(oai.text(["Ok."]))
    proc = user_env.run("ask", "-T", "read_file", "-m", "gpt-4o-mini", "go")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert (
        f"{user_env.config_path}: tools.max_output_bytes must be a whole number of bytes >= 2000"
        in proc.stderr
    )
    assert len(proc.stderr.strip().splitlines()) == 1


def test_the_search_worker_is_where_the_tool_runs_it() -> None:
    """grep_worker.py is run by path with `python -I -S`: it must stay standard-library only."""
    worker = Path(__file__).resolve().parent.parent / "src/agentchat/tools/grep_worker.py"
    proc = subprocess.run(
        [sys.executable, "-I", "-S", str(worker)], input='{"pattern": "x", "root": "/nonexistent", '
        '"target": "/nonexistent", "skip_dirs": [], "max_file_bytes": 1, "line_chars": 1}',
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, '{"done": true}\n', "")
