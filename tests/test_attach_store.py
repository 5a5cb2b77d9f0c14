"""Attachments in the store and on their way out: migration, blobs once per hash, capability
lookups and overrides, images fitted to a provider's limits."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest

from agentchat.config import Config
from agentchat.core.capabilities import (
    Capabilities,
    apply_overrides,
    ollama_capabilities,
    table_capabilities,
)
from agentchat.core.errors import ConfigError, StoreError
from agentchat.core.images import ImageLimits, fit
from agentchat.core.intake import part_for
from agentchat.core.messages import Message, message_from_dict, message_to_dict
from agentchat.core.store import Store
from agentchat.core.store_schema import MIGRATIONS
from tests.attach_files import make_image


def test_a_version_4_history_gains_the_blob_tables_and_keeps_its_messages(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for step in MIGRATIONS[:4]:
        for statement in step:
            conn.execute(statement)
    conn.execute("PRAGMA user_version=4")
    conn.execute("INSERT INTO conversations (id, created_at, updated_at) VALUES (1, 0, 0)")
    conn.execute(
        "INSERT INTO messages (conversation_id, depth, role, parts, status, created_at) "
        """VALUES (1, 0, 'user', '[{"type":"text","text":"old"}]', 'complete', 0)"""
    )
    conn.close()
    with Store(path) as store:
        assert store.thread(store.leaf(1))[0].text == "old"
        part = part_for("a.png", make_image())
        store.add_message(1, Message.user("new", [part]))
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) >= 5
        assert conn.execute("SELECT count(*) FROM blobs").fetchone()[0] == 1


def test_a_message_naming_a_blob_the_store_does_not_have_is_refused(tmp_path: Path) -> None:
    with Store(tmp_path / "h.db") as store:
        conv = store.create_conversation()
        part = part_for("a.txt", b"hello")
        part.data = None  # a description without its bytes (copied from another history)
        with pytest.raises(StoreError, match=r"a\.txt: its content is not in"):
            store.add_message(conv, Message.user("x", [part]))
        assert store.leaf(conv) is None  # the message went with its transaction


def test_parts_round_trip_without_their_bytes_and_search_finds_the_name(tmp_path: Path) -> None:
    part = part_for("quarterly-report.txt", b"numbers")
    message = Message.user("see attached", [part])
    data = message_to_dict(message)
    assert "data" not in data["parts"][1] and data["parts"][1]["hash"] == part.hash
    assert message_from_dict(data).attachments[0] == part  # equal: the bytes are not compared
    with Store(tmp_path / "h.db") as store:
        conv = store.create_conversation()
        store.add_message(conv, message)
        assert [hit.conversation_id for hit in store.search("quarterly")] == [conv]
        loaded = store.all_messages(conv)
        assert loaded[0].attachments[0].data == b"numbers"


def test_capability_table_aliases_and_overrides(tmp_path: Path) -> None:
    dated = table_capabilities("claude-sonnet-4-5-20250929")
    assert dated is not None and dated.vision and dated.pdf and dated.context_window == 200000
    assert table_capabilities("gpt-4o-2024-08-06") == table_capabilities("gpt-4o")
    o3_mini = table_capabilities("o3-mini")
    assert o3_mini is not None and not o3_mini.vision
    assert table_capabilities("my-model") is None
    base = Capabilities()
    fixed = apply_overrides("llava:13b", base, {"llava:13b": {"vision": True, "context_window": 4096}})
    assert (fixed.vision, fixed.pdf, fixed.context_window) == (True, False, 4096)
    assert "config" in fixed.source
    with pytest.raises(ConfigError, match="unknown key"):
        apply_overrides("m", base, {"m": {"images": True}})
    with pytest.raises(ConfigError, match="must be true or false"):
        apply_overrides("m", base, {"m": {"vision": "yes"}})
    with pytest.raises(ConfigError, match="positive whole number"):
        apply_overrides("m", base, {"m": {"max_output_tokens": 0}})
    from agentchat.core.capabilities import model_overrides

    assert model_overrides(Config(tmp_path / "c.toml", {"models": {"x": {"pdf": True}}})) == {
        "x": {"pdf": True}
    }


def test_ollama_show_tells_vision_and_the_window() -> None:
    caps = ollama_capabilities(
        {
            "capabilities": ["completion", "vision"],
            "model_info": {"general.architecture": "llama", "llama.context_length": 8192},
        }
    )
    assert (caps.vision, caps.pdf, caps.context_window) == (True, False, 8192)
    assert not ollama_capabilities({"capabilities": ["completion"], "model_info": {}}).vision


def test_fit_keeps_what_fits_and_reencodes_what_a_provider_does_not_take() -> None:
    from PIL import Image

    small = make_image(10, 10, "WEBP")
    same = ImageLimits(max_edge=100, max_bytes=10**6)
    assert fit("a", small, "image/webp", same) == (small, "image/webp")
    png_only = ImageLimits(max_edge=100, max_bytes=10**6, media_types=("image/png", "image/jpeg"))
    data, media_type = fit("b", make_image(10, 10, "GIF"), "image/gif", png_only)
    assert media_type == "image/png" and Image.open(io.BytesIO(data)).format == "PNG"
    noisy = Image.effect_noise((600, 600), 100).convert("RGB")
    buf = io.BytesIO()
    noisy.save(buf, format="PNG")
    tight = ImageLimits(max_edge=600, max_bytes=60_000)
    data, media_type = fit("c", buf.getvalue(), "image/png", tight)
    assert len(data) <= 60_000 and media_type == "image/jpeg"
