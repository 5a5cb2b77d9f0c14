"""A client's request, in either wire format, as the neutral turn the engine runs: the messages it
sent (the whole history, as OpenAI and Anthropic clients send it), and what it chose for the turn
as `ask`'s flags would (`Choices`: the system prompt, sampling, streaming, the tools it runs
itself). Anything malformed is a `UsageError` naming the field (HTTP 400)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from agentchat.core.agents import Choices
from agentchat.core.errors import UsageError
from agentchat.core.messages import Message, Part, TextPart, ThinkingPart, ToolCallPart, ToolResultPart
from agentchat.core.request import ToolSpec
from agentchat.core.structured import checked_schema


@dataclass(slots=True, kw_only=True)
class ClientTurn:
    """One request of a gateway client, provider-neutral."""

    model: str | None  # None: the default model, as `ask` without -m
    messages: list[Message]  # system messages excluded: they are `choices.system`
    choices: Choices = field(default_factory=lambda: Choices(stream=False))
    include_usage: bool = False  # OpenAI's stream_options.include_usage
    user: str | None = None  # OpenAI `user`, Anthropic `metadata.user_id`: names a conversation


def _client_turn(
    body: dict[str, Any], messages: list[Message], tools: list[ToolSpec], **choices: Any
) -> ClientTurn:
    """What both wire formats share: the model, the history (ending with the user's turn), the
    client's tools, temperature and streaming; `choices`: the rest of what it chose."""
    return ClientTurn(
        model=_model(body),
        messages=_tail_check(messages),
        choices=Choices(
            temperature=_number(body, "temperature", float),
            stream=bool(body.get("stream")),
            client_tools=tools,
            **choices,
        ),
    )


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UsageError(f"{where} must be a JSON object")
    return value


def _number(body: dict[str, Any], key: str, kind: type) -> Any:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else int):
        raise UsageError(f"`{key}` must be a number" if kind is float else f"`{key}` must be an integer")
    return value


def _text(content: Any, where: str) -> str:
    """A content field as text: a string, or the text of a list of parts (images are refused:
    the gateway does not take attachments yet)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise UsageError(f"{where} must be a string or a list of content parts")
    texts = []
    for part in content:
        if not isinstance(part, dict) or part.get("type") not in ("text", "input_text"):
            kind = part.get("type") if isinstance(part, dict) else type(part).__name__
            raise UsageError(f"{where}: content parts of type {kind!r} are not supported (text only)")
        texts.append(str(part.get("text", "")))
    return "\n".join(texts)


def _arguments(raw: Any, where: str) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw or "{}")
    except (TypeError, ValueError):
        raise UsageError(f"{where}: tool call arguments are not JSON") from None
    if not isinstance(value, dict):
        raise UsageError(f"{where}: tool call arguments must be a JSON object")
    return value


def _model(body: dict[str, Any]) -> str | None:
    """The model asked for; none (or "default") routes as `ask` without -m does."""
    model = body.get("model")
    if model is not None and not isinstance(model, str):
        raise UsageError("`model` must be a model name (GET /v1/models lists them)")
    model = (model or "").strip()
    return None if model in ("", "default") else model


def _body_and_messages(body: Any) -> tuple[dict[str, Any], list[Any]]:
    """The request body as an object, and its `messages` as sent."""
    body = _object(body, "the request body")
    raw = body.get("messages")
    if not isinstance(raw, list):
        raise UsageError("`messages` must be a list")
    return body, raw


def _tail_check(messages: list[Message]) -> list[Message]:
    if not messages:
        raise UsageError("`messages` must hold at least one user message")
    if messages[-1].role == "assistant":
        raise UsageError("the last message must be the user's (or tool results), not the assistant's")
    return messages


# --- OpenAI Chat Completions ----------------------------------------------------------------------


def from_openai(request: Any) -> ClientTurn:
    body, raw = _body_and_messages(request)
    system: list[str] = []
    messages: list[Message] = []
    names: dict[str, str] = {}  # call id -> tool name, for the results that follow
    for i, item in enumerate(raw):
        where = f"messages[{i}]"
        item = _object(item, where)
        role = item.get("role")
        if role in ("system", "developer"):
            system.append(_text(item.get("content"), where))
        elif role == "user":
            messages.append(Message.user(_text(item.get("content"), where)))
        elif role == "assistant":
            parts: list[Part] = []
            text = _text(item.get("content"), where)
            if text:
                parts.append(TextPart(text))
            for call in item.get("tool_calls") or []:
                call = _object(call, f"{where}.tool_calls")
                function = _object(call.get("function"), f"{where}.tool_calls.function")
                name = str(function.get("name", ""))
                names[str(call.get("id"))] = name
                parts.append(
                    ToolCallPart(str(call.get("id")), name, _arguments(function.get("arguments"), where))
                )
            messages.append(Message(role="assistant", parts=parts))
        elif role == "tool":
            call_id = str(item.get("tool_call_id", ""))
            result = ToolResultPart(call_id, _text(item.get("content"), where), name=names.get(call_id))
            if messages and messages[-1].role == "tool":  # one stored message holds a step's results
                messages[-1].parts.append(result)
            else:
                messages.append(Message(role="tool", parts=[result]))
        else:
            raise UsageError(f"{where}: unknown role {role!r}")
    tools = []
    for i, tool in enumerate(body.get("tools") or []):
        function = _object(_object(tool, f"tools[{i}]").get("function"), f"tools[{i}].function")
        if not function.get("name"):
            raise UsageError(f"tools[{i}].function.name is required")
        parameters = function.get("parameters") or {"type": "object", "properties": {}}
        tools.append(ToolSpec(str(function["name"]), str(function.get("description") or ""), parameters))
    max_tokens = _number(body, "max_completion_tokens", int) or _number(body, "max_tokens", int)
    system_text = "\n\n".join(system) or None
    turn = _client_turn(
        body, messages, tools, system=system_text, max_tokens=max_tokens, schema=_response_format(body)
    )
    options = body.get("stream_options") or {}
    turn.include_usage = bool(isinstance(options, dict) and options.get("include_usage"))
    turn.user = body.get("user") if isinstance(body.get("user"), str) else None
    return turn


def _response_format(body: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON Schema a reply must match: `json_schema`'s own, any JSON object for `json_object`,
    none for `text`. The turn then runs as `ask --schema` does (core.structured): the provider's
    native structured output, the reply validated and asked again once with the errors."""
    spec = body.get("response_format")
    if spec is None:
        return None
    kind = _object(spec, "response_format").get("type")
    if kind in (None, "text"):
        return None
    if kind == "json_object":
        return {"type": "object"}
    if kind != "json_schema":
        raise UsageError(f"response_format.type must be text, json_object or json_schema, not {kind!r}")
    inner = _object(spec.get("json_schema"), "response_format.json_schema")
    return checked_schema(inner.get("schema"), "json_schema.schema", "response_format")


# --- Anthropic Messages ---------------------------------------------------------------------------


def _anthropic_blocks(content: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if not isinstance(content, list):
        raise UsageError(f"{where}.content must be a string or a list of blocks")
    return [_object(block, f"{where}.content") for block in content]


def _anthropic_message(item: dict[str, Any], where: str) -> list[Message]:
    role = item.get("role")
    blocks = _anthropic_blocks(item.get("content"), where)
    if role == "assistant":
        parts: list[Part] = []
        for block in blocks:
            kind = block.get("type")
            if kind == "text":
                parts.append(TextPart(str(block.get("text", ""))))
            elif kind == "thinking":
                parts.append(ThinkingPart(str(block.get("thinking", "")), signature=block.get("signature")))
            elif kind == "redacted_thinking":
                parts.append(ThinkingPart("", redacted=str(block.get("data", ""))))
            elif kind == "tool_use":
                args = _arguments(block.get("input"), where)
                parts.append(ToolCallPart(str(block.get("id")), str(block.get("name")), args))
            else:
                raise UsageError(f"{where}: content blocks of type {kind!r} are not supported")
        return [Message(role="assistant", parts=parts)]
    if role != "user":
        raise UsageError(f"{where}: role must be user or assistant, not {role!r}")
    results = [b for b in blocks if b.get("type") == "tool_result"]
    texts = [b for b in blocks if b.get("type") != "tool_result"]
    out = []
    if results:
        out.append(
            Message(
                role="tool",
                parts=[
                    ToolResultPart(
                        str(b.get("tool_use_id")),
                        _text(b.get("content"), f"{where}.tool_result"),
                        bool(b.get("is_error")),
                    )
                    for b in results
                ],
            )
        )
    if texts:
        out.append(Message.user(_text(texts, where)))
    return out


def from_anthropic(request: Any) -> ClientTurn:
    body, raw = _body_and_messages(request)
    messages: list[Message] = []
    for i, item in enumerate(raw):
        messages += _anthropic_message(_object(item, f"messages[{i}]"), f"messages[{i}]")
    tools = []
    for i, tool in enumerate(body.get("tools") or []):
        tool = _object(tool, f"tools[{i}]")
        if not tool.get("name") or "input_schema" not in tool:
            raise UsageError(f"tools[{i}]: a client tool needs a name and an input_schema")
        tools.append(ToolSpec(str(tool["name"]), str(tool.get("description") or ""), tool["input_schema"]))
    thinking = body.get("thinking")
    budget = None
    if isinstance(thinking, dict) and thinking.get("type") == "enabled":
        budget = _number(thinking, "budget_tokens", int)
    system = _text(body["system"], "system") or None if body.get("system") is not None else None
    max_tokens = _number(body, "max_tokens", int)
    turn = _client_turn(body, messages, tools, system=system, max_tokens=max_tokens, thinking_budget=budget)
    metadata = body.get("metadata")
    user = metadata.get("user_id") if isinstance(metadata, dict) else None
    turn.user = user if isinstance(user, str) else None
    return turn
