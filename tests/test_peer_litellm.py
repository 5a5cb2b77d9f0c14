"""The Anthropic adapter against a REAL peer: a LiteLLM proxy's `POST /v1/messages`.

Our other Anthropic tests drive the real `anthropic` SDK against our own fake, which agrees with
our adapter because we wrote both. Here LiteLLM (pinned 1.106.12, installed by
`tests/peers/install_litellm.sh` into .peers/litellm) translates Anthropic Messages to Chat
Completions for a scripted OpenAI-compatible backend (`tests/peers/scripted_server.py`, a separate
process), and the assertions are on what reaches that backend and on what the user sees.

    user -> agentchat (anthropic SDK) -> LiteLLM /v1/messages -> scripted backend /v1/chat/completions
    user -> agentchat (openai SDK) ------------------------------> the same backend (switching)

What LiteLLM 1.106.12 does, as measured here (and why the config below looks as it does):
- `/v1/messages` for an `openai/…` deployment goes to the backend's `/v1/responses` unless
  `use_chat_completions_url_for_anthropic_messages`; a request with `thinking` still goes there
  unless the deployment says `supports_reasoning: false` (then it becomes `reasoning_effort`).
- message_start carries all-zero usage (placeholders); the real counts come in message_delta.
- It retries the backend's 429/5xx twice by itself (3 attempts, without the retry-after) and
  then puts the only deployment in a cooldown in which every request is refused with a 429
  naming no backend error: `num_retries: 0` and `disable_cooldowns` keep these tests exact.
- Reasoning (`reasoning_content`) comes back as an unsigned thinking block.
- Errors keep the backend's status (a backend 401 too, so it reads as our key being rejected),
  wrapped as `litellm.<Class>: … OpenAIException - <message>` plus a paragraph naming the model
  group, without the backend's retry-after. A backend error or a cut connection mid-stream
  becomes `event: error` with `api_error`; text read together with a cut can be lost.
- A key other than the master key gets HTTP 400 `no_db_connection` ("No connected db."), not 401.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agentchat.core.events import Finish, ProviderEvent, TextDelta, UsageReport
from agentchat.core.messages import Message, Usage
from agentchat.core.request import ChatRequest, ProviderSettings
from agentchat.providers.anthropic import AnthropicProvider
from tests.conftest import REPO, SCRUB, UserEnv
from tests.fakes.base import Recorded
from tests.fakes.openai_fake import error, midstream_error, text, tool_calls, usage
from tests.loopback import free_port, wait_answering
from tests.peers.scripted_server import ScriptedServer, scripted_server

pytestmark = pytest.mark.peers

LITELLM_VERSION = "1.106.12"  # the one tests/peers/install_litellm.sh installs
VENV = Path(os.environ.get("LITELLM_VENV") or REPO / ".peers" / "litellm")
INSTALL_HINT = "run tests/peers/install_litellm.sh"
READY_TIMEOUT_S = 120.0  # about 8 s on 2 idle cores; the machine is shared
MASTER_KEY = "sk-litellm-master-peer-test"  # what agentchat sends as its Anthropic key
ALIAS = "claude-peer-scripted"  # claude-… routes to agentchat's Anthropic provider
BACKEND_MODEL = "scripted-model"
KEY_VIA_LITELLM = "sk-backend-via-litellm"  # tells at the backend which way a request came
KEY_DIRECT = "sk-backend-direct"


@dataclass
class LiteLLM:
    """A running proxy and the scripted backend behind it."""

    root: str
    backend: ScriptedServer
    log: Path


def proxy_config(backend: ScriptedServer) -> dict[str, Any]:
    """The proxy's config.yaml, written as JSON (a YAML parser reads JSON)."""
    return {
        "model_list": [
            {
                "model_name": ALIAS,
                "litellm_params": {
                    "model": f"openai/{BACKEND_MODEL}",
                    "api_base": backend.base_url,
                    "api_key": KEY_VIA_LITELLM,
                },
                # Otherwise a request with `thinking` is sent to /v1/responses, which the backend lacks.
                "model_info": {"supports_reasoning": False},
            }
        ],
        "general_settings": {"master_key": MASTER_KEY},  # it refuses to start without one
        "litellm_settings": {
            "use_chat_completions_url_for_anthropic_messages": True,
            "drop_params": True,
            "num_retries": 0,  # one backend request per agentchat attempt
        },
        "router_settings": {"disable_cooldowns": True},  # a failure must not refuse the next test
    }


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the proxy's own process group (it was started in a new session), then SIGKILL."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture(scope="module")
def litellm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiteLLM]:
    """One proxy (and backend) for the module: starting LiteLLM takes seconds. Always stopped."""
    exe = VENV / "bin" / "litellm"
    if not (exe.exists() and (VENV / f".installed-litellm-{LITELLM_VERSION}").exists()):
        pytest.skip(f"LiteLLM proxy {LITELLM_VERSION} is not installed in {VENV}: {INSTALL_HINT}")
    work = tmp_path_factory.mktemp("litellm")
    with scripted_server() as backend:
        config = work / "config.yaml"
        config.write_text(json.dumps(proxy_config(backend), indent=2))
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in SCRUB and not k.startswith("LITELLM")}
        env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # no download of the price list
        log = work / "litellm.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [str(exe), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
                cwd=work,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            root = f"http://127.0.0.1:{port}"
            wait_answering(f"{root}/health/liveliness", proc, log, "LiteLLM", READY_TIMEOUT_S)
            yield LiteLLM(root, backend, log)
        finally:
            stop(proc)


@pytest.fixture
def peer(litellm: LiteLLM) -> LiteLLM:
    """The module's proxy with a backend that has no script and no record yet."""
    litellm.backend.reset()
    return litellm


@pytest.fixture
def user(user_env: UserEnv, peer: LiteLLM) -> UserEnv:
    """A user whose Anthropic provider is the proxy and whose OpenAI provider is the backend itself."""
    user_env.write_config(
        f"""
[providers.anthropic]
api_key = "{MASTER_KEY}"
base_url = "{peer.root}"

[providers.openai]
api_key = "{KEY_DIRECT}"
base_url = "{peer.backend.base_url}"
models = ["{BACKEND_MODEL}"]

[retry]
max_attempts = 2
base_delay = 0.01
max_delay = 0.01
"""
    )
    return user_env


# --- helpers ---------------------------------------------------------------------------------------


def content_text(content: Any) -> str:
    """A Chat Completions `content` (a string, or the list of text parts LiteLLM makes) as text."""
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content or [] if part.get("type") == "text")


def dialogue(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(role, text) of every message a backend request carries."""
    return [(m["role"], content_text(m.get("content"))) for m in body["messages"]]


def came_via_litellm(req: Recorded) -> bool:
    return req.header("authorization") == f"Bearer {KEY_VIA_LITELLM}"


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("agentchat: error:")]


def assistant_messages(user: UserEnv) -> list[Message]:
    with user.store() as store:
        cid = store.most_recent_conversation()
        assert cid is not None
        return [m for m in store.all_messages(cid) if m.role == "assistant"]


def adapter(peer: LiteLLM) -> AnthropicProvider:
    settings = ProviderSettings(name="anthropic", type="anthropic", base_url=peer.root, api_key=MASTER_KEY)
    return AnthropicProvider(settings)


async def collect(provider: AnthropicProvider, request: ChatRequest) -> list[ProviderEvent]:
    return [event async for event in provider.stream(request)]


# --- streaming and non-streaming -------------------------------------------------------------------


def test_a_reply_streams_through_litellm(user: UserEnv, peer: LiteLLM) -> None:
    peer.backend.queue(text(["Hello", " from", " the backend"], usage=usage(21, 3)))

    result = user.run("ask", "-m", ALIAS, "-s", "Be brief.", "hi there")

    assert (result.returncode, result.stdout) == (0, "Hello from the backend\n"), result.stderr
    (req,) = peer.backend.chat_requests()
    assert came_via_litellm(req)
    assert req.body["model"] == BACKEND_MODEL and req.body["stream"] is True
    assert dialogue(req.body) == [("system", "Be brief."), ("user", "hi there")]
    (reply,) = assistant_messages(user)
    assert (reply.provider, reply.model, reply.status, reply.finish_reason) == (
        "anthropic",
        ALIAS,
        "complete",
        "stop",
    )
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (21, 3)


async def test_the_adapter_gets_each_delta_and_the_final_usage(peer: LiteLLM) -> None:
    """In-process: LiteLLM passes the backend's chunks on one by one (it does not buffer), and its
    placeholder zeros in message_start are not taken for a 0-token prompt."""
    peer.backend.queue(text(["Hel", "lo", " there"], usage=usage(30, 4, cached=10)))
    provider = adapter(peer)
    try:
        events = await collect(provider, ChatRequest(model=ALIAS, messages=[Message.user("hi")]))
    finally:
        await provider.aclose()

    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Hel", "lo", " there"]
    reports = [e.usage for e in events if isinstance(e, UsageReport)]
    assert reports[0] == Usage()  # LiteLLM's message_start says 0 input tokens: not a count
    assert reports[-1] == Usage(input_tokens=30, output_tokens=4, cached_tokens=10)
    assert events[-1] == Finish("stop")


def test_no_stream_works_through_litellm(user: UserEnv, peer: LiteLLM) -> None:
    peer.backend.queue(text(["Whole", " reply"], usage=usage(9, 2)))

    result = user.run("ask", "--no-stream", "-m", ALIAS, "hi")

    assert (result.returncode, result.stdout) == (0, "Whole reply\n"), result.stderr
    (req,) = peer.backend.chat_requests()
    assert not req.body.get("stream")
    (reply,) = assistant_messages(user)
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (9, 2)


async def test_models_are_listed_through_litellm(peer: LiteLLM) -> None:
    provider = adapter(peer)
    try:
        assert await provider.list_models() == [ALIAS]
    finally:
        await provider.aclose()


# --- conversations ---------------------------------------------------------------------------------


def test_a_continued_conversation_carries_the_first_turn(user: UserEnv, peer: LiteLLM) -> None:
    peer.backend.queue(text(["Paris."]), text(["About 2.1 million."]))

    first = user.run("ask", "-m", ALIAS, "Capital of France?")
    second = user.run("ask", "-c", "-m", ALIAS, "Its population?")

    assert (first.stdout, second.stdout) == ("Paris.\n", "About 2.1 million.\n"), second.stderr
    later = peer.backend.chat_requests()[1]
    assert came_via_litellm(later)
    assert dialogue(later.body) == [
        ("user", "Capital of France?"),
        ("assistant", "Paris."),
        ("user", "Its population?"),
    ]


def test_cache_breakpoints_pass_through_and_the_backends_cache_reads_come_back(
    user: UserEnv, peer: LiteLLM
) -> None:
    """[caching] is on by default: the system prompt and the user turns carry cache_control, which
    LiteLLM takes (and drops on the way to a Chat Completions backend); the backend's cached
    prompt tokens come back as Anthropic cache reads, shown by --json."""
    peer.backend.queue(
        text(["Paris."], usage=usage(2000, 3)), text(["2.1 million."], usage=usage(2100, 3, cached=1900))
    )

    first = user.run("ask", "-m", ALIAS, "-s", "Be brief.", "Capital of France?")
    second = user.run("ask", "--json", "-c", "-m", ALIAS, "Its population?")

    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert json.loads(second.stdout)["cache_read_tokens"] == 1900
    assert dialogue(peer.backend.chat_requests()[1].body) == [
        ("system", "Be brief."),
        ("user", "Capital of France?"),
        ("assistant", "Paris."),
        ("user", "Its population?"),
    ]


def test_switching_provider_mid_conversation_keeps_the_history(user: UserEnv, peer: LiteLLM) -> None:
    """openai (straight to the backend) -> anthropic (through LiteLLM) -> openai again."""
    peer.backend.queue(text(["One."]), text(["Two."]), text(["Three."]))

    runs = [
        user.run("ask", "-m", BACKEND_MODEL, "Count: first?"),
        user.run("ask", "-c", "-m", ALIAS, "second?"),
        user.run("ask", "-c", "-m", BACKEND_MODEL, "third?"),
    ]

    assert [r.stdout for r in runs] == ["One.\n", "Two.\n", "Three.\n"], [r.stderr for r in runs]
    reqs = peer.backend.chat_requests()
    assert [came_via_litellm(r) for r in reqs] == [False, True, False]
    assert reqs[1].header("authorization") != f"Bearer {MASTER_KEY}"  # LiteLLM uses its own key
    assert dialogue(reqs[1].body) == [("user", "Count: first?"), ("assistant", "One."), ("user", "second?")]
    assert dialogue(reqs[2].body) == [
        ("user", "Count: first?"),
        ("assistant", "One."),
        ("user", "second?"),
        ("assistant", "Two."),
        ("user", "third?"),
    ]
    assert [m.provider for m in assistant_messages(user)] == ["openai", "anthropic", "openai"]


# --- tools -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "no-stream"])
def test_a_tool_call_round_trip_through_litellm(user: UserEnv, peer: LiteLLM, stream: bool) -> None:
    """The backend asks for read_file; LiteLLM turns it into a tool_use block, agentchat runs the
    tool, and the tool_result comes back to the backend as an OpenAI tool message."""
    (user.root / "notes.txt").write_text("the secret word is peer\n")
    peer.backend.queue(
        tool_calls([("call_peer_read", "read_file", {"path": "notes.txt"})]),
        text(["The secret word is peer."]),
    )

    flags = [] if stream else ["--no-stream"]
    result = user.run("ask", *flags, "-m", ALIAS, "-T", "read_file", "What does notes.txt say?")

    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("The secret word is peer.\n")
    first, follow_up = peer.backend.chat_requests()
    assert [t["function"]["name"] for t in first.body["tools"]] == ["read_file"]
    assert "path" in first.body["tools"][0]["function"]["parameters"]["properties"]
    assistant, tool = follow_up.body["messages"][1:]
    (call,) = assistant["tool_calls"]
    assert (call["id"], call["function"]["name"]) == ("call_peer_read", "read_file")
    assert json.loads(call["function"]["arguments"]) == {"path": "notes.txt"}
    assert (tool["role"], tool["tool_call_id"]) == ("tool", "call_peer_read")
    assert "the secret word is peer" in content_text(tool["content"])


def test_a_tool_turn_made_on_openai_continues_through_litellm(user: UserEnv, peer: LiteLLM) -> None:
    """The tool call and result stored from an OpenAI turn reach the backend intact after two
    translations: ours (neutral -> Anthropic blocks) and LiteLLM's (blocks -> Chat Completions)."""
    peer.backend.queue(
        tool_calls([("call_now_1", "now", {})]),
        text(["It is morning."]),
        text(["Still morning."]),
    )

    first = user.run("ask", "-m", BACKEND_MODEL, "-T", "now", "What time is it?")
    second = user.run("ask", "-c", "-m", ALIAS, "-T", "now", "And now?")

    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert second.stdout == "Still morning.\n"
    direct_result = peer.backend.chat_requests()[1].body["messages"][2]
    via = peer.backend.chat_requests()[2]
    assert came_via_litellm(via)
    user_q, assistant, tool, answer, user_q2 = via.body["messages"]
    assert content_text(user_q["content"]) == "What time is it?"
    assert [(c["id"], c["function"]["name"]) for c in assistant["tool_calls"]] == [("call_now_1", "now")]
    assert (tool["role"], tool["tool_call_id"]) == ("tool", "call_now_1")
    assert content_text(tool["content"]) == content_text(direct_result["content"])
    assert (answer["role"], content_text(answer["content"])) == ("assistant", "It is morning.")
    assert (user_q2["role"], content_text(user_q2["content"])) == ("user", "And now?")


# --- sampling and thinking -------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "no-stream"])
def test_temperature_reaches_the_backend(user: UserEnv, peer: LiteLLM, stream: bool) -> None:
    """anthropic 2.17 dropped `temperature` from messages.create; it travels in the body."""
    peer.backend.queue(text(["cool"]), text(["plain"]))
    flags = [] if stream else ["--no-stream"]

    hot = user.run("ask", *flags, "-t", "0.2", "-m", ALIAS, "hi")
    plain = user.run("ask", *flags, "-m", ALIAS, "hi")

    assert (hot.returncode, hot.stdout, plain.stdout) == (0, "cool\n", "plain\n"), hot.stderr
    with_t, without_t = peer.backend.chat_requests()
    assert with_t.body["temperature"] == 0.2
    assert "temperature" not in without_t.body


def test_a_thinking_budget_becomes_reasoning_effort_and_thinking_comes_back(
    user: UserEnv, peer: LiteLLM
) -> None:
    """LiteLLM maps `thinking` to `reasoning_effort` and the backend's reasoning_content to an
    unsigned thinking block, which agentchat stores but never sends back as signed thinking."""
    peer.backend.queue(text(["42."], reasoning=["Let me ", "think."]), text(["Yes."]))

    first = user.run("ask", "--json", "--thinking-budget", "2048", "-m", ALIAS, "Answer?")
    second = user.run("ask", "-c", "--thinking-budget", "2048", "-m", ALIAS, "Sure?")

    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert json.loads(first.stdout)["text"] == "42."
    reqs = peer.backend.chat_requests()
    assert reqs[0].body["reasoning_effort"] == "medium"
    assert "temperature" not in reqs[0].body
    assert assistant_messages(user)[0].thinking == "Let me think."
    assert dialogue(reqs[1].body) == [("user", "Answer?"), ("assistant", "42."), ("user", "Sure?")]


# --- errors ----------------------------------------------------------------------------------------


def test_a_backend_400_is_one_line_and_exit_2(user: UserEnv, peer: LiteLLM) -> None:
    peer.backend.queue(error(400, "Invalid 'messages[0].content': string too long."))

    result = user.run("ask", "-m", ALIAS, "hi")

    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = error_lines(result.stderr)
    assert line.startswith("agentchat: error: anthropic: HTTP 400 invalid_request_error:")
    assert "Invalid 'messages[0].content': string too long." in line
    assert len(peer.backend.chat_requests()) == 1  # a bad request is not retried by anyone


def test_a_backend_500_is_retried_then_one_line_and_exit_4(user: UserEnv, peer: LiteLLM) -> None:
    peer.backend.queue(error(500, "upstream exploded"), error(500, "upstream exploded"))

    result = user.run("ask", "-m", ALIAS, "hi")

    assert result.returncode == 4, result.stderr
    (line,) = error_lines(result.stderr)
    assert line.startswith("agentchat: error: anthropic: HTTP 500 api_error:")
    assert "upstream exploded" in line
    assert len(result.stderr.splitlines()) == 2  # one "retrying" line, one error line
    assert len(peer.backend.chat_requests()) == 2  # [retry] max_attempts = 2, LiteLLM's own off


def test_a_backend_error_mid_stream_keeps_the_partial_reply_and_resume_continues_it(
    user: UserEnv, peer: LiteLLM
) -> None:
    peer.backend.queue(midstream_error(["Par", "tial"], "the backend fell over"), text([" reply."]))

    result = user.run("ask", "-m", ALIAS, "hi")

    assert result.returncode == 5
    assert result.stdout.startswith("Partial")
    (line,) = error_lines(result.stderr)
    assert "the stream broke off" in line and "the backend fell over" in line
    (reply,) = assistant_messages(user)
    assert (reply.status, reply.text) == ("interrupted", "Partial")
    assert reply.usage.input_tokens is None  # LiteLLM's placeholder 0 is not stored as a count

    resumed = user.run("ask", "-c", "--resume", "-m", ALIAS)

    assert (resumed.returncode, resumed.stdout) == (0, " reply.\n"), resumed.stderr
    prefill = peer.backend.chat_requests()[1]
    assert dialogue(prefill.body) == [
        ("user", "hi"),
        ("assistant", "Partial"),
    ]  # LiteLLM keeps the prefill last


def test_a_backend_connection_cut_mid_stream_keeps_the_partial_reply(user: UserEnv, peer: LiteLLM) -> None:
    """LiteLLM turns the cut into `event: error` (api_error) after what it had forwarded. Text read
    together with the cut can be lost, so the chunks are paced (the first is 1 s ahead of the cut)."""
    peer.backend.queue(text(["a", "b", "c", "d", "e", "f"], drop_after=6, delay_s=0.2))

    result = user.run("ask", "-m", ALIAS, "hi")

    assert result.returncode == 5, result.stderr
    partial = result.stdout.strip()
    assert partial and "abcde".startswith(partial)
    (line,) = error_lines(result.stderr)
    assert "the stream broke off" in line and "Response payload is not completed" in line
    assert len(peer.backend.chat_requests()) == 1  # a reply that had begun is never sent again


def test_a_wrong_key_or_model_is_one_line_and_exit_2(user: UserEnv, peer: LiteLLM) -> None:
    """Measured LiteLLM behaviour: without a database it cannot look up a key that is not the master
    key, and says so with a 400 (`no_db_connection`), not a 401; an unknown alias is a 400 too."""
    unknown = user.run("ask", "-m", "claude-not-on-the-proxy", "hi")
    user.config_path.write_text(user.config_path.read_text().replace(MASTER_KEY, "sk-not-the-master-key"))
    wrong_key = user.run("ask", "-m", ALIAS, "hi")

    assert (unknown.returncode, wrong_key.returncode) == (2, 2)
    (line,) = error_lines(unknown.stderr)
    assert "HTTP 400" in line and "Invalid model name passed in model=claude-not-on-the-proxy" in line
    (line,) = error_lines(wrong_key.stderr)
    assert "HTTP 400 no_db_connection" in line
    assert "sk-not-the-master-key" not in wrong_key.stderr
    assert peer.backend.chat_requests() == []
