"""Images: what an attached file holds (checked once, at intake) and a copy that fits a provider.

The stored bytes are the user's original; each provider gets a copy no larger than it takes (its
longest edge and bytes limits, in a format it reads), made here with Pillow. Pillow is imported
only when an image is actually looked at, so a turn without images never loads it.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from dataclasses import dataclass

from agentchat.core.errors import UsageError

# The formats every face accepts, by the signature their files start with.
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
SUPPORTED = ", ".join(f.lower() for f in FORMATS)
_CACHE_SIZE = 8


def sniff(data: bytes) -> str | None:
    """The media type of a png, jpeg, gif or webp image from its first bytes; None otherwise."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def other_image(data: bytes) -> str | None:
    """The name of an image format agentchat does not send (bmp, tiff, heic, avif, ico), if it is one."""
    if data.startswith(b"BM"):
        return "bmp"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"avif", b"avis"):
        return "heic/avif"
    if data[:4] == b"\x00\x00\x01\x00":
        return "ico"
    return None


@dataclass(frozen=True, slots=True)
class ImageInfo:
    media_type: str
    width: int
    height: int


def inspect(name: str, data: bytes) -> ImageInfo:
    """Decode the whole image once: a truncated or corrupt file is refused here, at intake, not by
    a provider after the prompt was stored. The media type is the decoder's, not the file name's."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            fmt, width, height = img.format or "", img.width, img.height
    except Image.DecompressionBombError:
        raise UsageError(f"{name}: the image is too large to decode safely") from None
    except UnidentifiedImageError:  # its message names a BytesIO object, which tells the user nothing
        raise UsageError(f"{name}: broken image (no decoder can read it)") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise UsageError(f"{name}: broken image ({_reason(exc)})") from None
    if fmt not in FORMATS:
        raise UsageError(f"{name}: unsupported image format {fmt.lower() or 'unknown'} (attach {SUPPORTED})")
    return ImageInfo(FORMATS[fmt], width, height)


def _reason(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:120] or type(exc).__name__


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """What one provider takes: the longest edge in pixels, the most bytes, and the media types."""

    max_edge: int
    max_bytes: int
    media_types: tuple[str, ...] = tuple(FORMATS.values())


_fitted: OrderedDict[tuple[str, ImageLimits], tuple[bytes, str]] = OrderedDict()


def fit(digest: str, data: bytes, media_type: str, limits: ImageLimits) -> tuple[bytes, str]:
    """The image as `limits` allow: unchanged when it already fits (no decoding at all), else
    scaled down (aspect kept) and, if the format is not taken or the bytes are still too many,
    re-encoded (PNG for a format not taken, then JPEG at falling quality for size). The last few
    results are kept, since the tool loop sends one history several times."""
    if media_type in limits.media_types and len(data) <= limits.max_bytes:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as img:  # reads the header only
            if max(img.size) <= limits.max_edge:
                return data, media_type
    key = (digest, limits)
    if key in _fitted:
        _fitted.move_to_end(key)
        return _fitted[key]
    result = _refit(data, media_type, limits)
    _fitted[key] = result
    while len(_fitted) > _CACHE_SIZE:
        _fitted.popitem(last=False)
    return result


def _refit(data: bytes, media_type: str, limits: ImageLimits) -> tuple[bytes, str]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as source:
        source.seek(0)  # an animated GIF or WebP: its first frame
        img = source.convert("RGBA" if _has_alpha(source) else "RGB")
    img.thumbnail((limits.max_edge, limits.max_edge), Image.Resampling.LANCZOS)
    wanted = media_type if media_type in limits.media_types and media_type != "image/gif" else "image/png"
    if wanted not in limits.media_types:
        wanted = limits.media_types[0]
    out = _encode(img, wanted)
    quality = 85
    while len(out) > limits.max_bytes and "image/jpeg" in limits.media_types:
        if quality > 45:
            quality -= 15
        else:  # the quality is as low as is useful: fewer pixels instead
            img = img.resize(
                (max(1, img.width * 3 // 4), max(1, img.height * 3 // 4)), Image.Resampling.LANCZOS
            )
        wanted = "image/jpeg"
        out = _encode(img.convert("RGB"), wanted, quality)
    return out, wanted


def _has_alpha(img: object) -> bool:
    mode = getattr(img, "mode", "")
    return mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in getattr(img, "info", {}))


def _encode(img: object, media_type: str, quality: int = 85) -> bytes:
    fmt = next(f for f, m in FORMATS.items() if m == media_type)
    buf = io.BytesIO()
    if fmt == "JPEG":
        img = img.convert("RGB")  # type: ignore[attr-defined]
        img.save(buf, format=fmt, quality=quality, optimize=True)  # type: ignore[attr-defined]
    else:
        img.save(buf, format=fmt)  # type: ignore[attr-defined]
    return buf.getvalue()
