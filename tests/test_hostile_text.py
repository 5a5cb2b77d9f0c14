"""Hostile text (issue 11, items 5 and 6) through every CLI output path, and the sanitiser itself.

A model, a tool, an MCP server or a pasted prompt can hold console markup, terminal escape
sequences, control characters, bidi and zero-width characters, 10k-character lines and lone
surrogates. No command may crash on them; on a terminal none of their control sequences may reach
it; piped `ask` output stays the model's exact text. `HOSTILE` is shared with the TUI's fuzz test
(tests/test_tui_hostile_text.py).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from agentchat.core.text import HOLD_LIMIT, StreamCleaner, clean, encodable
from tests.conftest import UserEnv
from tests.fakes import openai_fake as oai
from tests.fakes.openai_fake import OpenAIFake
from tests.terminal import on_terminal

CONTROLS = "\x9b\x85\x7f" + "".join(chr(c) for c in range(32) if c not in (9, 10))  # C1, DEL, C0
HOSTILE = {
    "markup": "[/b] [/] [/INST] [bold red]x [@click=app.quit]y[/] [link=file:///etc/passwd]z[/link] [bold",
    "ansi": "\x1b[2J\x1b[?1049h\x1b[5;31mblink\x1b[0m ansi-end",
    "osc": "\x1b]0;pwned\x07\x1b]52;c;cHduZWQ=\x07\x1b]8;;http://evil/\x1b\\osc-end",
    "controls": f"ctl{CONTROLS}ctl-end",
    "bidi": "\u202eevil\u202c \u200bzero \u2066isolate\u2069 bidi-end",
    "long": "L" * 10_000,
    "surrogate": "bad \ud800 pair",
}
# The store cannot hold a lone surrogate (SQLite wants UTF-8): flows that store text use the rest.
STORABLE = {name: text for name, text in HOSTILE.items() if name != "surrogate"}
# What each looks like once shown: short enough to find on one line of the screen.
MARKERS = {
    "markup": "[/b] [/] [/INST] [bold red]x",
    "ansi": "blink ansi-end",
    "osc": "osc-end",
    "controls": "ctlctl-end",
    "bidi": "evil",
    "long": "L" * 40,
    "surrogate": "bad \ufffd pair",
}
# Sequences a terminal obeys that Rich never writes itself: none may reach a terminal.
LEAKS = ("\x1b[2J", "\x1b[?1049h", "\x1b[5;31m", "\x1b]0;", "\x1b]52;", "\x1b]8;;http://evil", "\x07")
ALL = "\n\n".join(STORABLE.values())


def unsafe_chars(text: str, allowed: str = "\n\t") -> set[str]:
    """Control characters (C0, DEL, C1) and surrogates in `text`, but those `allowed`."""
    return {
        c
        for c in text
        if (ord(c) < 32 or 0x7F <= ord(c) <= 0x9F or 0xD800 <= ord(c) <= 0xDFFF) and c not in allowed
    }


# --- the sanitiser -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", HOSTILE)
def test_clean_removes_every_control_and_keeps_the_text(name: str) -> None:
    cleaned = clean(HOSTILE[name])
    assert not unsafe_chars(cleaned)
    assert MARKERS[name] in cleaned
    assert clean(cleaned) == cleaned


def test_clean_keeps_newlines_tabs_and_plain_text_untouched() -> None:
    text = "a\tb\nc [/b] «d» \u202e\u200b ok"
    assert clean(text) is text  # nothing to do: the same object, no copy
    assert clean("x\r\ny\x1b[31mz\x1b[0m") == "x\nyz"
    assert clean("\x1bc\x1b(B\x1bPq#0\x1b\\\x9d0;t\x9c\x9b2Jend") == "end"
    assert clean("\x1b]0;no terminator") == "]0;no terminator"  # the introducer goes, the rest is text


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64])
def test_a_stream_cleans_sequences_split_across_pieces(size: int) -> None:
    text = "".join(HOSTILE.values()) + "\x1b]0;split title\x1b\\tail\x1b"
    cleaner = StreamCleaner()
    pieces = [cleaner.feed(text[i : i + size]) for i in range(0, len(text), size)]
    assert "".join(pieces) + cleaner.flush() == clean(text)
    assert not any(unsafe_chars(piece) for piece in pieces)


def test_a_stream_holds_back_at_most_the_limit() -> None:
    cleaner = StreamCleaner()
    assert cleaner.feed("a\x1b]0;" + "t" * (HOLD_LIMIT + 10)).startswith("a]0;t")  # gave up: shown
    assert cleaner.feed("x\x1b[3") == "x" and cleaner.feed("1mred") == "red"


def test_encodable_only_replaces_lone_surrogates() -> None:
    assert encodable(ALL) is ALL
    assert encodable("a\ud800b\udfff") == "a\ufffdb\ufffd"


def test_writers_never_fail_on_a_lone_surrogate() -> None:
    """A JSON `"\\ud800"` from a provider decodes to a lone surrogate, which UTF-8 cannot encode:
    the plain writer replaces it, the JSON writer escapes it (exact, as JSON can)."""
    from agentchat.cli.output import AnswerWriter, JsonWriter

    for cls in (AnswerWriter, JsonWriter):
        out, err = (io.TextIOWrapper(io.BytesIO(), encoding="utf-8") for _ in range(2))
        writer = cls(out, err, hold_messages=False, show_usage=False)
        writer.text("bad \ud800 pair")
        writer.thinking("think \udfff")
        writer.finish()
        out.flush()
        written = out.buffer.getvalue().decode()  # type: ignore[attr-defined]
        if cls is JsonWriter:
            assert json.loads(written)["text"] == "bad \ud800 pair"
        else:
            assert written == "bad \ufffd pair\n"


# --- the CLI -------------------------------------------------------------------------------------
def config(fake: OpenAIFake, extra: str = "") -> str:
    return (
        f'[providers.openai]\napi_key = "sk-test"\nbase_url = "{fake.base_url}"\nmodels = ["gpt-4o-mini"]\n'
        f"[retry]\nmax_attempts = 1\n{extra}"
    )


def assert_nothing_leaks(shown: str) -> None:
    """No hostile sequence, no control character a model could have sent (Rich's own ESC and the
    terminal's CR are what a terminal shows anyway)."""
    assert not [leak for leak in LEAKS if leak in shown], repr(shown[-2000:])
    assert not unsafe_chars(shown, allowed="\n\t\r\x1b"), repr(shown[-2000:])
    assert "Traceback" not in shown


def queue_turn(fake: OpenAIFake, text: str) -> str:
    """A tool step (hostile arguments, an unknown tool with a hostile name, narration), then an
    answer with hostile thinking. Returns the answer's text."""
    answer = f"answer:\n\n{text}\n\nend of answer"
    fake.queue(
        oai.tool_calls(
            [("c1", "read_file", {"path": text}), ("c2", f"tool{text}", {"q": text})],
            text=f"narration {text}",
        ),
        oai.text([answer[:7], answer[7:]], reasoning=[f"thinking {text}"]),
    )
    return answer


def test_ask_to_a_pipe_keeps_the_exact_text_and_cleans_stderr(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    user_env.write_config(config(openai_fake))
    answer = queue_turn(openai_fake, ALL)
    proc = subprocess.run(  # bytes: text mode would turn the answer's \r into \n
        [sys.executable, "-m", "agentchat", "ask", "-m", "gpt-4o-mini", "-T", "read_file"],
        input=ALL.encode(),
        capture_output=True,
        env=user_env.env,
        cwd=user_env.root,
        timeout=60,
    )
    stderr = proc.stderr.decode()
    assert proc.returncode == 0, stderr[-2000:]
    assert proc.stdout == (answer + "\n").encode()  # byte-exact: a pipe gets the model's text
    assert not unsafe_chars(stderr) and "Traceback" not in stderr
    assert "tool read_file" in stderr and "thinking [/b] [/]" in stderr
    sent = openai_fake.chat_requests()[0].body["messages"][-1]["content"]
    assert sent == ALL  # what was piped is what the model got


def test_ask_json_keeps_the_exact_text(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    user_env.write_config(config(openai_fake))
    openai_fake.queue(oai.text([ALL]))
    proc = user_env.run("ask", "--json", "-m", "gpt-4o-mini", "hi")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["text"] == ALL
    assert not unsafe_chars(proc.stdout)  # DEL and C1 escaped as JSON escapes them: exact, and inert


def test_ask_on_a_terminal_shows_the_text_without_its_controls(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    user_env.write_config(config(openai_fake))
    queue_turn(openai_fake, ALL)
    code, shown = on_terminal(user_env, "ask", "-m", "gpt-4o-mini", "-T", "read_file", "question")
    assert code == 0, shown[-2000:]
    assert_nothing_leaks(shown)
    assert "[/INST]" in shown and "blink ansi-end" in shown and "end of answer" in shown
    assert "tool read_file" in shown and "thinking [/b]" in shown


def seed_history(user_env: UserEnv) -> None:
    """Conversations titled with each hostile text, holding it in every part, from a model whose
    provider and model names are hostile too (what `stats` and `history` list)."""
    from agentchat.core.messages import Message, TextPart, ThinkingPart, ToolCallPart, ToolResultPart

    with user_env.store() as store:
        for name, text in STORABLE.items():
            conversation = store.create_conversation(title=text)
            user = store.add_message(conversation, Message.user(f"needle {text}"))
            reply = Message(
                role="assistant",
                parts=[
                    ThinkingPart(text),
                    TextPart(f"needle {name} {text}"),
                    ToolCallPart("c1", f"tool{text}", {"arg": text}),
                ],
                parent_id=user,
                provider=text[:40],
                model=text,
                status="complete",
                finish_reason=text,
            )
            reply_id = store.add_message(conversation, reply)
            result = ToolResultPart("c1", text, is_error=True, name=f"tool{text}")
            store.add_message(conversation, Message(role="tool", parts=[result], parent_id=reply_id))


HISTORY_COMMANDS = [
    ("history",),
    ("history", "show", "1"),
    ("history", "show", "3"),
    ("history", "search", "needle"),
    ("history", "export", "2"),
    ("history", "export", "4", "--format", "json"),
    ("stats",),
    ("stats", "--by", "provider,model,day"),
]


@pytest.mark.parametrize("args", HISTORY_COMMANDS, ids=" ".join)
def test_history_and_stats_to_a_pipe(user_env: UserEnv, args: tuple[str, ...]) -> None:
    seed_history(user_env)
    proc = user_env.run(*args)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and not unsafe_chars(proc.stderr)
    if args[:2] == ("history", "show"):  # a pipe gets the stored text as it is
        assert STORABLE["markup" if args[2] == "1" else "osc"] in proc.stdout
    elif args[-1] == "json":  # exact data, every control escaped: inert on a terminal too
        assert json.loads(proc.stdout)["conversation"]["title"] == STORABLE["controls"]
        assert not unsafe_chars(proc.stdout)
    elif args[0] == "stats":
        assert "[/INST]" in proc.stdout  # markup in a model name is text, not a style


@pytest.mark.parametrize("args", HISTORY_COMMANDS, ids=" ".join)
def test_history_and_stats_on_a_terminal(user_env: UserEnv, args: tuple[str, ...]) -> None:
    seed_history(user_env)
    code, shown = on_terminal(user_env, *args)
    assert code == 0, shown[-2000:]
    assert_nothing_leaks(shown)


def hostile_mcp_server(root: Path) -> Path:
    """A stdio MCP server whose tools' descriptions are the hostile texts."""
    tools = "\n".join(
        f"@server.tool(name='t_{name}', description={text!r})\ndef t_{name}() -> str:\n    return 'ok'\n"
        for name, text in STORABLE.items()
    )
    script = root / "hostile_mcp.py"
    script.write_text(
        f"from mcp.server.mcpserver import MCPServer\nserver = MCPServer('hostile')\n{tools}\nserver.run()\n"
    )
    return script


def test_tools_and_models_listings(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    """Tool descriptions come from MCP servers, model names from the provider's listing, failures
    name the command that failed: all of it may be hostile."""
    server = hostile_mcp_server(user_env.root)
    broken = "/nonexistent/" + STORABLE["osc"] + STORABLE["markup"]
    user_env.write_config(
        config(
            openai_fake,
            f'[mcp_servers.hostile]\ncommand = "{sys.executable}"\nargs = ["{server}"]\n'
            f"[mcp_servers.broken]\ncommand = {json.dumps(broken)}\n",
        )
    )
    openai_fake.models = list(STORABLE.values())
    for args in (("tools",), ("models", "--refresh")):
        proc = user_env.run(*args)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "Traceback" not in proc.stderr and not unsafe_chars(proc.stderr)
        assert "[/INST]" in proc.stdout
        assert args != ("tools",) or "broken" in proc.stderr  # the failing server is named
        code, shown = on_terminal(user_env, *args)
        assert code == 0, shown[-2000:]
        assert_nothing_leaks(shown)
        assert "[/INST]" in shown
    openai_fake.models_reply = oai.error(400, ALL)  # a live key check quotes the provider's error
    proc = user_env.run("keys", "--check")
    assert proc.returncode == 0 and "[/INST]" in proc.stdout and not unsafe_chars(proc.stdout + proc.stderr)
    code, shown = on_terminal(user_env, "keys", "--check")
    assert code == 0
    assert_nothing_leaks(shown)


def test_stderr_notices_are_cleaned_always(user_env: UserEnv, openai_fake: OpenAIFake) -> None:
    """Provider errors reach stderr as one line: their text is the provider's."""
    user_env.write_config(config(openai_fake))
    openai_fake.queue(oai.error(400, ALL))
    proc = user_env.run("ask", "-m", "gpt-4o-mini", "hi")
    assert proc.returncode != 0 and proc.returncode != 1, proc.stderr[-2000:]
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    assert not unsafe_chars(proc.stderr) and "[/INST]" in proc.stderr


def test_a_lone_surrogate_from_the_model_is_not_an_internal_error(
    user_env: UserEnv, openai_fake: OpenAIFake
) -> None:
    user_env.write_config(config(openai_fake))
    openai_fake.queue(oai.text([HOSTILE["surrogate"]]))
    proc = user_env.run("ask", "-m", "gpt-4o-mini", "hi")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout == MARKERS["surrogate"] + "\n"
