"""Structured output on the Anthropic API (`ask --schema`), two ways.

First choice, the API's structured outputs: `output_config.format` with the schema mapped to the
subset Claude takes by the SDK's own `transform_schema` (objects closed, unsupported constraints
moved into descriptions; the reply is still validated against the schema as written). A request
refused with that (a model without structured outputs, a proxy that does not know the field) is
asked again the older way: one tool whose input schema is the schema, forced with `tool_choice`,
its call turned back into the reply's JSON text, so the engine and the store see a text answer.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from agentchat.core.errors import BadRequestError
from agentchat.core.events import Finish, ProviderEvent, TextDelta, ToolCall
from agentchat.core.request import ChatRequest

FORCED_TOOL = "structured_reply"


def output_config(schema: dict[str, Any]) -> dict[str, Any]:
    return {"format": {"type": "json_schema", "schema": api_schema(schema)}}


def api_schema(schema: dict[str, Any]) -> dict[str, Any]:
    import anthropic

    try:
        return anthropic.transform_schema(schema)
    except (ValueError, TypeError, AssertionError):  # a schema it cannot map: sent as written
        return schema


async def with_fallback(
    stream: Callable[[ChatRequest, dict[str, Any]], AsyncIterator[ProviderEvent]],
    request: ChatRequest,
    params: dict[str, Any],
) -> AsyncIterator[ProviderEvent]:
    """`stream(request, params)`; refused before any token while asking with output_config, the
    same request through a forced tool (a 400 for another reason comes back the same, once more)."""
    try:
        async for event in stream(request, params):
            yield event
    except BadRequestError:
        if request.schema is None:
            raise
        forced = forced_tool_params(params, request.schema)
        async for event in as_text(stream(request, forced), request.schema):
            yield event


def forced_tool_params(params: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The same request asking through a forced tool. Thinking goes: the API refuses it beside a
    forced tool_choice. A tool's input must be an object, so another schema is wrapped in one."""
    forced = {k: v for k, v in params.items() if k not in ("output_config", "thinking")}
    tool = {"name": FORCED_TOOL, "description": "Give the answer.", "input_schema": _object(schema)}
    forced["tools"] = [*params.get("tools", []), tool]
    forced["tool_choice"] = {"type": "tool", "name": FORCED_TOOL}
    return forced


def _object(schema: dict[str, Any]) -> dict[str, Any]:
    if schema.get("type") == "object":
        return schema
    return {"type": "object", "properties": {"value": schema}, "required": ["value"]}


async def as_text(
    events: AsyncIterator[ProviderEvent], schema: dict[str, Any]
) -> AsyncIterator[ProviderEvent]:
    """The forced tool's call as the reply's JSON text; its tool_use stop as an ordinary stop."""
    async for event in events:
        if isinstance(event, ToolCall) and event.call.name == FORCED_TOOL:
            arguments: Any = event.call.arguments
            if schema.get("type") != "object":
                arguments = arguments.get("value")
            yield TextDelta(json.dumps(arguments, ensure_ascii=False))
        elif isinstance(event, Finish) and event.reason == "tool_calls":
            yield Finish("stop")
        else:
            yield event
