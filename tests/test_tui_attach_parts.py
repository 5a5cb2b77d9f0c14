"""The parts under the TUI's attachments, without the app: the workspace listing (as git sees
it), the fuzzy ranking, what a paste counts as paths, the chips' labels, the clipboard reader
against stand-in wl-paste and xclip programs; and face parity: `ask -f` and the TUI's chips put
the same request on the wire."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from agentchat.core.intake import part_for
from agentchat.tui.attachments import chip_label, pasted_paths
from agentchat.tui.clipboard import NoClipboardTool, read_clipboard_image
from agentchat.tui.files import list_files, match, rank
from tests.attach_files import make_image, make_pdf
from tests.conftest import UserEnv
from tests.fakes import openai_fake as oai
from tests.test_tui_helpers import SIZE, make_app, ready, settle

PNG = make_image(40, 30)


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


# --- the workspace listing ------------------------------------------------------------------------
def test_the_listing_is_what_git_would_track(tmp_path: Path) -> None:
    repo = tree(
        tmp_path / "repo",
        {
            ".gitignore": "*.log\n/dist/\nsecret*\n",
            ".git/config": "",
            ".git/info/exclude": "scratch.txt\n",
            "app.py": "",
            "scratch.txt": "",
            "run.log": "",
            "dist/app.whl": "",
            "docs/dist/page.md": "",  # /dist/ is anchored at the root: this one stays
            "docs/guide.md": "",
            "web/.gitignore": "node_modules/\n!keep.log\n",
            "web/node_modules/x/index.js": "",
            "web/keep.log": "",
            "web/secret.env": "",
        },
    )
    listing = list_files(repo)
    assert listing.files == [
        ".gitignore", "app.py", "docs/guide.md", "docs/dist/page.md", "web/.gitignore", "web/keep.log",
    ]  # fmt: skip
    assert not listing.capped
    # a subdirectory of the repository: the root's rules still apply, the names are below it
    assert list_files(repo / "web").files == [".gitignore", "keep.log"]


def test_the_listing_stops_at_its_cap_with_shallow_files_first(tmp_path: Path) -> None:
    root = tree(tmp_path, {"a/deep/one.txt": "", "a/two.txt": "", "b.txt": "", "c/three.txt": ""})
    listing = list_files(root, limit=2)
    assert listing.files == ["b.txt", "a/two.txt"] and listing.capped
    assert list_files(root, limit=4).capped is False


def test_the_ranking_prefers_the_file_name_word_starts_and_runs_of_letters() -> None:
    paths = [
        "src/agentchat/tui/app.py",
        "src/agentchat/tui/app.tcss",
        "docs/api/appendix.md",
        "tests/test_tui_app_smoke.py",
        "assets/photo.png",
        "README.md",
    ]
    assert [h.path for h in rank("app", paths)][:2] == [
        "src/agentchat/tui/app.py",
        "src/agentchat/tui/app.tcss",
    ]
    assert rank("tuiapp", paths)[0].path == "tests/test_tui_app_smoke.py"  # all in its name
    assert [h.path for h in rank("tui/app", paths)][:2] == [
        "src/agentchat/tui/app.py",
        "src/agentchat/tui/app.tcss",
    ]
    assert [h.path for h in rank("rdme", paths)] == ["README.md"]
    assert rank("zzz", paths) == []
    assert [h.path for h in rank("", paths)] == paths  # no query: as listed
    hit = match("photo", "assets/photo.png")
    assert hit is not None and hit.positions == (7, 8, 9, 10, 11)  # the highlight is the name's letters
    assert match("PHO", "assets/photo.png") is not None  # case does not matter


# --- pastes and labels ----------------------------------------------------------------------------
def test_what_a_paste_counts_as_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = tree(tmp_path / "ws", {"docs/a.png": "", "notes.md": "", "my docs/b c.png": ""})
    home = tree(tmp_path / "home", {"shot.png": ""})
    monkeypatch.setenv("HOME", str(home))
    absolute = str(ws / "my docs" / "b c.png")
    assert pasted_paths("docs/a.png", ws) == ["docs/a.png"]
    assert pasted_paths("./notes.md\n", ws) == ["./notes.md"]
    assert pasted_paths("~/shot.png", ws) == ["~/shot.png"]
    assert pasted_paths(f"'{absolute}'", ws) == [absolute]  # a drop, quoted
    assert pasted_paths(absolute.replace(" ", "\\ "), ws) == [absolute]  # a drop, backslashed
    assert pasted_paths(absolute, ws) == [absolute]  # spaces as they are
    assert pasted_paths("file://" + absolute.replace(" ", "%20"), ws) == [absolute]
    assert pasted_paths(f"docs/a.png\n{absolute}\n", ws) == ["docs/a.png", absolute]  # one a line
    assert pasted_paths(f"docs/a.png '{absolute}'", ws) == ["docs/a.png", absolute]
    # text, however path-like: a bare word, a missing file, a directory, a path among words
    for text in ("notes.md", "docs/missing.png", "docs", "docs/", "see docs/a.png", "", "don't", "x" * 5000):
        assert pasted_paths(text, ws) is None, text


def test_a_chip_says_what_it_holds_in_a_few_words() -> None:
    assert chip_label(part_for("docs/photo.png", PNG)) == "docs/photo.png · 40×30"
    assert chip_label(part_for("report.pdf", make_pdf(["one", "two"]))) == "report.pdf · 2 pages"
    assert chip_label(part_for("notes.md", b"x" * 2048)) == "notes.md · 2.0 KB"
    long = chip_label(part_for("a/very/long/path/to/some/deeply/nested/notes.md", b"hi"))
    assert long == "…/to/some/deeply/nested/notes.md · 2 bytes"  # 32 columns of name, its end


# --- the clipboard reader, against stand-in tools -------------------------------------------------
def stand_in(bin_dir: Path, name: str, script: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)


@pytest.fixture
def desktop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A session whose only programs are the stand-ins in `bin` (and /bin for sh and cat)."""
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}/bin{os.pathsep}/usr/bin")
    monkeypatch.setattr("sys.platform", "linux")
    (tmp_path / "clip.png").write_bytes(PNG)
    return tmp_path


def test_wl_paste_gives_the_image_it_offers(desktop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    stand_in(
        desktop / "bin",
        "wl-paste",
        f'[ "$1" = --list-types ] && printf "text/plain\\nimage/png\\n" && exit 0\n'
        f'[ "$2" = --type ] && [ "$3" = image/png ] && cat "{desktop / "clip.png"}"\n',
    )
    assert read_clipboard_image() == PNG


def test_xclip_gives_the_image_and_text_alone_is_no_image(
    desktop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISPLAY", ":0")
    targets = desktop / "targets"
    targets.write_text("TARGETS\nimage/png\n")
    stand_in(
        desktop / "bin",
        "xclip",
        f'[ "$4" = TARGETS ] && cat "{targets}" && exit 0\n[ "$4" = image/png ] && cat "{desktop / "clip.png"}"\n',
    )
    assert read_clipboard_image() == PNG
    targets.write_text("TARGETS\nUTF8_STRING\n")
    assert read_clipboard_image() is None


def test_no_tool_is_said_in_words(desktop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")  # a display, but no wl-paste installed
    with pytest.raises(NoClipboardTool, match=r"wl-paste .* xclip .* osascript"):
        read_clipboard_image()


# --- face parity ----------------------------------------------------------------------------------
async def test_ask_f_and_the_tui_chips_send_the_same_request(user_env: UserEnv, openai_fake: Any) -> None:
    from agentchat.config import load_config

    (user_env.root / "photo.png").write_bytes(PNG)
    (user_env.root / "notes.md").write_text("Prefer the standard library.\n")
    user_env.write_config(
        f'workspace = "{user_env.root}"\n\n[providers.openai]\napi_key = "sk-test"\n'
        f'base_url = "{openai_fake.base_url}"\nmodels = ["gpt-4o-mini"]\n'
    )
    openai_fake.queue(oai.text(["Red."]), oai.text(["Red."]))
    proc = user_env.run("ask", "-m", "gpt-4o-mini", "-f", "photo.png", "-f", "notes.md", "What is this?")
    assert proc.returncode == 0, proc.stderr

    app = make_app(user_env, load_config(user_env.config_path))
    assert app.workspace == user_env.root
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.screen.attach.add_files(["photo.png", "notes.md"])  # type: ignore[attr-defined]
        await settle(pilot)
        app.screen.query_one("#prompt").load_text("What is this?")  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot)
    from_ask, from_tui = (r.body for r in openai_fake.chat_requests())
    # Each conversation has its own cache key; everything else is the same body.
    assert from_ask.pop("prompt_cache_key") != from_tui.pop("prompt_cache_key")
    assert from_tui == from_ask
    assert [c["type"] for c in from_ask["messages"][-1]["content"]] == ["image_url", "text", "text"]
