"""`agentchat serve`: the third face. An OpenAI- and Anthropic-compatible HTTP server whose every
request is a turn of the same engine (routing, retries, failover, limits, budget, history).

Like the CLI it imports the core, config and providers' public API; the core never imports it.
Starlette and uvicorn are imported only by the server itself, so `ask` never pays for them.
"""
