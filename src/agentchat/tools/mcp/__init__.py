"""The MCP client: servers over stdio, Streamable HTTP or SSE, their tools, resources and prompts.

connect.py opens a connection and explains a failure; server.py is one live server; manager.py
the session's servers; results.py a tool result as the model reads it; elicit.py a server asking
the user; context.py resources and prompts for the faces (`ask -f mcp:`, `--mcp-prompt`, the TUI);
inventory.py what `agentchat mcp list` and `mcp test` report.
"""

from agentchat.tools.mcp.manager import MCPManager
from agentchat.tools.mcp.server import NEEDS_TASKS, ProgressHook

__all__ = ["NEEDS_TASKS", "MCPManager", "ProgressHook"]
