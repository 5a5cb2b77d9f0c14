"""Attachments through the engine: the real SDKs against the loopback fakes, a real SQLite file.

Each kind reaches each provider in that provider's exact format (the bodies are validated with the
SDKs' own request types), a conversation with an image moves OpenAI -> Anthropic -> Ollama with the
image re-encoded for each, and what a model cannot take is refused before anything is stored.
"""

from __future__ import annotations

import base64
import io
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from agentchat.core.errors import UsageError
from agentchat.core.events import Notice
from agentchat.core.intake import read_inputs
from agentchat.core.turn import TurnRequest
from tests.attach_files import make_image, make_pdf
from tests.fakes import anthropic_fake as anth
from tests.fakes import ollama_fake as oll
from tests.fakes import openai_fake as oai
from tests.streams import text_of
from tests.test_engine import close_engines, make_config, make_engine, run  # noqa: F401 - fixture

PNG = make_image(40, 30)


def attach(tmp_path: Path, name: str, data: bytes) -> list[Any]:
    path = tmp_path / name
    path.write_bytes(data)
    return read_inputs([str(path)]).parts


def openai_valid(message: dict[str, Any]) -> None:
    from openai.types.chat import ChatCompletionMessageParam

    TypeAdapter(ChatCompletionMessageParam).validate_python(message)


def anthropic_valid(message: dict[str, Any]) -> None:
    from anthropic.types import MessageParam

    TypeAdapter(MessageParam).validate_python(message)


def ollama_valid(message: dict[str, Any]) -> None:
    import ollama

    images = [ollama.Image(value=base64.b64decode(i)) for i in message.get("images", [])]
    parsed = ollama.Message.model_validate({**message, "images": images or None})
    assert parsed.model_dump(exclude_none=True) == message  # and it serialises back to the same wire


def blob_count(store: Any) -> int:
    with sqlite3.connect(store.path) as conn:
        return int(conn.execute("SELECT count(*) FROM blobs").fetchone()[0])


async def test_a_conversation_with_an_image_moves_openai_to_anthropic_to_ollama(
    tmp_path: Path, openai_fake: Any, anthropic_fake: Any, ollama_fake: Any
) -> None:
    ollama_fake.models = ["llava:latest"]
    ollama_fake.capabilities = {"llava": ["completion", "vision"]}
    engine, store = make_engine(tmp_path, make_config(tmp_path, openai_fake, anthropic_fake, ollama_fake))
    image = attach(tmp_path, "photo.png", PNG)

    openai_fake.queue(oai.text(["A red square."]))
    events = await run(engine, prompt="What is in this?", model="gpt-4o-mini", attachments=image)
    assert text_of(events) == "A red square."
    conv = events[0].conversation_id
    user = openai_fake.chat_requests()[0].body["messages"][0]
    openai_valid(user)
    assert user == {
        "role": "user",
        "content": [
            {
                "type": "image_url",
                "image_url": {"url": "data:image/png;base64," + base64.b64encode(PNG).decode()},
            },
            {"type": "text", "text": "What is in this?"},
        ],
    }

    anthropic_fake.queue(anth.text(["Still red."]))
    await run(
        engine, prompt="And now?", conversation_id=conv, provider="anthropic", model="claude-sonnet-4-6"
    )
    first = anthropic_fake.chat_requests()[0].body["messages"][0]
    anthropic_valid(first)
    assert first["content"] == [
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": base64.b64encode(PNG).decode()},
        },
        # the end of the turn before the newest: where the last request's cache was written
        {"type": "text", "text": "What is in this?", "cache_control": {"type": "ephemeral"}},
    ]

    ollama_fake.queue(oll.text(["Red."]))
    await run(engine, prompt="Colour?", conversation_id=conv, provider="ollama", model="llava")
    first = ollama_fake.chat_requests()[0].body["messages"][0]
    ollama_valid(first)
    assert first == {
        "role": "user",
        "content": "What is in this?",
        "images": [base64.b64encode(PNG).decode()],
    }
    assert [r.path for r in ollama_fake.requests if r.path == "/api/show"] == ["/api/show"]  # asked once

    stored = store.thread(store.leaf(conv))[0]
    assert [(a.kind, a.media_type, a.name, a.size, a.width, a.height) for a in stored.attachments] == [
        ("image", "image/png", str(tmp_path / "photo.png"), len(PNG), 40, 30)
    ]
    assert stored.attachments[0].data is None  # the message holds the description, the blob the bytes
    assert blob_count(store) == 1


async def test_an_image_for_a_model_without_vision_is_refused_before_anything_is_stored(
    tmp_path: Path, ollama_fake: Any
) -> None:
    engine, store = make_engine(tmp_path, make_config(tmp_path, ollama=ollama_fake))
    image = attach(tmp_path, "photo.png", PNG)
    with pytest.raises(UsageError) as info:
        await run(engine, prompt="What is in this?", provider="ollama", model="llama3.2", attachments=image)
    message = str(info.value)
    assert "\n" not in message and "llama3.2" in message and "cannot take images" in message
    assert "Ollama (/api/show)" in message
    assert store.list_conversations() == [] and ollama_fake.chat_requests() == []
    assert blob_count(store) == 0


async def test_unknown_compatible_models_are_text_only_unless_the_config_says_otherwise(
    tmp_path: Path, openai_fake: Any
) -> None:
    base = {
        "providers": {
            "local": {"enabled": False},
            "lmstudio": {"type": "openai", "base_url": openai_fake.base_url},
        }
    }
    config = make_config(tmp_path, extra=base)
    engine, _store = make_engine(tmp_path, config)
    image = attach(tmp_path, "photo.png", PNG)
    with pytest.raises(UsageError, match="model qwen-vl cannot take images"):
        await run(engine, prompt="What?", provider="lmstudio", model="qwen-vl", attachments=image)
    assert openai_fake.chat_requests() == []

    config.data["models"] = {"qwen-vl": {"vision": True}}
    openai_fake.queue(oai.text(["A square."]))
    await run(engine, prompt="What?", provider="lmstudio", model="qwen-vl", attachments=image)
    content = openai_fake.chat_requests()[0].body["messages"][0]["content"]
    assert content[0]["type"] == "image_url"


async def test_a_pdf_goes_natively_where_the_model_reads_pdfs_else_as_its_text(
    tmp_path: Path, openai_fake: Any, anthropic_fake: Any, ollama_fake: Any
) -> None:
    engine, store = make_engine(tmp_path, make_config(tmp_path, openai_fake, anthropic_fake, ollama_fake))
    pdf_bytes = make_pdf(["Quarterly revenue grew 12 percent.", "Costs fell."])
    pdf = attach(tmp_path, "report.pdf", pdf_bytes)
    encoded = base64.b64encode(pdf_bytes).decode()

    anthropic_fake.queue(anth.text(["12%."]))
    events = await run(engine, prompt="Growth?", model="claude-sonnet-4-6", attachments=pdf)
    conv = events[0].conversation_id
    user = anthropic_fake.chat_requests()[0].body["messages"][0]
    anthropic_valid(user)
    assert user["content"][0] == {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": encoded},
        "title": str(tmp_path / "report.pdf"),
    }

    openai_fake.queue(oai.text(["12%."]))
    await run(engine, prompt="Sure?", conversation_id=conv, provider="openai", model="gpt-4o")
    user = openai_fake.chat_requests()[0].body["messages"][0]
    openai_valid(user)
    assert user["content"][0] == {
        "type": "file",
        "file": {"filename": "report.pdf", "file_data": "data:application/pdf;base64," + encoded},
    }

    ollama_fake.queue(oll.text(["Yes."]))
    await run(engine, prompt="Costs?", conversation_id=conv, provider="ollama", model="llama3.2")
    user = ollama_fake.chat_requests()[0].body["messages"][0]
    ollama_valid(user)
    assert user["content"].startswith(f'<file name="{tmp_path / "report.pdf"}">\n[page 1]\nQuarterly revenue')
    assert user["content"].endswith("Costs fell.\n</file>\n\nGrowth?")
    with sqlite3.connect(store.path) as conn:  # extracted once, kept beside the bytes
        assert "Quarterly revenue" in conn.execute("SELECT text FROM blobs").fetchone()[0]


async def test_a_pdf_without_text_for_a_model_that_reads_no_pdfs_is_refused(
    tmp_path: Path, ollama_fake: Any
) -> None:
    engine, store = make_engine(tmp_path, make_config(tmp_path, ollama=ollama_fake))
    scan = attach(tmp_path, "scan.pdf", make_pdf([""]))
    with pytest.raises(UsageError) as info:
        await run(engine, prompt="Summarise", provider="ollama", model="llama3.2", attachments=scan)
    assert "cannot read PDFs" in str(info.value) and "scan.pdf has no text" in str(info.value)
    assert store.list_conversations() == [] and ollama_fake.chat_requests() == []


async def test_text_files_are_fragments_wrapped_with_their_names_everywhere(
    tmp_path: Path, openai_fake: Any, anthropic_fake: Any, ollama_fake: Any
) -> None:
    engine, _store = make_engine(tmp_path, make_config(tmp_path, openai_fake, anthropic_fake, ollama_fake))
    (tmp_path / "notes.md").write_text("Use tabs.\n")
    note = read_inputs(["notes.md"], cwd=tmp_path).parts
    wrapped = '<file name="notes.md">\nUse tabs.\n</file>'
    openai_fake.queue(oai.text(["ok"]))
    anthropic_fake.queue(anth.text(["ok"]))
    ollama_fake.queue(oll.text(["ok"]))
    await run(engine, prompt="Style?", model="gpt-4o-mini", attachments=note)
    await run(engine, prompt="Style?", model="claude-sonnet-4-6", attachments=note)
    await run(engine, prompt="Style?", provider="ollama", model="llama3.2", attachments=note)
    assert openai_fake.chat_requests()[0].body["messages"][0]["content"] == f"{wrapped}\n\nStyle?"
    assert anthropic_fake.chat_requests()[0].body["messages"][0]["content"] == [
        {"type": "text", "text": wrapped},
        {"type": "text", "text": "Style?", "cache_control": {"type": "ephemeral"}},  # [caching]
    ]
    assert ollama_fake.chat_requests()[0].body["messages"][0] == {
        "role": "user",
        "content": f"{wrapped}\n\nStyle?",
    }


async def test_an_image_in_the_history_of_a_text_only_model_becomes_a_note(
    tmp_path: Path, openai_fake: Any, ollama_fake: Any
) -> None:
    engine, _store = make_engine(tmp_path, make_config(tmp_path, openai_fake, ollama=ollama_fake))
    openai_fake.queue(oai.text(["A red square."]))
    events = await run(
        engine, prompt="What?", model="gpt-4o-mini", attachments=attach(tmp_path, "p.png", PNG)
    )
    ollama_fake.queue(oll.text(["ok"]))
    events = await run(
        engine,
        prompt="Thanks",
        conversation_id=events[0].conversation_id,
        provider="ollama",
        model="llama3.2",
    )
    first = ollama_fake.chat_requests()[0].body["messages"][0]
    assert "images" not in first
    assert first["content"].startswith(
        f"[image attachment {tmp_path / 'p.png'} not sent: llama3.2 does not take images]"
    )
    assert any(isinstance(e, Notice) and "not sent" in e.text for e in events)


async def test_images_over_a_providers_maximum_are_downscaled_for_it_only(
    tmp_path: Path, anthropic_fake: Any, openai_fake: Any
) -> None:
    from PIL import Image

    engine, store = make_engine(tmp_path, make_config(tmp_path, openai_fake, anthropic_fake))
    big = make_image(3000, 1500, "JPEG")
    anthropic_fake.queue(anth.text(["ok"]))
    events = await run(
        engine, prompt="?", model="claude-sonnet-4-6", attachments=attach(tmp_path, "big.jpg", big)
    )
    sent = anthropic_fake.chat_requests()[0].body["messages"][0]["content"][0]["source"]
    with Image.open(io.BytesIO(base64.b64decode(sent["data"]))) as img:
        assert img.size == (1568, 784) and sent["media_type"] == "image/jpeg"
    openai_fake.queue(oai.text(["ok"]))
    await run(
        engine, prompt="?", conversation_id=events[0].conversation_id, provider="openai", model="gpt-4o"
    )
    url = openai_fake.chat_requests()[0].body["messages"][0]["content"][0]["image_url"]["url"]
    with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as img:
        assert img.size == (2048, 1024)
    store.load_attachments(msgs := store.thread(store.leaf(events[0].conversation_id)))
    assert msgs[0].attachments[0].data == big  # the original is what is stored


async def test_the_same_file_attached_in_two_turns_is_stored_once_and_deleted_with_its_last_user(
    tmp_path: Path, openai_fake: Any
) -> None:
    engine, store = make_engine(tmp_path, make_config(tmp_path, openai_fake))
    image = attach(tmp_path, "p.png", PNG)
    openai_fake.queue(oai.text(["a"]), oai.text(["b"]))
    first = await run(engine, prompt="1", model="gpt-4o-mini", attachments=image)
    second = await run(engine, prompt="2", model="gpt-4o-mini", attachments=attach(tmp_path, "p.png", PNG))
    assert blob_count(store) == 1
    store.delete_conversation(first[0].conversation_id)
    assert blob_count(store) == 1  # the second conversation still uses it
    store.delete_conversation(second[0].conversation_id)
    assert blob_count(store) == 0


def test_turn_assembly_carries_the_attachments(tmp_path: Path) -> None:
    from agentchat.core.agents import Agent, Choices, assemble_turn

    parts = attach(tmp_path, "p.png", PNG)
    turn = assemble_turn(make_config(tmp_path), Agent("default"), "hi", choices=Choices(attachments=parts))
    assert isinstance(turn, TurnRequest) and turn.attachments == parts
