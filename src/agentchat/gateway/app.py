"""The HTTP face (Starlette): OpenAI's `POST /v1/chat/completions` and `GET /v1/models`,
Anthropic's `POST /v1/messages`, each request one engine turn (gateway/service.py).

A streaming reply starts only once the model's first token is there, so a failure before it
(unknown model, missing key, every retry and fallback spent) is a real HTTP error with the API's
error body; a failure after it is the API's error event, and the stream ends. The reply streams in
the request's own task, and a client that hangs up cancels it: the engine stores what came as
interrupted, as it does for Ctrl-C in `ask`.

Headers a client may send: `X-Agentchat-Conversation` (the conversation's name; else OpenAI's
`user`, Anthropic's `metadata.user_id`), `X-Agentchat-Agent` (an agent from the config),
`X-Agentchat-No-Log: 1` (keep nothing). Replies carry `X-Agentchat-Conversation-Id`,
`X-Agentchat-Provider` and `X-Agentchat-Model`.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from agentchat import gc_policy
from agentchat.core.errors import UsageError
from agentchat.core.events import AssistantStarted, Event
from agentchat.gateway.anthropic_out import AnthropicReply
from agentchat.gateway.errors import (
    anthropic_error,
    message_for,
    openai_error,
    server_message,
    status_for,
)
from agentchat.gateway.openai_out import OpenAIReply
from agentchat.gateway.requests import from_anthropic, from_openai
from agentchat.gateway.service import Gateway, Outcome, Routing
from agentchat.gateway.sse import EventStream

CONVERSATION_HEADER = "x-agentchat-conversation"
AGENT_HEADER = "x-agentchat-agent"
NO_LOG_HEADER = "x-agentchat-no-log"
ErrorBody = Callable[[int, str], dict[str, object]]


def _authorized(request: Request, token: str | None) -> bool:
    if token is None:
        return True
    given = request.headers.get("x-api-key") or ""
    auth = request.headers.get("authorization") or ""
    if auth[:7].lower() == "bearer ":
        given = auth[7:].strip()
    return hmac.compare_digest(given.encode(), token.encode())


def _routing(request: Request, user: str | None) -> Routing:
    no_log = (request.headers.get(NO_LOG_HEADER) or "").strip().lower() in ("1", "true", "yes")
    return Routing(
        conversation=request.headers.get(CONVERSATION_HEADER) or user,
        agent=request.headers.get(AGENT_HEADER) or None,
        no_log=no_log,
    )


def _headers(outcome: Outcome, logged: bool) -> dict[str, str]:
    headers = {"x-agentchat-provider": outcome.provider or "", "x-agentchat-model": outcome.model or ""}
    if logged and outcome.conversation_id is not None:
        headers["x-agentchat-conversation-id"] = str(outcome.conversation_id)
    return headers


async def _body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        raise UsageError("the request body is not JSON") from None


async def _started(events: AsyncGenerator[Event, None]) -> AsyncIterator[Event]:
    """Read up to the reply's start (a failure before it is raised here, before any header is
    sent); the events read and the rest, as one stream."""
    head: list[Event] = []
    async for event in events:
        head.append(event)
        if isinstance(event, AssistantStarted):
            break

    async def chained() -> AsyncIterator[Event]:
        try:
            for event in head:
                yield event
            async for event in events:
                yield event
        finally:
            await events.aclose()

    return chained()


def build_app(gateway: Gateway, token: str | None) -> Starlette:
    """The ASGI app; `token`: the bearer token every request must carry (None: no auth)."""

    async def turn(request: Request, anthropic: bool) -> Response | EventStream:
        error_body: ErrorBody = anthropic_error if anthropic else openai_error
        if not _authorized(request, token):
            return JSONResponse(
                error_body(401, "missing or wrong gateway token (Authorization: Bearer TOKEN)"), 401
            )
        events: AsyncGenerator[Event, None] | None = None
        try:
            body = await _body(request)
            client = from_anthropic(body) if anthropic else from_openai(body)
            routing = _routing(request, client.user)
            logged = not (routing.no_log or gateway.no_log)
            outcome = Outcome()
            events = gateway.run(client, routing, outcome)
            reply: OpenAIReply | AnthropicReply = (
                AnthropicReply(outcome, logged=logged, thinking=client.choices.thinking_budget is not None)
                if anthropic
                else OpenAIReply(
                    outcome,
                    logged=logged,
                    include_usage=client.include_usage,
                    validated=client.choices.schema is not None,
                )
            )
            if client.choices.stream:
                stream = await _started(events)
                return EventStream(reply.stream(stream), _headers(outcome, logged))
            async for _ in events:
                pass
        except Exception as exc:
            if events is not None:
                await events.aclose()
            status, told = status_for(exc), message_for(exc)
            if status == 500 or told != server_message(exc):  # the operator sees the paths cut
                gateway.notify(f"error: {server_message(exc)}")
            return JSONResponse(error_body(status, told), status)
        body = reply.message() if isinstance(reply, AnthropicReply) else reply.completion()
        return JSONResponse(body, headers=_headers(outcome, logged))

    async def chat_completions(request: Request) -> Response | EventStream:
        return await turn(request, anthropic=False)

    async def messages(request: Request) -> Response | EventStream:
        return await turn(request, anthropic=True)

    async def models(request: Request) -> Response:
        if not _authorized(request, token):
            return JSONResponse(openai_error(401, "missing or wrong gateway token"), 401)
        rows = await gateway.models()
        data = [
            {
                "id": model,
                "object": "model",
                "type": "model",  # Anthropic's field names beside OpenAI's: either SDK can list them
                "created": 0,
                "created_at": "1970-01-01T00:00:00Z",
                "display_name": model,
                "owned_by": provider,
            }
            for model, provider in rows
        ]
        first, last = (data[0]["id"], data[-1]["id"]) if data else (None, None)
        return JSONResponse(
            {"object": "list", "data": data, "has_more": False, "first_id": first, "last_id": last}
        )

    routes = [
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/messages", messages, methods=["POST"]),
        Route("/v1/models", models, methods=["GET"]),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        gc_policy.startup_done()  # the server's modules live as long as it: out of collections
        yield
        await gateway.aclose()  # provider clients close on the loop that opened them

    return Starlette(routes=routes, lifespan=lifespan)
