"""Prompt caching as the real APIs report it, for the fakes: which part of a request's prompt was
read from the cache, which part was written to it, and the usage counts that say so.

Anthropic (its prompt-caching guide): the prompt is the tools, then the system prompt, then the
messages, block by block; a block carrying `cache_control` is a breakpoint. The prefix ending at a
breakpoint is written to the cache when it holds at least `min_tokens` (1,024 for Sonnet and Opus)
and kept for its TTL (5 minutes, or an hour with `"ttl": "1h"`) from its last use. A request reads
the longest cached prefix that ends at one of its breakpoints or at most 20 blocks before one.
Usage: `cache_read_input_tokens` (read), `cache_creation_input_tokens` (written, with the
`cache_creation` split by TTL) and `input_tokens` (only what follows the last breakpoint). Requests
the real API refuses are refused: more than 4 breakpoints, a breakpoint on a thinking block, a 1-hour
breakpoint after a 5-minute one.

OpenAI (its prompt-caching guide): automatic for prompts of 1,024 tokens or more; the cached part
is the longest prefix seen before, in steps of 128 tokens past the first 1,024, reported as
`usage.prompt_tokens_details.cached_tokens` within `prompt_tokens`.

Tokens are the fakes' own estimate (4 characters a token, base.wire_tokens): the real tokenizers
differ, the arithmetic does not.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from tests.fakes.base import Reply, _strings, sse

LOOKBACK = 20  # blocks before a breakpoint where the API still looks for a hit
TTL_S = {"5m": 300.0, "1h": 3600.0}
_THINKING = ("thinking", "redacted_thinking")


def _tokens(value: Any) -> float:
    return sum(len(s) for s in _strings(value)) / 4


def _digest(parts: list[str]) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


@dataclass
class _Block:
    canonical: str  # the block as the cache sees it: without its cache_control
    tokens: float
    ttl: str | None  # a breakpoint's TTL; None: not a breakpoint
    kind: str


def _blocks(body: dict[str, Any]) -> list[_Block]:
    """The prompt in the order the API caches it: tools, system, messages (4 tokens a message)."""
    out: list[_Block] = []

    def add(block: dict[str, Any], where: str, extra: float = 0.0) -> None:
        control = block.get("cache_control")
        plain = {k: v for k, v in block.items() if k != "cache_control"}
        canonical = where + json.dumps(plain, sort_keys=True)
        ttl = (control.get("ttl") or "5m") if isinstance(control, dict) else None
        out.append(_Block(canonical, _tokens(plain) + extra, ttl, str(block.get("type", "tool"))))

    for tool in body.get("tools") or []:
        add(tool, "tool:")
    system = body.get("system")
    for block in [{"type": "text", "text": system}] if isinstance(system, str) else system or []:
        add(block, "system:")
    for message in body.get("messages") or []:
        content = message.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
        for i, block in enumerate(blocks):
            add(block, f"{message.get('role')}:", 4.0 if i == 0 else 0.0)
    return out


def anthropic_problem(body: dict[str, Any]) -> str | None:
    """What the real API says of cache_control it cannot take."""
    blocks = _blocks(body)
    marks = [b for b in blocks if b.ttl is not None]
    if len(marks) > 4:
        return f"A maximum of 4 blocks with cache_control may be provided. Found {len(marks)}."
    if any(b.kind in _THINKING for b in marks):
        return "messages: cache_control cannot be set for thinking blocks"
    ttls = [b.ttl for b in marks]
    if "5m" in ttls and "1h" in ttls[ttls.index("5m") :]:
        return "a ttl='1h' cache_control block must not come after a ttl='5m' cache_control block"
    return None


@dataclass
class AnthropicCache:
    """The cache of one organisation: prefix digest -> when it expires. `clock` may be moved by a
    test to let entries expire."""

    min_tokens: int = 1024
    clock: Callable[[], float] = time.monotonic
    entries: dict[str, float] = field(default_factory=dict)

    def counts(self, body: dict[str, Any]) -> dict[str, Any]:
        """The input-token fields of the usage this request gets; caches what it writes."""
        blocks = _blocks(body)
        now = self.clock()
        model = str(body.get("model"))
        digests, sizes, running = [], [], 0.0
        for i, block in enumerate(blocks):
            running += block.tokens
            digests.append(_digest([model, *(b.canonical for b in blocks[: i + 1])]))
            sizes.append(int(running))
        marks = [i for i, b in enumerate(blocks) if b.ttl is not None]
        read_end = -1
        for mark in marks:
            for j in range(mark, max(-1, mark - LOOKBACK - 1), -1):
                if self.entries.get(digests[j], -1.0) > now:
                    read_end = max(read_end, j)
                    break
        if read_end >= 0:  # a read refreshes the entry
            self.entries[digests[read_end]] = now + TTL_S[blocks[read_end].ttl or "5m"]
        written = {"5m": 0, "1h": 0}
        done = read_end
        for mark in (m for m in marks if m > read_end):
            if sizes[mark] >= self.min_tokens:
                ttl = blocks[mark].ttl or "5m"
                self.entries[digests[mark]] = now + TTL_S[ttl]
                written[ttl] += sizes[mark] - (sizes[done] if done >= 0 else 0)
                done = mark
        read = sizes[read_end] if read_end >= 0 else 0
        total = int(running)
        return {
            "input_tokens": total - read - written["5m"] - written["1h"],
            "cache_creation_input_tokens": written["5m"] + written["1h"],
            "cache_read_input_tokens": read,
            "cache_creation": {
                "ephemeral_5m_input_tokens": written["5m"],
                "ephemeral_1h_input_tokens": written["1h"],
            },
        }

    def answer(self, body: dict[str, Any], reply: Reply) -> Reply:
        """`reply` with its prompt usage as this cache counts it (a stream and its message form)."""
        counts = self.counts(body)
        message = getattr(reply, "message", None)
        if message is None:  # an error or a hand-made reply: sent as scripted
            return reply
        chunks = [_restamp_frame(chunk, counts) for chunk in reply.chunks]
        usage = {**message["usage"], **counts}
        return replace(reply, chunks=chunks, message={**message, "usage": usage})  # type: ignore[call-arg]


def _restamp_frame(chunk: bytes, counts: dict[str, Any]) -> bytes:
    text = chunk.decode()
    if not text.startswith("event: message_start"):
        return chunk
    event, data = text.split("\n", 1)
    payload = json.loads(data.removeprefix("data: ").strip())
    payload["message"]["usage"] = {**payload["message"]["usage"], **counts}
    return sse(payload, event.removeprefix("event: "))


@dataclass
class OpenAICache:
    """Automatic prefix caching: message-boundary prefixes seen before, per model."""

    min_tokens: int = 1024
    step: int = 128
    seen: set[str] = field(default_factory=set)

    def cached(self, body: dict[str, Any]) -> tuple[int, int]:
        """(prompt tokens, cached tokens) of this request; remembers its prefixes."""
        model = str(body.get("model"))
        parts = [json.dumps(body.get("tools") or [], sort_keys=True)]
        running = _tokens(body.get("tools") or [])
        best = 0
        prefixes = []
        for message in body.get("messages") or []:
            parts.append(json.dumps(message, sort_keys=True))
            running += _tokens(message) + 4
            digest = _digest([model, *parts])
            if digest in self.seen:
                best = int(running)
            prefixes.append(digest)
        self.seen.update(prefixes)
        cached = 0 if best < self.min_tokens else best - (best - self.min_tokens) % self.step
        return int(running), cached

    def answer(self, body: dict[str, Any], reply: Reply) -> Reply:
        completion = getattr(reply, "completion", None)
        if completion is None or "usage" not in completion:
            return reply
        prompt, cached = self.cached(body)
        usage = dict(completion["usage"])
        usage.update(prompt_tokens=prompt, total_tokens=prompt + usage.get("completion_tokens", 0))
        usage["prompt_tokens_details"] = {
            **(usage.get("prompt_tokens_details") or {}),
            "cached_tokens": cached,
        }
        chunks = [_restamp_usage(chunk, usage) for chunk in reply.chunks]
        return replace(reply, chunks=chunks, completion={**completion, "usage": usage})  # type: ignore[call-arg]


def _restamp_usage(chunk: bytes, usage: dict[str, Any]) -> bytes:
    text = chunk.decode()
    if '"usage"' not in text or not text.startswith("data: {"):
        return chunk
    payload = json.loads(text.removeprefix("data: ").strip())
    if not payload.get("usage"):
        return chunk
    payload["usage"] = usage
    return sse(payload)
