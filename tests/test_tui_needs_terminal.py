"""`agentchat` with no terminal (a pipeline, a cron job, `</dev/null`) refuses at once with one line
and exit 2, instead of waiting forever for keys while writing screen escape codes to a file."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import UserEnv

REFUSAL = "agentchat: the TUI needs a terminal; use `agentchat ask` in pipelines\n"


def test_no_terminal_on_stdin_is_refused_before_textual_is_imported(user_env: UserEnv) -> None:
    probe = (
        "import sys\n"
        "sys.argv = ['agentchat']\n"
        "from agentchat.cli import main\n"
        "try:\n    main()\n"
        "except SystemExit as exc:\n    print(exc.code, 'textual' in sys.modules)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=user_env.env,
        cwd=user_env.root,
        timeout=30,
    )
    assert proc.stderr == REFUSAL
    assert proc.stdout == "2 False\n"


def test_piped_input_with_a_config_flag_is_refused(user_env: UserEnv) -> None:
    user_env.write_config("")
    proc = user_env.run_process("--config", str(user_env.config_path), input="hi\n", timeout=30)
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", REFUSAL)
