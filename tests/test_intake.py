"""Reading attachments (core.intake): every kind of input, every kind of bad input, the caps.
URLs are served from 127.0.0.1 (tests/attach_files.py): no network."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from agentchat.core.errors import UsageError
from agentchat.core.intake import Limits, limits_from, read_inputs
from agentchat.core.urls import FetchError, html_to_markdown
from tests.attach_files import Page, make_image, make_pdf, web_server


def one(source: str, tmp_path: Path, **kwargs: object):  # type: ignore[no-untyped-def]
    intake = read_inputs([source], cwd=tmp_path, **kwargs)  # type: ignore[arg-type]
    assert len(intake.parts) == 1
    return intake.parts[0]


def refused(source: str, tmp_path: Path, **kwargs: object) -> str:
    with pytest.raises(UsageError) as info:
        read_inputs([source], cwd=tmp_path, **kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message
    return message


def test_a_text_file_is_a_text_attachment_with_its_hash_and_type(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text("print('hi')\n")
    part = one("main.py", tmp_path)
    assert (part.kind, part.media_type, part.name, part.size) == ("text", "text/x-python", "main.py", 12)
    assert part.hash == hashlib.sha256(b"print('hi')\n").hexdigest() and part.data == b"print('hi')\n"


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("GIF", "image/gif"), ("WEBP", "image/webp")],
)
def test_images_are_checked_and_measured(tmp_path: Path, fmt: str, media_type: str) -> None:
    (tmp_path / "pic").write_bytes(make_image(12, 7, fmt))  # no suffix: the bytes decide
    part = one("pic", tmp_path)
    assert (part.kind, part.media_type, part.width, part.height) == ("image", media_type, 12, 7)


def test_a_pdf_is_checked_and_its_pages_counted(tmp_path: Path) -> None:
    (tmp_path / "r.pdf").write_bytes(make_pdf(["one", "two", "three"]))
    part = one("r.pdf", tmp_path)
    assert (part.kind, part.media_type, part.pages) == ("pdf", "application/pdf", 3)


def test_bad_files_are_one_line_errors(tmp_path: Path) -> None:
    assert refused("nope.txt", tmp_path) == "nope.txt: no such file or directory"
    (tmp_path / "broken.png").write_bytes(make_image()[:40])
    assert refused("broken.png", tmp_path).startswith("broken.png: broken image")
    (tmp_path / "fake.png").write_text("not an image")
    assert refused("fake.png", tmp_path).startswith("fake.png: broken image")
    (tmp_path / "pic.bmp").write_bytes(make_image(fmt="BMP"))
    assert "unsupported image format bmp" in refused("pic.bmp", tmp_path)
    (tmp_path / "locked.pdf").write_bytes(make_pdf(["secret"], password="pw"))
    assert "encrypted" in refused("locked.pdf", tmp_path)
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.7\nnothing else")
    assert refused("bad.pdf", tmp_path).startswith("bad.pdf: not a readable PDF")
    (tmp_path / "blob.bin").write_bytes(bytes(range(256)) * 4)
    assert "unknown media type" in refused("blob.bin", tmp_path)


def test_an_unreadable_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("x")
    secret.chmod(0)
    if os.geteuid() == 0:  # root reads any file: make the open fail as it would for a user

        def denied(*args: object, **kwargs: object) -> None:
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr("agentchat.core.intake.open", denied, raising=False)
    assert refused("secret.txt", tmp_path) == "secret.txt: permission denied"


def test_caps_per_file_and_per_turn(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a" * 600)
    (tmp_path / "b.txt").write_text("b" * 600)
    assert "per-file limit" in refused("a.txt", tmp_path, limits=Limits(max_file_bytes=500))
    with pytest.raises(UsageError, match="per-turn limit"):
        read_inputs(["a.txt", "b.txt"], Limits(max_turn_bytes=1000), cwd=tmp_path)


def test_stdin_is_an_attachment_binary_allowed_and_sniffed(tmp_path: Path) -> None:
    png = make_image(3, 2)
    part = one("-", tmp_path, stdin=io.BytesIO(png))
    assert (part.kind, part.name, part.media_type, part.data) == ("image", "stdin", "image/png", png)
    assert one("-", tmp_path, stdin=io.BytesIO(b"plain words")).kind == "text"
    assert refused("-", tmp_path, stdin=io.BytesIO(b"")) == "-f -: standard input is empty"

    class Terminal(io.BytesIO):
        def isatty(self) -> bool:
            return True

    assert "standard input is a terminal" in refused("-", tmp_path, stdin=Terminal(b"typed"))


def test_a_directory_gives_its_text_files_respecting_gitignore(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / ".gitignore").write_text("*.log\nbuild/\n")
    (repo / "src" / "pkg").mkdir(parents=True)
    (repo / "src" / ".gitignore").write_text("secret.txt\n!keep.log\n")
    (repo / "src" / "a.py").write_text("A\n")
    (repo / "src" / "pkg" / "b.py").write_text("B\n")
    (repo / "src" / "secret.txt").write_text("no")
    (repo / "src" / "keep.log").write_text("kept")
    (repo / "src" / "noise.log").write_text("no")
    (repo / "build").mkdir()
    (repo / "build" / "out.txt").write_text("no")
    (repo / "src" / "logo.png").write_bytes(make_image())
    (repo / "src" / "data.bin").write_bytes(b"\x00\x01")
    intake = read_inputs(["repo/src"], cwd=tmp_path)  # the repository root's .gitignore applies too
    names = ["repo/src/.gitignore", "repo/src/a.py", "repo/src/keep.log", "repo/src/pkg/b.py"]
    assert [p.name for p in intake.parts] == names  # as git sees them: the .gitignore is a file too
    assert intake.notes == [
        "repo/src: 4 text files (29 bytes) included; skipped 2 binary or empty, 2 ignored (.gitignore, .git)"
    ]


def test_a_directory_stops_at_its_cap_and_one_with_nothing_usable_is_refused(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(5):
        (docs / f"{i}.md").write_text("x" * 100)
    intake = read_inputs(["docs"], Limits(max_dir_bytes=250), cwd=tmp_path)
    assert len(intake.parts) == 2 and "3 over the directory limit" in intake.notes[0]
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "x").write_bytes(b"\x00" * 10)
    assert refused("bin", tmp_path) == "bin: no text files to attach (1 binary or empty)"
    (tmp_path / "empty").mkdir()
    assert refused("empty", tmp_path) == "empty: no text files to attach (it is empty)"


def test_urls_html_becomes_markdown_images_and_pdfs_by_content_type(tmp_path: Path) -> None:
    html = b"<html><head><title>Guide</title><script>alert(1)</script></head><body><h2>Install</h2><p>Run <b>pip</b>.</p><style>p{}</style></body></html>"
    pdf = make_pdf(["web pdf"])
    png = make_image(5, 5)
    with web_server({"/g": Page(html), "/p": Page(pdf, "application/pdf"), "/i": Page(png, "image/png"),
                     "/t": Page(b"just text", "text/plain")}) as web:  # fmt: skip
        guide = one(web.url("/g"), tmp_path)
        assert (guide.kind, guide.media_type, guide.name) == ("text", "text/markdown", web.url("/g"))
        assert guide.data == b"# Guide\n\n## Install\n\nRun **pip**."
        assert one(web.url("/p"), tmp_path).kind == "pdf"
        assert one(web.url("/i"), tmp_path).media_type == "image/png"
        assert one(web.url("/t"), tmp_path).data == b"just text"


def test_url_failures_are_network_errors_and_unknown_content_a_usage_error(tmp_path: Path) -> None:
    with web_server({"/slow": Page(b"late", delay_s=3), "/big": Page(b"x" * 2000, "text/plain"),
                     "/liar": Page(b"x" * 10, "text/plain", length=10**9),
                     "/zip": Page(b"PK\x03\x04\x00\x00", "application/zip")}) as web:  # fmt: skip
        for path, expected in (("/missing", "HTTP 404"), ("/slow", "no complete answer within 0.5 s"),
                               ("/big", "larger than the per-file limit"), ("/liar", "larger than")):  # fmt: skip
            with pytest.raises(FetchError) as info:
                read_inputs([web.url(path)], Limits(max_file_bytes=1000, url_timeout_s=0.5))
            assert expected in str(info.value) and info.value.exit_code == 5
        assert refused(web.url("/zip"), tmp_path) == f"{web.url('/zip')}: unknown media type application/zip"
    with pytest.raises(FetchError, match="cannot fetch"):
        read_inputs([web.url("/gone")], Limits(url_timeout_s=2))  # the server is closed: refused


def test_html_to_markdown_drops_what_is_not_content() -> None:
    page = b"<nav>menu</nav><h1>T</h1><ul><li>a</li><li>b</li></ul><footer>f</footer>"
    assert html_to_markdown(page) == "# T\n\n- a\n- b"


def test_limits_come_from_the_attachments_table(tmp_path: Path) -> None:
    from agentchat.config import Config

    config = Config(tmp_path / "c.toml", {"attachments": {"max_file_bytes": 10, "url_timeout": 2}})
    assert limits_from(config) == Limits(max_file_bytes=10, url_timeout_s=2.0)
    with pytest.raises(Exception, match=r"attachments\.max_turn_bytes"):
        limits_from(Config(tmp_path / "c.toml", {"attachments": {"max_turn_bytes": -1}}))
