"""Attachments against a REAL OpenAI-compatible peer: llama.cpp's server with SmolLM2 (text only).

A text file and a PDF (its extracted text) reach it as one string of content, which it accepts and
answers; an image is refused before anything is sent, since an unknown compatible model is
text-only unless the config says otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agentchat.core.errors import UsageError
from agentchat.core.intake import read_inputs
from tests.attach_files import make_image, make_pdf
from tests.streams import text_of
from tests.test_engine import close_engines, make_config, make_engine, run  # noqa: F401 - fixture
from tests.test_llama_server import server  # noqa: F401 - the module's llama.cpp server fixture


def llama_config(tmp_path: Path, base_url: str) -> Any:
    providers = {"local": {"enabled": False}, "llamacpp": {"type": "openai", "base_url": base_url}}
    return make_config(tmp_path, extra={"providers": providers})


async def test_text_and_pdf_attachments_reach_llama_cpp_as_text(tmp_path: Path, server: str) -> None:  # noqa: F811
    engine, store = make_engine(tmp_path, llama_config(tmp_path, server))
    (tmp_path / "notes.txt").write_text("The password is swordfish.\n")
    (tmp_path / "memo.pdf").write_bytes(make_pdf(["The meeting is on Tuesday."]))
    parts = read_inputs(["notes.txt", "memo.pdf"], cwd=tmp_path).parts
    events = await run(
        engine,
        prompt="Say hello.",
        provider="llamacpp",
        model="smollm2",
        max_tokens=8,
        temperature=0,
        attachments=parts,
    )
    assert text_of(events).strip()  # the real server took the request and answered
    conv = events[0].conversation_id
    stored = store.thread(store.leaf(conv))[0]
    assert [a.kind for a in stored.attachments] == ["text", "pdf"]


async def test_an_image_is_refused_before_llama_cpp_sees_anything(tmp_path: Path, server: str) -> None:  # noqa: F811
    engine, store = make_engine(tmp_path, llama_config(tmp_path, server))
    (tmp_path / "p.png").write_bytes(make_image())
    parts = read_inputs(["p.png"], cwd=tmp_path).parts
    with pytest.raises(UsageError, match="model smollm2 cannot take images"):
        await run(engine, prompt="What?", provider="llamacpp", model="smollm2", attachments=parts)
    assert store.list_conversations() == []


# The real llama.cpp (its server and the embedded model) is a real peer: run with `-m peers` (.ci/run),
# which keeps the default run inside its time budget.
pytestmark = pytest.mark.peers
