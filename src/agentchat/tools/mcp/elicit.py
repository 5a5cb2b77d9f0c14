"""Elicitation: a server asking the user for input in the middle of a call (MCP `elicitation/create`).

The face supplies an `Elicitor` (like the tool approver): the TUI shows a modal, `ask` asks on
/dev/tty and declines, saying so, when there is no terminal. This module turns the SDK's request
into a neutral form (a message and flat, typed fields, the only schemas the spec allows) and the
face's answer back, and checks typed values, so both faces accept and refuse the same input.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from agentchat.core.text import clean

if TYPE_CHECKING:
    from mcp.client.session import ClientRequestContext, ElicitationFnT
    from mcp_types import ElicitRequestParams, ElicitResult

Action = Literal["accept", "decline", "cancel"]
Value = str | int | float | bool | list[str] | None


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    title: str
    description: str = ""
    type: str = "string"  # string | number | integer | boolean | array (a multiple choice)
    required: bool = False
    choices: list[str] = field(default_factory=list)
    default: Value = None


@dataclass(frozen=True, slots=True)
class Elicitation:
    """What the server asks: `message` and the fields to fill, or a URL to open (`url` mode)."""

    server: str
    message: str
    fields: list[Field] = field(default_factory=list)
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    action: Action
    values: dict[str, Value] = field(default_factory=dict)


Elicitor = Callable[[Elicitation], Awaitable[Answer]]


def parse(f: Field, text: str) -> Value:
    """The typed value of what the user typed for a field; ValueError with a message to show."""
    text = text.strip()
    if not text:
        if f.required and f.default is None:
            raise ValueError(f"{f.title} is required")
        return f.default
    if f.type == "array":  # a multiple choice: comma-separated
        items = [item.strip() for item in text.split(",") if item.strip()]
        wrong = [item for item in items if f.choices and item not in f.choices]
        if wrong:
            raise ValueError(f"{f.title}: {', '.join(wrong)} not among {', '.join(f.choices)}")
        return items
    if f.choices and text not in f.choices:
        raise ValueError(f"{f.title} must be one of {', '.join(f.choices)}")
    if f.type == "boolean":
        if text.lower() in ("y", "yes", "true", "1"):
            return True
        if text.lower() in ("n", "no", "false", "0"):
            return False
        raise ValueError(f"{f.title} must be yes or no")
    if f.type in ("integer", "number"):
        try:
            return int(text) if f.type == "integer" else float(text)
        except ValueError:
            raise ValueError(
                f"{f.title} must be {'a whole number' if f.type == 'integer' else 'a number'}"
            ) from None
    return text


def _choices(prop: dict[str, Any]) -> list[Any]:
    """`enum`, or the `const`s of `oneOf`/`anyOf` (titled choices)."""
    options = prop.get("oneOf") or prop.get("anyOf") or []
    return prop.get("enum") or [o.get("const") for o in options if isinstance(o, dict) and "const" in o]


def shown(value: Value) -> str:
    """A default as the user would type it (a multiple choice comma-separated)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def fields_of(schema: dict[str, Any]) -> list[Field]:
    """The form's fields, from its (flat) requested schema; text from the server is cleaned."""
    required = set(schema.get("required") or [])
    out = []
    for name, prop in (schema.get("properties") or {}).items():
        prop = prop if isinstance(prop, dict) else {}
        choices = _choices(prop)
        if not choices and isinstance(prop.get("items"), dict):  # a multiple choice
            choices = _choices(prop["items"])
        out.append(
            Field(
                name=str(name),
                title=clean(str(prop.get("title") or name)),
                description=clean(str(prop.get("description") or "")),
                type=str(prop.get("type") or "string"),
                required=name in required,
                choices=[str(c) for c in choices],
                default=prop.get("default"),
            )
        )
    return out


def request_of(server: str, params: ElicitRequestParams) -> Elicitation:
    url = getattr(params, "url", None)
    schema = getattr(params, "requested_schema", None) or {}
    return Elicitation(server, clean(params.message), [] if url else fields_of(schema), url)


def sdk_callback(server: str, elicitor: Elicitor) -> ElicitationFnT:
    """The SDK's elicitation callback for one server, asking through the face's elicitor."""

    async def callback(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        from mcp_types import ElicitResult

        answer = await elicitor(request_of(server, params))
        content = answer.values if answer.action == "accept" else None
        return ElicitResult(action=answer.action, content=content)

    return callback
