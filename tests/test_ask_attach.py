"""`agentchat ask -f PATH|URL|-` as a user's shell sees it: real SDKs, loopback fakes, the real
history; `history show` / `history export` listing what was attached."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

from tests.attach_files import Page, make_image, make_pdf, web_server
from tests.conftest import UserEnv
from tests.fakes import ollama_fake as oll
from tests.fakes import openai_fake as oai
from tests.fakes.ollama_fake import OllamaFake
from tests.fakes.openai_fake import OpenAIFake
from tests.test_import_hygiene import packages_of_cli_run

PNG = make_image(16, 9)
HEAVY = {"PIL", "pypdf", "bs4", "markdownify", "pathspec"}


def setup(user_env: UserEnv, openai: OpenAIFake | None = None, ollama: OllamaFake | None = None) -> None:
    text = ""
    if openai is not None:
        text += f'[providers.openai]\napi_key = "sk-test"\nbase_url = "{openai.base_url}"\n'
    if ollama is not None:
        text += f'[providers.ollama]\nhost = "{ollama.root}"\nmodels = ["llama3.2", "llava"]\n'
    user_env.write_config(text)


def piped(user_env: UserEnv, data: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    """Binary stdin through a real pipe, as `cat photo.png | agentchat ask -f - ...` (the CLI in
    this process: tests/inproc.py; bytes out)."""
    return user_env.run(*args, input=data)


def nothing_stored(user_env: UserEnv) -> bool:
    if not user_env.db_path.exists():
        return True
    with user_env.store() as store:
        return store.list_conversations() == []


def test_an_image_for_a_model_that_cannot_see_fails_before_sending(
    user_env: UserEnv, ollama_fake: OllamaFake
) -> None:
    setup(user_env, ollama=ollama_fake)
    (user_env.root / "photo.png").write_bytes(PNG)
    proc = user_env.run("ask", "-p", "ollama", "-m", "llama3.2", "-f", "photo.png", "what is in this?")
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == "" and len(proc.stderr.splitlines()) == 1
    assert "model llama3.2 cannot take images" in proc.stderr and "photo.png" in proc.stderr
    assert ollama_fake.chat_requests() == [] and nothing_stored(user_env)


def test_an_image_goes_to_a_model_that_sees_and_history_lists_it(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    setup(user_env, openai_fake)
    (user_env.root / "photo.png").write_bytes(PNG)
    openai_fake.queue(oai.text(["A red rectangle."]))
    proc = user_env.run("ask", "-m", "gpt-4o-mini", "--file", "photo.png", "what is in this?")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "A red rectangle.\n"
    content = openai_fake.chat_requests()[0].body["messages"][0]["content"]
    assert content[0]["image_url"]["url"] == "data:image/png;base64," + base64.b64encode(PNG).decode()

    shown = user_env.run("history", "show", "1")
    assert f"attached:\n- photo.png (image/png, {len(PNG)} bytes, 16x9)\n" in shown.stdout
    exported = json.loads(user_env.run("history", "export", "1", "--format", "json").stdout)
    part = exported["messages"][0]["parts"][1]
    assert part["type"] == "attachment" and part["name"] == "photo.png" and "data" not in part
    assert exported["attachments"][part["hash"]] == {
        "media_type": "image/png",
        "size": len(PNG),
        "base64": base64.b64encode(PNG).decode(),
    }


def test_stdin_as_an_attachment_binary_and_no_prompt_needed(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    setup(user_env, openai_fake)
    openai_fake.queue(oai.text(["ok"]), oai.text(["ok"]))
    proc = piped(user_env, PNG, "ask", "-m", "gpt-4o-mini", "-f", "-", "describe")
    assert proc.returncode == 0, proc.stderr
    content = openai_fake.chat_requests()[0].body["messages"][0]["content"]
    assert [c["type"] for c in content] == ["image_url", "text"] and content[1]["text"] == "describe"
    proc = piped(user_env, b"just some notes", "ask", "-m", "gpt-4o-mini", "-f", "-")
    assert proc.returncode == 0, proc.stderr
    assert (
        openai_fake.chat_requests()[1].body["messages"][0]["content"]
        == '<file name="stdin">\njust some notes\n</file>'
    )


def test_a_directory_is_summarised_on_stderr(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    setup(user_env, openai_fake)
    src = user_env.root / "src"
    src.mkdir()
    (src / "a.py").write_text("x = 1\n")
    (src / "b.bin").write_bytes(b"\x00\x01")
    openai_fake.queue(oai.text(["ok"]))
    proc = user_env.run("ask", "-m", "gpt-4o-mini", "-f", "src", "review")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "agentchat: src: 1 text files (6 bytes) included; skipped 1 binary or empty\n"
    sent = openai_fake.chat_requests()[0].body["messages"][0]["content"]
    assert sent == '<file name="src/a.py">\nx = 1\n</file>\n\nreview'


def test_bad_inputs_are_one_line_errors_with_nothing_stored_or_sent(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    setup(user_env, openai_fake)
    (user_env.root / "locked.pdf").write_bytes(make_pdf(["x"], password="pw"))
    (user_env.root / "empty").mkdir()
    with web_server({"/big": Page(b"x" * 5000, "text/plain")}) as web:
        user_env.write_config(
            f'[providers.openai]\napi_key = "sk-test"\nbase_url = "{openai_fake.base_url}"\n'
            "[attachments]\nmax_file_bytes = 4000\n"
        )
        cases = [
            (["-f", "missing.txt"], 2, "missing.txt: no such file or directory"),
            (["-f", "locked.pdf"], 2, "encrypted"),
            (["-f", "empty"], 2, "empty: no text files to attach"),
            (["-f", web.url("/nothing")], 5, "HTTP 404"),
            (["-f", web.url("/big")], 5, "larger than the per-file limit"),
        ]
        for args, code, text in cases:
            proc = user_env.run("ask", "-m", "gpt-4o-mini", *args, "hi")
            errors = [line for line in proc.stderr.splitlines() if "unknown table [attachments]" not in line]
            assert proc.returncode == code, (args, proc.stderr)
            assert len(errors) == 1 and text in errors[0], (args, proc.stderr)
    assert openai_fake.chat_requests() == [] and nothing_stored(user_env)


def test_a_pdf_for_a_model_without_pdf_input_goes_as_text_and_a_scan_is_refused(
    user_env: UserEnv, ollama_fake: OllamaFake
) -> None:
    setup(user_env, ollama=ollama_fake)
    (user_env.root / "r.pdf").write_bytes(make_pdf(["Revenue grew."]))
    (user_env.root / "scan.pdf").write_bytes(make_pdf([""]))
    ollama_fake.queue(oll.text(["Yes."]))
    proc = user_env.run("ask", "-p", "ollama", "-m", "llama3.2", "-f", "r.pdf", "grew?")
    assert proc.returncode == 0, proc.stderr
    assert "Revenue grew." in ollama_fake.chat_requests()[0].body["messages"][0]["content"]
    proc = user_env.run("ask", "-p", "ollama", "-m", "llama3.2", "-f", "scan.pdf", "what?")
    assert (
        proc.returncode == 2 and "cannot read PDFs" in proc.stderr and "scan.pdf has no text" in proc.stderr
    )
    assert len(ollama_fake.chat_requests()) == 1


def test_no_log_continues_a_conversation_with_its_attachments(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    setup(user_env, openai_fake)
    (user_env.root / "photo.png").write_bytes(PNG)
    openai_fake.queue(oai.text(["red"]), oai.text(["still red"]))
    assert user_env.run("ask", "-m", "gpt-4o-mini", "-f", "photo.png", "colour?").returncode == 0
    proc = user_env.run("ask", "-c", "--no-log", "sure?")
    assert proc.returncode == 0, proc.stderr
    content = openai_fake.chat_requests()[1].body["messages"][0]["content"]
    assert content[0]["type"] == "image_url"


def test_ask_without_files_loads_no_attachment_library_and_a_text_file_no_imaging(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    setup(user_env, openai_fake)
    (user_env.root / "n.txt").write_text("note")
    openai_fake.queue(oai.text(["ok"]), oai.text(["ok"]))
    proc, loaded = packages_of_cli_run(
        {**user_env.env, "PWD": str(user_env.root)}, "ask", "-m", "gpt-4o-mini", "hi"
    )
    assert proc.returncode == 0, proc.stderr[-500:]
    assert not loaded & HEAVY, sorted(loaded & HEAVY)
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "agentchat", "ask", "-m", "gpt-4o-mini", "-f", "n.txt", "hi"],
        capture_output=True, text=True, env=user_env.env, cwd=user_env.root, stdin=subprocess.DEVNULL, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-500:]
    assert "| PIL" not in proc.stderr and "| pypdf" not in proc.stderr
