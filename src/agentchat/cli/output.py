"""How `ask` writes an answer: plain bytes to a pipe, Rich Markdown to a terminal, or one JSON object.

Only answer text reaches stdout. With tools offered and stdout not a terminal, a message's text is
held until the message ends: narration before a tool call goes to stderr, the final answer to stdout.

Model text may hold escape sequences a terminal obeys (clear the screen, set the title, write the
clipboard): what goes to a terminal and everything on stderr is `clean`ed. A pipe gets the model's
exact text; only lone surrogates, which UTF-8 cannot encode, become U+FFFD there.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from typing import IO, TYPE_CHECKING, Any

from agentchat.cli.common import err, quiet_broken_pipe
from agentchat.core.events import AssistantFinished, AssistantStarted, ContextMeasured, TurnStarted
from agentchat.core.messages import Usage
from agentchat.core.output_limit import LENGTH, cut_notice
from agentchat.core.text import StreamCleaner, clean, encodable

if TYPE_CHECKING:
    from agentchat.core.structured import StructuredReply

EXIT_OUTPUT_FAILED = 1  # stdout refused the answer (`> /dev/full`); the reply is still stored


def stdout_is_terminal() -> bool:
    try:
        return os.isatty(sys.stdout.fileno())
    except (OSError, ValueError):
        return False


def for_stdout(text: str) -> str:
    """A stored conversation (`history show`, `export`): exact in a pipe or a file, where a program
    reads it; without control sequences on a terminal, where a person does."""
    return clean(text) if stdout_is_terminal() else encodable(text)


class TurnSummary:
    """Totals over every model request of a turn, for `--json` and `-u`."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.conversation_id: int | None = None
        self.provider: str | None = None
        self.model: str | None = None
        self.message_id: int | None = None
        self.finish_reason: str | None = None
        self.status: str | None = None  # of the last reply: complete, empty, ...
        self.store_error: str | None = None  # the history could not take the last reply
        self.finished: list[AssistantFinished] = []
        self.ttft_s: float | None = None
        self.usage = Usage()
        # The conversation's size after this turn (the last request plus its reply) and its window.
        self.context_tokens: int | None = None
        self.context_window: int | None = None
        self._sent: int | None = None  # the last request as counted before it was sent
        self.structured: StructuredReply | None = None  # the outcome under `--schema`
        self.max_tokens: int | None = None  # the limit asked for: named when a cut reply does not say its own
        self.unstored = False  # --no-log: the ids are of a scratch store, so none is reported

    def turn_started(self, event: TurnStarted) -> None:
        self.conversation_id = None if self.unstored else event.conversation_id
        self.provider, self.model = event.provider, event.model

    def context_measured(self, event: ContextMeasured) -> None:
        self._sent, self.context_window = event.tokens, event.window
        self.context_tokens = event.tokens

    def end_message(self, event: AssistantFinished) -> None:
        from agentchat.core.turn import total_usage

        sent = event.usage.input_tokens if event.usage.input_tokens is not None else self._sent
        if sent is not None:  # the provider's own count of what was sent, when it reports one
            self.context_tokens = sent + (event.usage.output_tokens or 0)

        self.finished.append(event)
        self.provider, self.model = event.provider, event.model
        self.message_id = None if self.unstored else event.message_id
        self.finish_reason, self.status = event.finish_reason, event.status
        self.store_error = event.store_error
        if self.ttft_s is None and event.ttft_s is not None:
            self.ttft_s = event.ttft_s
        self.usage = total_usage([f.usage for f in self.finished])

    @property
    def cost(self) -> float | None:
        costs = [f.cost for f in self.finished]
        return None if not costs or None in costs else sum(c for c in costs if c is not None)

    @property
    def saved_usd(self) -> float | None:
        """What prompt caching saved over the turn's requests (core/caching.py); None if unknown."""
        saved = [f.message.saved_usd if f.message is not None else None for f in self.finished]
        return None if not saved or None in saved else sum(s for s in saved if s is not None)

    @property
    def cut(self) -> list[AssistantFinished]:
        """The replies that stopped at their output limit (finish reason `length`)."""
        return [f for f in self.finished if f.finish_reason == LENGTH]

    @property
    def total_s(self) -> float:
        return time.monotonic() - self.started

    def usage_line(self) -> str:
        u = self.usage
        parts = [f"{self.provider}/{self.model}"]
        parts.append(f"tokens in {_n(u.input_tokens)} out {_n(u.output_tokens)}")
        if u.cached_tokens or u.cache_write_tokens:
            saved = self.saved_usd
            parts.append(
                f"cache read {u.cached_tokens or 0} write {u.cache_write_tokens or 0}"
                + (f" saved {'-' if saved < 0 else ''}${abs(saved):.6f}" if saved is not None else "")
            )
        if u.reasoning_tokens:
            parts.append(f"reasoning {u.reasoning_tokens}")
        if self.context_tokens is not None:
            window = f"{self.context_window:,}" if self.context_window else "?"
            parts.append(f"context {self.context_tokens:,}/{window}")
        if self.ttft_s is not None:
            parts.append(f"ttft {self.ttft_s:.2f}s")
        total = self.total_s
        parts.append(f"total {total:.2f}s")
        gen = total - (self.ttft_s or 0.0)
        if u.output_tokens and gen > 0:
            parts.append(f"{u.output_tokens / gen:.1f} tok/s")
        cost = self.cost
        parts.append(f"${cost:.6f}" if cost is not None else "cost unknown")
        return " · ".join(parts)


def _n(value: int | None) -> str:
    return "?" if value is None else str(value)


class AnswerWriter:
    """Plain writer: the model's exact text, flushed as it streams, ending with exactly one newline."""

    def __init__(
        self, out: IO[str], err: IO[str], *, hold_messages: bool, show_usage: bool, schema: bool = False
    ) -> None:
        self.out, self.err = out, err
        self.hold = hold_messages
        self.show_usage = show_usage
        self.schema = schema  # `--schema`: stdout gets the validated JSON only, never the raw reply
        self.indent: int | None = None  # the JSON's indent (a terminal: 2; a pipe: one line)
        self.summary = TurnSummary()
        self._held: list[str] = []
        self._trailing = ""  # newlines held back so the answer ends with exactly one
        self._wrote_answer = False
        self._thinking_open = False
        self._thinking = StreamCleaner()  # thinking streams to stderr in pieces
        self.write_error: str | None = None  # stdout refused the answer (a full disk): told at the end

    # --- events ---------------------------------------------------------------------------------
    def turn_started(self, event: TurnStarted) -> None:
        self.summary.turn_started(event)

    def start_message(self, event: AssistantStarted) -> None:
        self._held = []

    def text(self, text: str) -> None:
        self._close_thinking()
        if self.schema:
            return
        if self.hold:
            self._held.append(text)
        else:
            self.emit(text)

    def thinking(self, text: str) -> None:
        if text:
            self.err.write(self._thinking.feed(text))
            self.err.flush()
            self._thinking_open = True

    def end_message(self, event: AssistantFinished) -> None:
        self.summary.end_message(event)
        if not self.hold:
            return
        text, self._held = "".join(self._held), []
        if event.finish_reason == "tool_calls":
            if text.strip():
                self.err.write(clean(text.rstrip("\n")) + "\n")
        else:
            self.emit(text)

    def structured(self, result: StructuredReply) -> None:
        """The reply under a schema: its JSON is the answer when valid (the face reports errors)."""
        self.summary.structured = result
        if result.valid:
            self.emit(inert_json(json.dumps(result.parsed, ensure_ascii=False, indent=self.indent)))

    def finish(self) -> None:
        self._close_thinking()
        self.end_answer()
        for reply in self.summary.cut:
            self.err.write(f"agentchat: {cut_notice(reply.max_tokens or self.summary.max_tokens)}\n")
        if self.show_usage:
            self.err.write(clean(self.summary.usage_line()) + "\n")
        self.err.flush()

    def output_failed(self) -> int | None:
        """After the turn: exit 1 when stdout could not take the answer, said in one line (not an
        internal error: stdout failed, as the history's disk can); the reply was stored as usual."""
        if self.write_error is None:
            return None
        err(f"cannot write the answer: {self.write_error}")
        return EXIT_OUTPUT_FAILED

    def abort(self) -> None:
        """Ctrl-C: keep what was shown, end the line."""
        try:
            if self._wrote_answer:
                self.out.write("\n")
                self.out.flush()
        except (BrokenPipeError, ValueError):
            pass

    # --- output -------------------------------------------------------------------------------
    def _close_thinking(self) -> None:
        if self._thinking_open:
            self.err.write(self._thinking.flush() + "\n")
            self._thinking_open = False

    def emit(self, text: str) -> None:
        if not text:
            return
        body = text.rstrip("\n")
        if not body:
            self._trailing += text
            return
        self.write(self._trailing + body)
        self._trailing = text[len(body) :]
        self._wrote_answer = True

    def write(self, text: str) -> None:
        """Out to stdout now. A stdout that fails (not a reader gone: that ends the turn) is noted
        and the turn goes on, so the reply is stored as usual; `ask` says so once it is done."""
        if self.write_error is not None:
            return
        try:
            try:
                self.out.write(text)
            except UnicodeEncodeError:  # nothing was written: the text is encoded before it is buffered
                self.out.write(encodable(text))
            self.out.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            self.write_error = exc.strerror or str(exc)
            quiet_broken_pipe()  # what is still buffered must not fail again at exit

    def end_answer(self) -> None:
        if self._wrote_answer:
            self.write("\n")


class RichWriter(AnswerWriter):
    """A terminal: the answer rendered as Markdown, live, with Rich (which honours NO_COLOR).
    Each frame renders the whole text so far, cleaned whole: a sequence split across two tokens
    is removed once it is complete, never half."""

    def __init__(self, out: IO[str], err: IO[str], **kwargs: Any) -> None:
        super().__init__(out, err, **kwargs)
        from rich.console import Console

        self.console = Console(file=out)
        self._buffer = ""
        self._live: Any = None

    def write(self, text: str) -> None:
        from rich.live import Live
        from rich.markdown import Markdown

        self._buffer += text
        if self._live is None:
            self._live = Live(
                Markdown(clean(self._buffer)),
                console=self.console,
                refresh_per_second=12,
                vertical_overflow="visible",
            )
            self._live.start()
        else:
            self._live.update(Markdown(clean(self._buffer)))

    def end_answer(self) -> None:
        if self._live is not None:
            from rich.markdown import Markdown

            self._live.update(Markdown(clean(self._buffer)), refresh=True)
            self._live.stop()
            self._live = None

    def abort(self) -> None:
        self.end_answer()


class JsonWriter(AnswerWriter):
    """`--json`: nothing streams; one object with the answer and its metadata at the end."""

    def __init__(self, out: IO[str], err: IO[str], **kwargs: Any) -> None:
        super().__init__(out, err, **kwargs)
        self._answer: list[str] = []

    def emit(self, text: str) -> None:
        self._answer.append(text)

    def start_message(self, event: AssistantStarted) -> None:
        super().start_message(event)
        if not self.hold:
            self._answer = []  # only the final message is the answer

    def end_answer(self) -> None:
        s = self.summary
        payload: dict[str, Any] = {
            "text": "".join(self._answer),
            "provider": s.provider,
            "model": s.model,
            "conversation_id": s.conversation_id,
            "message_id": s.message_id,
            "finish_reason": s.finish_reason,
            "status": s.status,
            "usage": {"input_tokens": s.usage.input_tokens, "output_tokens": s.usage.output_tokens},
            "context_tokens": s.context_tokens,
            "context_window": s.context_window,
            "truncated": bool(s.cut),  # a reply stopped at its output limit (finish_reason "length")
            "cache_read_tokens": s.usage.cached_tokens,
            "cache_write_tokens": s.usage.cache_write_tokens,
            "saved_usd": s.saved_usd,
            "timings": {"ttft_s": _round(s.ttft_s), "total_s": _round(s.total_s)},
            "cost": s.cost,
        }
        if s.structured is not None:  # `--schema`: the parsed object, or why there is none
            payload["text"] = s.structured.text
            payload["parsed"] = s.structured.parsed
            if s.structured.errors:
                payload["errors"] = s.structured.errors
        self.write(json_line(payload) + "\n")

    def abort(self) -> None:
        pass


_JSON_RAW = re.compile(r"[\x7f-\x9f\ud800-\udfff]")  # json.dumps escapes C0 itself


def inert_json(text: str) -> str:
    """JSON text with the same data: DEL, C1 controls and lone surrogates written as `\\u`
    escapes (as ensure_ascii would), so a terminal showing it obeys nothing and a lone surrogate
    does not fail the write; all other text stays as it is. (Raw, they can only be in strings.)"""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def json_line(payload: Any) -> str:
    return inert_json(json.dumps(payload, ensure_ascii=False))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def make_writer(
    *, as_json: bool, hold_messages: bool, show_usage: bool, terminal: bool, schema: bool = False
) -> AnswerWriter:
    cls: type[AnswerWriter]
    if as_json:
        cls = JsonWriter
    elif terminal and not schema:  # JSON under a schema is written as JSON, not rendered Markdown
        cls = RichWriter
    else:
        cls = AnswerWriter
    writer = cls(sys.stdout, sys.stderr, hold_messages=hold_messages, show_usage=show_usage, schema=schema)
    writer.indent = 2 if terminal and schema else None
    return writer
