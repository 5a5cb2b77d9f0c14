"""Structured output: a reply that must be JSON matching a JSON Schema (`ask --schema`).

The schema travels in the request (`ChatRequest.schema`) and each adapter asks for it natively:
OpenAI and compatible servers `response_format` json_schema (strict where the schema allows),
Anthropic `output_config.format`, Ollama `format`, the embedded llama.cpp model a JSON-schema
grammar. Models still slip (a fenced reply, a missing field, a server that ignores the format), so
the reply is validated here; an invalid one is answered once with the errors, in the same
conversation, and a second failure is the face's exit 7. Any face runs a turn with a schema through
`run_structured`, so the TUI and the gateway get the same retry and the same stored record.

The concise form, as in `llm --schema`: fields separated by commas (or by newlines, when there are
any), each `name [type][: description]` with type one of str, int, float, bool (default str);
every field is required and no other field is allowed.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from agentchat.core.errors import UsageError
from agentchat.core.events import AssistantFinished, Event, Notice, TurnStarted

if TYPE_CHECKING:
    from agentchat.core.store import Store
    from agentchat.core.turn import TurnRequest

EXIT_INVALID = 7  # `ask` exits with it when the reply fails validation twice
CONCISE_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}
_FIELD = re.compile(r"^([A-Za-z_][\w-]*)(?:\s+(\w+))?\s*(?::\s*(.*))?$", re.DOTALL)
_FENCE = re.compile(r"```[\w-]*[ \t]*\n(.*?)\n?[ \t]*```", re.DOTALL)
MAX_ERRORS = 10  # a reply wrong everywhere: the first few say enough, to the user and the model
MAX_ERROR_CHARS = 200


class Engine(Protocol):
    """What a structured turn needs of core.engine.Engine (named here, not imported: the providers
    import this module for strict_compatible, and the engine imports the tools)."""

    store: Store

    def run_turn(self, turn: TurnRequest) -> AsyncGenerator[Event, None]: ...


@dataclass(slots=True)
class StructuredReply:
    """The turn's outcome under a schema: `parsed` is the validated JSON (when `errors` is empty)."""

    message_id: int | None
    text: str  # the JSON as the model wrote it, fences removed
    parsed: Any = None
    errors: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors


def parse_schema(spec: str, cwd: Path | None = None) -> dict[str, Any]:
    """`--schema FILE|JSON|FIELDS` -> a checked JSON Schema; anything else is a UsageError."""
    text = spec.strip()
    if not text:
        raise UsageError("--schema is empty; give a JSON Schema file, inline JSON or 'name str, age int'")
    path = Path(text).expanduser()
    if cwd is not None and not path.is_absolute():
        path = cwd / path
    if not text.startswith("{") and path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--schema: cannot read {spec}: {exc}") from None
        return checked_schema(_load_json(text, spec), spec)
    if text.startswith("{"):
        return checked_schema(_load_json(text, "inline JSON"), "inline JSON")
    return concise_schema(text)


def _load_json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--schema: {where} is not JSON: {exc}") from None


def checked_schema(schema: Any, where: str, option: str = "--schema") -> dict[str, Any]:
    """`schema` when it is a valid JSON Schema, else a UsageError naming `option` (the flag, or a
    gateway request's field) and `where`."""
    from jsonschema import SchemaError, validators  # type: ignore[import-untyped]  # no stubs shipped

    if not isinstance(schema, dict):
        raise UsageError(f"{option}: {where} must be a JSON object (a JSON Schema)")
    try:
        validators.validator_for(schema).check_schema(schema)
    except SchemaError as exc:
        where_in = "/".join(str(p) for p in exc.path) or "(root)"
        raise UsageError(
            f"{option}: {where} is not a valid JSON Schema at {where_in}: {exc.message}"
        ) from None
    return schema


def concise_schema(text: str) -> dict[str, Any]:
    """'name str, age int: in years' -> an object schema; every field required, no others."""
    pieces = text.split("\n") if "\n" in text else text.split(",")
    properties: dict[str, Any] = {}
    for piece in (p.strip() for p in pieces):
        if not piece:
            continue
        match = _FIELD.match(piece)
        if match is None:
            raise UsageError(
                f"--schema: {piece!r} is not a file, JSON, or a field like 'name str' or 'age int: in years'"
            )
        name, kind, description = match.groups()
        if kind is not None and kind not in CONCISE_TYPES:
            types = ", ".join(CONCISE_TYPES)
            raise UsageError(f"--schema: field {name!r} has unknown type {kind!r} (types: {types})")
        prop: dict[str, Any] = {"type": CONCISE_TYPES[kind or "str"]}
        if description and description.strip():
            prop["description"] = description.strip()
        properties[name] = prop
    if not properties:
        raise UsageError("--schema: no fields given")
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def strict_compatible(schema: Any) -> bool:
    """True when OpenAI's strict mode accepts the schema as written: an object root, and every
    object closed (additionalProperties false) with all its properties required. Strict mode is not
    forced onto other schemas: that would make their optional fields required."""
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return False
    return _closed(schema)


def _closed(node: Any) -> bool:
    if isinstance(node, list):
        return all(_closed(n) for n in node)
    if not isinstance(node, dict):
        return True
    if node.get("type") == "object" or "properties" in node:
        props = node.get("properties") or {}
        if node.get("additionalProperties") is not False or set(node.get("required") or []) != set(props):
            return False
    return all(_closed(v) for k, v in node.items() if k not in ("enum", "const", "default", "examples"))


def unfenced(text: str) -> str:
    """The JSON inside a model's reply: a ```json fence (with prose around it or not) is removed."""
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        return stripped
    match = _FENCE.search(stripped)
    return match.group(1).strip() if match else stripped


def check_reply(text: str, schema: dict[str, Any], message_id: int | None = None) -> StructuredReply:
    """Parse and validate a reply; each error is one short line: where, and what is wrong."""
    from jsonschema import validators  # type: ignore[import-untyped]

    body = unfenced(text)
    try:
        parsed = json.loads(body)
    except json.JSONDecodeError as exc:
        return StructuredReply(
            message_id, body, errors=[f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"]
        )
    validator = validators.validator_for(schema)(schema)
    found = sorted(
        validator.iter_errors(parsed), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path)))
    )
    errors = []
    for error in found[:MAX_ERRORS]:
        where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        line = " ".join(f"{where}: {error.message}".split())
        errors.append(line if len(line) <= MAX_ERROR_CHARS else line[: MAX_ERROR_CHARS - 1] + "…")
    if len(found) > MAX_ERRORS:
        errors.append(f"… and {len(found) - MAX_ERRORS} more")
    return StructuredReply(message_id, body, None if errors else parsed, errors)


def feedback(errors: list[str]) -> str:
    """The retry prompt: what was wrong, and what to send instead."""
    lines = "\n".join(f"- {e}" for e in errors)
    return (
        "Your reply did not match the required JSON Schema:\n"
        f"{lines}\n"
        "Reply again with only the corrected JSON: no prose, no code fences."
    )


async def run_structured(engine: Engine, turn: TurnRequest) -> AsyncGenerator[Event | StructuredReply, None]:
    """The engine's turn, validated against `turn.schema` and retried once with the errors; ends with
    a StructuredReply unless the turn ended without a complete answer (an empty reply, an error),
    which the face reports as it always does. Without a schema it is the engine's turn unchanged."""
    schema = turn.schema
    for attempt in (1, 2):
        answer: AssistantFinished | None = None
        conversation_id = turn.conversation_id
        async with aclosing(engine.run_turn(turn)) as events:
            async for event in events:
                if isinstance(event, TurnStarted):
                    conversation_id = event.conversation_id
                    if schema is not None and event.user_message is not None:
                        _record(engine, event.user_message, schema)
                elif isinstance(event, AssistantFinished):
                    answer = event
                yield event
        if schema is None or answer is None or answer.message is None:
            return
        if answer.status != "complete" or answer.store_error or answer.message.tool_calls:
            return
        _record(engine, answer.message, schema)
        result = check_reply(answer.message.text, schema, answer.message_id)
        if result.valid or attempt == 2:
            yield result
            return
        yield Notice(f"the reply did not match the schema ({result.errors[0]}); asking once more")
        turn = replace(
            turn,
            prompt=feedback(result.errors),
            conversation_id=conversation_id,
            parent_id=answer.message_id,
            from_root=False,
            attachments=[],
            history=[],  # a gateway client's messages are stored already, with the first attempt
        )


def _record(engine: Engine, message: Any, schema: dict[str, Any]) -> None:
    """The schema is stored with the message that asked for it and with each reply to it."""
    message.schema = schema
    engine.store.update_message(message)
