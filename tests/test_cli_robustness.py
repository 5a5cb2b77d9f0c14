"""What a shell can throw at the CLI besides a prompt: bytes that are not UTF-8, closed streams, a
reader that leaves early, a config saved with a BOM, a --config that is not there. Each ends in a
clear line and the right exit code, never a traceback."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import UserEnv
from tests.fakes import openai_fake as oai
from tests.fakes.openai_fake import OpenAIFake

KEY = "sk-test-robust-0123456789"


def config(fake: OpenAIFake) -> str:
    return f'[providers.openai]\napi_key = "{KEY}"\nbase_url = "{fake.base_url}"\n'


def agentchat(
    user_env: UserEnv, *args: str | bytes, shell_tail: str = ""
) -> subprocess.CompletedProcess[str]:
    """With `shell_tail`, a real process run through a shell so redirections like `>&-` apply to it;
    else the CLI in this process (argv bytes decoded as Python decodes a process's argv)."""
    if shell_tail:
        quoted = " ".join(f"'{a}'" for a in args if isinstance(a, str))
        command = f"exec {sys.executable} -m agentchat {quoted} {shell_tail}"
        return subprocess.run(
            ["sh", "-c", command],
            capture_output=True,
            text=True,
            env=user_env.env,
            cwd=user_env.root,
            timeout=60,
        )
    return user_env.run(*args)


def test_argv_bytes_that_are_not_utf8_are_sent_as_replacement_characters(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    user_env.write_config(config(openai_fake))
    openai_fake.queue(oai.text(["ok"]))
    proc = agentchat(user_env, "ask", "-m", "gpt-4o-mini", b"caf\xe9 au lait")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "ok\n"
    assert openai_fake.chat_requests()[0].body["messages"][-1]["content"] == "caf\ufffd au lait"
    with user_env.store() as store:
        (conv,) = store.list_conversations()
        assert conv.title == "caf\ufffd au lait"


def test_search_with_bytes_that_are_not_utf8(user_env: UserEnv) -> None:
    proc = agentchat(user_env, "history", "search", b"\xff\xfe")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr


def test_a_closed_stdout_is_a_usage_error_before_anything_is_sent(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    user_env.write_config(config(openai_fake))
    for args in (("ask", "-m", "gpt-4o-mini", "hi"), ("history",), ("stats",)):
        proc = agentchat(user_env, *args, shell_tail=">&-")
        assert proc.returncode == 2, (args, proc.stderr)
        assert (
            proc.stderr == "agentchat: error: standard output is closed: nothing could receive the output\n"
        )
    assert openai_fake.chat_requests() == []


def test_a_closed_stderr_does_not_stop_the_answer(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(config(openai_fake))
    openai_fake.queue(oai.text(["fine"]))
    proc = agentchat(user_env, "ask", "-u", "-m", "gpt-4o-mini", "hi", shell_tail="2>&-")
    assert proc.returncode == 0 and proc.stdout == "fine\n"


def test_a_reader_that_leaves_early_is_a_clean_exit(user_env: UserEnv) -> None:
    """`agentchat history | head -1`: SIGPIPE/EPIPE is not an error and prints nothing."""
    with user_env.store() as store:
        for i in range(3000):
            store.create_conversation(title=f"conversation {i}")
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentchat", "history", "-n", "3000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=user_env.env,
        cwd=user_env.root,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline()
    proc.stdout.close()
    assert proc.wait(timeout=60) == 0
    assert proc.stderr.read() == b""


def test_a_config_saved_with_a_bom_is_read(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.config_path.write_bytes(b"\xef\xbb\xbf" + config(openai_fake).encode())
    openai_fake.queue(oai.text(["bom ok"]))
    proc = agentchat(user_env, "ask", "-m", "gpt-4o-mini", "hi")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "bom ok\n"


def test_a_missing_config_named_with_the_flag_is_an_error(user_env: UserEnv) -> None:
    missing = user_env.root / "nope.toml"
    for args in (("ask", "hi"), ("history",), ("keys",), ()):
        proc = agentchat(user_env, "--config", str(missing), *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr == f"agentchat: error: config file not found: {missing} (given with --config)\n"
    # `keys set` is how the file gets made
    proc = user_env.run("--config", str(missing), "keys", "set", "openai", input="sk-new-key-123456\n")
    assert proc.returncode == 0, proc.stderr
    assert missing.exists()


def test_resume_with_a_prompt_is_refused_instead_of_dropping_it(user_env: UserEnv) -> None:
    for args, stdin in ((("ask", "-c", "--resume", "and then?"), None), (("ask", "-c", "--resume"), "piped")):
        proc = user_env.run(*args, input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL)
        assert proc.returncode == 2, proc.stderr
        assert "--resume continues the interrupted reply as it was and takes no prompt" in proc.stderr
