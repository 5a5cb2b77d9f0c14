"""An http(s) URL as an attachment: fetched within a time and a size limit, HTML turned into
Markdown (markdownify; scripts, styles and other non-content dropped first), images and PDFs
taken by their content type, other text as it is.

A URL that cannot be fetched, does not answer in time or is too large is a FetchError (exit 5,
like any network failure); what it holds being unusable is a UsageError (exit 2), as for a file.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agentchat.core.errors import AgentchatError, UsageError
from agentchat.core.messages import AttachmentPart

if TYPE_CHECKING:
    from agentchat.core.intake import Limits

USER_AGENT = "agentchat (+https://pypi.org/project/agentchat/)"
_CHUNK = 64 * 1024
_HTML = ("text/html", "application/xhtml+xml")
_DROP = ("script", "style", "noscript", "template", "iframe", "svg", "canvas", "form", "nav", "footer")


class FetchError(AgentchatError):
    """A URL could not be fetched: refused, failed, timed out or too large (a network failure)."""

    exit_code = 5


def fetch(url: str, limits: Limits) -> tuple[bytes, str]:
    """The body and its content type. `url_timeout` bounds the whole fetch, not each read, so a
    server that trickles bytes cannot hold the turn; the body is cut off past the per-file cap."""
    import socket
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + limits.url_timeout_s
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
    opener = _opener()
    try:
        with opener.open(request, timeout=limits.url_timeout_s) as response:
            length = response.headers.get("content-length")
            if length and length.isdigit() and int(length) > limits.max_file_bytes:
                raise FetchError(_too_large(url, limits))
            chunks: list[bytes] = []
            total = 0
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise FetchError(_timed_out(url, limits))
                _set_timeout(response, left)
                chunk = response.read1(_CHUNK) if hasattr(response, "read1") else response.read(_CHUNK)
                if not chunk:
                    break
                total += len(chunk)
                if total > limits.max_file_bytes:
                    raise FetchError(_too_large(url, limits))
                chunks.append(chunk)
            return b"".join(chunks), response.headers.get("content-type") or ""
    except FetchError:
        raise
    except urllib.error.HTTPError as exc:
        raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except TimeoutError:
        raise FetchError(_timed_out(url, limits)) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError | socket.timeout):
            raise FetchError(_timed_out(url, limits)) from None
        raise FetchError(f"{url}: cannot fetch: {getattr(reason, 'strerror', None) or reason}") from None
    except (OSError, ValueError) as exc:  # a connection reset mid-body, a malformed URL or response
        raise FetchError(f"{url}: cannot fetch: {exc}") from None


def _set_timeout(response: Any, seconds: float) -> None:
    sock = getattr(getattr(getattr(response, "fp", None), "raw", None), "_sock", None)
    if sock is not None:
        sock.settimeout(max(seconds, 0.01))


def _timed_out(url: str, limits: Limits) -> str:
    return f"{url}: no complete answer within {limits.url_timeout_s:g} s (attachments.url_timeout)"


def _too_large(url: str, limits: Limits) -> str:
    from agentchat.core.intake import size_text

    return f"{url}: larger than the per-file limit of {size_text(limits.max_file_bytes)} (attachments.max_file_bytes)"


def _opener() -> Any:
    """An opener whose redirects stay on http(s): a page cannot send the fetch to file:// or ftp://."""
    import urllib.error
    import urllib.request

    class HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
            if not newurl.lower().startswith(("http://", "https://")):
                raise urllib.error.URLError(f"redirected to a non-http URL: {newurl[:100]}")
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    return urllib.request.build_opener(HttpOnlyRedirects())


def read_url(
    url: str, limits: Limits, fetcher: Callable[[str, Limits], tuple[bytes, str]] | None = None
) -> AttachmentPart:
    """Fetch `url` and make it an attachment named by the URL."""
    from agentchat.core.intake import part_for, text_part

    data, content_type = (fetcher or fetch)(url, limits)
    media_type, _, params = content_type.partition(";")
    media_type = media_type.strip().lower()
    if not data:
        raise UsageError(f"{url}: the server sent an empty body")
    if media_type in _HTML:
        markdown = html_to_markdown(data, _charset(params))
        if not markdown.strip():
            raise UsageError(f"{url}: the page has no text to attach")
        return text_part(url, markdown.encode("utf-8"), "text/markdown")
    if media_type.startswith(("image/", "application/pdf")):
        return part_for(url, data, media_type)
    try:
        return part_for(url, data, media_type or None)
    except UsageError:
        if media_type:
            raise UsageError(f"{url}: unknown media type {media_type}") from None
        raise


def _charset(params: str) -> str | None:
    found = re.search(r"charset=[\"']?([\w.:-]+)", params, re.IGNORECASE)
    return found.group(1) if found else None


def html_to_markdown(html: bytes, charset: str | None = None) -> str:
    """The page's content as Markdown: its title as a heading, then the body without scripts,
    styles, navigation and the like. BeautifulSoup guesses the encoding when none was declared."""
    from bs4 import BeautifulSoup
    from markdownify import MarkdownConverter

    soup = BeautifulSoup(html, "html.parser", from_encoding=charset)
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if soup.head is not None:
        soup.head.decompose()
    for tag in soup(_DROP):
        tag.decompose()
    body = MarkdownConverter(heading_style="ATX", bullets="-").convert_soup(soup)
    body = re.sub(r"\n[ \t]+\n", "\n\n", body)
    body = re.sub(r"\n{3,}", "\n\n", body).strip()
    return f"# {title}\n\n{body}" if title and title not in body[:200] else body
