"""Reading what the user attaches to a prompt (`ask -f`, later the TUI's picker): files,
directories, URLs and stdin become AttachmentParts carrying their bytes, ready to be stored.

Everything is checked here, before the engine stores or sends anything: a missing or unreadable
file, a directory with nothing usable, an unknown media type, a broken image, an encrypted PDF, a
URL that fails: each is one line naming the input (UsageError, exit 2; a URL's network failure is
FetchError, exit 5). Whether the chosen model can take what was attached is the engine's check,
since only it knows the model.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from agentchat.core import images, pdfs
from agentchat.core.errors import ConfigError, UsageError
from agentchat.core.messages import AttachmentPart

if TYPE_CHECKING:
    from agentchat.config import Config

MiB = 1024 * 1024
STDIN = "-"
_TEXT_SAMPLE = 8192
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp"}
# Text types that mimetypes names outside text/* (kept as the attachment's media type).
_TEXT_APPLICATION = {
    "application/json", "application/xml", "application/javascript", "application/x-sh",
    "application/toml", "application/yaml", "application/x-yaml", "application/sql",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Limits:
    """Byte caps ([attachments] in the config). A file over `max_file_bytes` or a turn over
    `max_turn_bytes` is refused; a directory stops taking files at `max_dir_bytes`."""

    max_file_bytes: int = 20 * MiB
    max_turn_bytes: int = 50 * MiB
    max_dir_bytes: int = 10 * MiB
    max_dir_files: int = 1000
    url_timeout_s: float = 20.0


def limits_from(config: Config) -> Limits:
    """`[attachments]`: the only config read of intake (kept in one place to move easily)."""
    table = config.section("attachments")
    values: dict[str, int | float] = {}
    for key in ("max_file_bytes", "max_turn_bytes", "max_dir_bytes", "max_dir_files", "url_timeout"):
        value = table.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError(f"attachments.{key} must be a positive number")
        if key == "url_timeout":
            values["url_timeout_s"] = float(value)
        elif not isinstance(value, int):
            raise ConfigError(f"attachments.{key} must be a whole number")
        else:
            values[key] = value
    return Limits(**values)  # type: ignore[arg-type]


@dataclass(slots=True)
class Intake:
    """The attachments of one turn, in the order given, and one summary line per directory."""

    parts: list[AttachmentPart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(p.size for p in self.parts)


def size_text(n: int) -> str:
    for unit, scale in (("MB", 1_000_000), ("KB", 1_000)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def read_inputs(
    sources: list[str],
    limits: Limits | None = None,
    *,
    stdin: BinaryIO | None = None,
    cwd: Path | None = None,
    fetch: Callable[[str, Limits], tuple[bytes, str]] | None = None,
    resource: Callable[[str], list[tuple[str, bytes, str | None]]] | None = None,
) -> Intake:
    """Every `-f` source, in order: `-` (stdin), an http(s) URL, an MCP resource (`mcp:NAME:URI`,
    read by `resource`: [(name, bytes, media type)]), a directory or a file. Relative paths are
    taken from `cwd`; the names stored are the paths as given."""
    limits = limits or Limits()
    intake = Intake()
    seen: set[tuple[str, str]] = set()
    for source in sources:
        if source == STDIN:
            new = [_from_stdin(stdin, limits)]
        elif source.lower().startswith(("http://", "https://")):
            from agentchat.core.urls import read_url

            new = [read_url(source, limits, fetch)]
        elif source.startswith("mcp:") and resource is not None:
            new = [_sized(part_for(name, data, media), limits) for name, data, media in resource(source)]
        else:
            path = Path(source).expanduser()
            if cwd is not None and not path.is_absolute():
                path = cwd / path
            if path.is_dir():
                from agentchat.core.folders import read_folder

                texts, note = read_folder(path, source, limits)
                new = [text_part(name, data) for name, data in texts]
                intake.notes.append(note)
            else:
                new = [part_for(source, read_file(path, source, limits))]
        for part in new:
            if (part.hash, part.name) not in seen:  # the same file named twice is sent once
                seen.add((part.hash, part.name))
                intake.parts.append(part)
        if intake.size > limits.max_turn_bytes:
            raise UsageError(
                f"the attachments come to {size_text(intake.size)}, over the per-turn limit of "
                f"{size_text(limits.max_turn_bytes)} (attachments.max_turn_bytes)"
            )
    return intake


def _sized(part: AttachmentPart, limits: Limits) -> AttachmentPart:
    if part.size > limits.max_file_bytes:
        raise UsageError(_too_big(part.name, part.size, limits))
    return part


def read_file(path: Path, name: str, limits: Limits) -> bytes:
    """A regular file's bytes, refused over the per-file cap before it is read. A pipe or a
    character device (`-f <(cmd)`, `-f /dev/stdin`) is read as `-f -` reads stdin: to its end,
    up to the cap; a terminal, a disk or a socket is refused."""
    try:
        with open(path, "rb", buffering=0) as fh:
            st = os.fstat(fh.fileno())
            if _stream(st.st_mode):
                if os.isatty(fh.fileno()):  # never wait on a person who did not mean to type a file
                    raise UsageError(f"{name}: is a terminal; pipe or redirect something into it")
                return _stream_bytes(_read_to_end(fh, limits.max_file_bytes + 1), name, limits)
            if not _regular(st.st_mode):
                raise UsageError(f"{name}: not a regular file")
            if st.st_size > limits.max_file_bytes:
                raise UsageError(_too_big(name, st.st_size, limits))
            data = fh.read(limits.max_file_bytes + 1)
    except FileNotFoundError:
        raise UsageError(f"{name}: no such file or directory") from None
    except PermissionError:
        raise UsageError(f"{name}: permission denied") from None
    except IsADirectoryError:
        raise UsageError(f"{name}: is a directory that cannot be read") from None
    except OSError as exc:
        raise UsageError(f"{name}: cannot read: {exc.strerror or exc}") from None
    if len(data) > limits.max_file_bytes:  # it grew while being read
        raise UsageError(_too_big(name, len(data), limits))
    return data


def _regular(mode: int) -> bool:
    import stat

    return stat.S_ISREG(mode)


def _stream(mode: int) -> bool:
    import stat

    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)


def _read_to_end(fh: BinaryIO, most: int) -> bytes:
    """Up to `most` bytes: a pipe's single read returns only what is there yet, so read on."""
    chunks: list[bytes] = []
    size = 0
    while size < most and (chunk := fh.read(min(1 << 16, most - size))):
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _stream_bytes(data: bytes, name: str, limits: Limits) -> bytes:
    """A stream's bytes as read (up to one over the cap), refused when empty or over the cap."""
    if not data:
        raise UsageError(f"{name}: is empty")
    if len(data) > limits.max_file_bytes:
        raise UsageError(_too_big(name, len(data), limits))
    return data


def _too_big(name: str, size: int, limits: Limits) -> str:
    return (
        f"{name}: {size_text(size)} is over the per-file limit of {size_text(limits.max_file_bytes)} "
        "(attachments.max_file_bytes)"
    )


def _from_stdin(stdin: BinaryIO | None, limits: Limits) -> AttachmentPart:
    if stdin is None:
        raise UsageError("-f -: there is no standard input to attach")
    try:
        terminal = stdin.isatty()
    except (OSError, ValueError):
        terminal = False
    if terminal:  # never wait on a person who did not mean to type a file
        raise UsageError("-f -: standard input is a terminal; pipe or redirect something into it")
    try:
        data = stdin.read(limits.max_file_bytes + 1)
    except (OSError, ValueError) as exc:
        raise UsageError(f"-f -: cannot read standard input: {exc}") from None
    if not data:
        raise UsageError("-f -: standard input is empty")
    return part_for("stdin", _stream_bytes(data, "stdin", limits))


def is_text(data: bytes) -> bool:
    """Text is UTF-8 without NUL bytes (a NUL in the first 8 KB is how git tells binaries too)."""
    if b"\x00" in data[:_TEXT_SAMPLE]:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A file cut mid-character by a cap is still text; anything else is not.
        return exc.start >= len(data) - 3 and exc.reason == "unexpected end of data"
    return True


def text_media_type(name: str) -> str:
    guessed, _ = mimetypes.guess_type(name, strict=False)
    if guessed and (guessed.startswith("text/") or guessed in _TEXT_APPLICATION):
        return guessed
    return "text/plain"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def text_part(name: str, data: bytes, media_type: str | None = None) -> AttachmentPart:
    return AttachmentPart(
        "text", media_type or text_media_type(name), name, len(data), digest(data), data=data
    )


def part_for(name: str, data: bytes, declared: str | None = None) -> AttachmentPart:
    """Bytes -> an attachment, by what they are (their signature), not what they are called; a
    name that promises an image or a PDF the bytes are not is a broken file, not text."""
    suffix = Path(name.split("?")[0]).suffix.lower()
    if images.sniff(data) or suffix in _IMAGE_SUFFIXES or (declared or "").startswith("image/"):
        if images.sniff(data) is None:
            other = images.other_image(data)
            if other:
                raise UsageError(f"{name}: unsupported image format {other} (attach {images.SUPPORTED})")
            raise UsageError(f"{name}: broken image (not a {images.SUPPORTED} file)")
        info = images.inspect(name, data)
        return AttachmentPart(
            "image", info.media_type, name, len(data), digest(data), info.width, info.height, data=data
        )
    if pdfs.is_pdf(data) or suffix == ".pdf" or declared == "application/pdf":
        if not pdfs.is_pdf(data):
            raise UsageError(f"{name}: not a readable PDF (no %PDF signature)")
        pages = pdfs.inspect(name, data)
        return AttachmentPart("pdf", "application/pdf", name, len(data), digest(data), pages=pages, data=data)
    other = images.other_image(data)
    if other:
        raise UsageError(f"{name}: unsupported image format {other} (attach {images.SUPPORTED})")
    if is_text(data):
        return text_part(name, data)
    raise UsageError(f"{name}: unknown media type: not UTF-8 text, an image ({images.SUPPORTED}) or a PDF")
