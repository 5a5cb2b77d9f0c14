"""Token counts for a request, before it is sent: exact where a tokenizer is at hand, else an
estimate that is never too low.

Exact: the embedded model counts with its GGUF's own tokenizer, Anthropic with its count-tokens
endpoint (time-limited), OpenAI's own models with their BPE (o200k/cl100k) when the optional
`bpe-openai` package is installed: it ships those files, where tiktoken would download them at
run time, which agentchat never does. Each adapter offers `count_tokens(request)`; None means
it has no tokenizer for this model.

The estimate (everything else, and the first look at every request) counts the pieces a BPE
tokenizer starts from, with a margin, plus a per-message overhead: it errs high (about 1.4x on
English), and only decides when to look closer or to fit, never what a request costs.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable
from functools import cache
from typing import Any

from agentchat.core.messages import (
    AttachmentPart,
    Message,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
)
from agentchat.core.request import ChatRequest, ToolSpec

TextCount = Callable[[str], int]
MESSAGE_OVERHEAD = 8  # role markers and separators: above every chat template we know (4-7)
REQUEST_OVERHEAD = 16  # the reply's priming tokens, a template's preamble
PART_OVERHEAD = 8  # a tool call's or result's wrapping (ids, names, markers)
IMAGE_TOKENS = 1_600  # the most an image costs once a provider has resized it (Anthropic: ~1,590)
PDF_PAGE_TOKENS = 3_000  # Anthropic's upper figure for a page (its text plus the page image)


# The pieces a BPE pre-tokenizer splits text into: words (split where the case changes, a space
# before them included), digit groups, punctuation runs, whitespace runs.
_PIECES = re.compile(r" ?[A-Z]?[a-z]+| ?[A-Z]+(?![a-z])| ?[^\W\d_A-Za-z]+| ?\d{1,3}| ?[^\w\s]+|\s+")
PIECE_MARGIN = 1.3


def _piece_tokens(piece: str) -> int:
    text = piece.lstrip(" ") or piece
    first = text[0]
    if first.isspace() or first.isdigit():
        return 1
    if first.isascii():  # an ASCII word: a token per 6 letters; punctuation: per 2 characters
        return (len(text) + 5) // 6 if first.isalpha() else (len(text) + 1) // 2
    if first.isalpha():  # CJK, Cyrillic, Greek...: up to a token a character
        return len(text)
    return len(text.encode("utf-8", errors="surrogatepass")) * 2 // 3 + 1  # emoji, symbols


def estimate(text: str) -> int:
    """Never fewer tokens than o200k or cl100k use, on prose, code, diffs, JSON, CJK, emoji and
    random base64 alike (tests/test_context_engine.py measures it): the larger of UTF-8 bytes / 3
    and the pre-tokenizer's pieces with a margin. English prose comes out about 1.4x too high."""
    pieces = sum(_piece_tokens(p) for p in _PIECES.findall(text))
    return max(len(text.encode("utf-8", errors="surrogatepass")) // 3, int(pieces * PIECE_MARGIN)) + 1


def _attachment(part: AttachmentPart, count: TextCount) -> int:
    if part.kind == "image":
        return IMAGE_TOKENS
    if part.kind == "pdf":
        return max(part.pages or 1, 1) * PDF_PAGE_TOKENS
    if part.data is not None:
        return count(part.data.decode("utf-8", errors="replace")) + count(part.name) + PART_OVERHEAD
    return PART_OVERHEAD + part.size // 3  # its bytes were not loaded: counted by size


def message_tokens(message: Message, count: TextCount = estimate) -> int:
    """One message's tokens with `count` for its text (the estimate by default)."""
    total = MESSAGE_OVERHEAD
    for part in message.parts:
        if isinstance(part, TextPart | ThinkingPart):
            total += count(part.text) if part.text else 0
            if isinstance(part, ThinkingPart) and (part.signature or part.redacted):
                total += estimate(part.signature or part.redacted or "")
        elif isinstance(part, ToolCallPart):
            total += count(part.name + json.dumps(part.arguments, ensure_ascii=False)) + PART_OVERHEAD
        elif isinstance(part, ToolResultPart):
            total += count(part.content) + PART_OVERHEAD
        elif isinstance(part, AttachmentPart):
            total += _attachment(part, count)
    return total


def tools_tokens(tools: list[ToolSpec], count: TextCount = estimate) -> int:
    """Tool definitions travel with every request that offers them."""
    return sum(
        count(json.dumps([t.name, t.description, t.parameters], ensure_ascii=False)) + PART_OVERHEAD
        for t in tools
    )


def request_tokens(request: ChatRequest, count: TextCount = estimate) -> int:
    """The whole request: system prompt, tools and every message."""
    total = REQUEST_OVERHEAD + tools_tokens(request.tools, count)
    if request.system:
        total += count(request.system) + MESSAGE_OVERHEAD
    return total + sum(message_tokens(m, count) for m in request.messages)


# --- OpenAI's own models: their BPE, offline, when bpe-openai is installed ----------------------

_O200K_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "gpt-6", "o1", "o3", "o4", "chatgpt-4o")
_CL100K_PREFIXES = ("gpt-4", "gpt-3.5")


def openai_encoding_name(model: str) -> str | None:
    """The BPE an OpenAI model uses; None for a model we do not know the tokenizer of."""
    name = model.lower()
    if name.startswith(_O200K_PREFIXES):
        return "o200k_base"
    if name.startswith(_CL100K_PREFIXES):
        return "cl100k_base"
    return None


@cache
def _encoding(name: str) -> Any:
    # Importing it reads its data through a deprecated importlib.resources call: not our warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import bpe_openai  # type: ignore[import-untyped]  # ships no type information
        except ImportError:
            return None
        return bpe_openai.get_encoding(name)


def openai_counter(model: str) -> TextCount | None:
    """An exact text counter for one of OpenAI's models, or None (unknown model, no bpe-openai)."""
    name = openai_encoding_name(model)
    encoding = _encoding(name) if name else None
    if encoding is None:
        return None
    return lambda text: len(encoding.encode_ordinary(text))
