"""`agentchat serve`: the gateway (src/agentchat/gateway) behind a command line.

Parsed with argparse like `ask` (`--token` takes an optional value, which Typer cannot express).
stdout gets the base URL clients use (and a generated token, once); stderr the rest.
"""

from __future__ import annotations

import argparse
import sys

from agentchat.cli.common import run_guarded

EPILOG = (
    "Clients send the token as 'Authorization: Bearer TOKEN' (or Anthropic's x-api-key); requests go "
    "to the conversation named by the X-Agentchat-Conversation header (else OpenAI's `user`, "
    "Anthropic's metadata.user_id). Exit codes: 0 stopped, 2 usage (a public address without a "
    "token, a taken port)."
)


def build_parser() -> argparse.ArgumentParser:
    from agentchat.gateway.server import DEFAULT_HOST, DEFAULT_PORT

    p = argparse.ArgumentParser(
        prog="agentchat serve",
        description="Serve agentchat's routing, failover, limits and history over the OpenAI and "
        "Anthropic HTTP APIs: POST /v1/chat/completions, GET /v1/models, POST /v1/messages.",
        epilog=EPILOG,
    )
    p.add_argument("--host", default=DEFAULT_HOST, help=f"Address to listen on (default {DEFAULT_HOST}).")
    p.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"Port (default {DEFAULT_PORT}; 0: any free one)."
    )
    p.add_argument(
        "--token",
        nargs="?",
        const="",
        metavar="TOKEN",
        help="Require this bearer token; alone, generate one and print it once. Required for an "
        "address other than loopback. Default: AGENTCHAT_GATEWAY_TOKEN or [gateway] token, else none.",
    )
    p.add_argument("--no-log", action="store_true", help="Store no request or reply in the history.")
    return p


def main(argv: list[str], config_path: str | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not 0 <= args.port <= 65535:
        from agentchat.cli.common import err

        err("error: --port must be between 0 and 65535")
        return 2
    return run_guarded(lambda: _serve(args, config_path))


def _serve(args: argparse.Namespace, config_path: str | None) -> int:
    from agentchat.cli.common import load
    from agentchat.gateway.server import new_token, serve

    config = load(config_path)
    token = args.token or config.gateway.token
    generated = args.token == ""
    if generated:
        token = new_token()

    def announce(url: str) -> None:
        print(f"agentchat serve: {url}/v1 (OpenAI and Anthropic APIs); Ctrl-C stops", flush=True)
        if generated:
            print(f"token: {token}  (shown once; clients send Authorization: Bearer TOKEN)", flush=True)
        if args.no_log:
            sys.stderr.write("agentchat serve: --no-log: nothing is stored in the history\n")

    return serve(config, host=args.host, port=args.port, token=token, no_log=args.no_log, announce=announce)
